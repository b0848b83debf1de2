package emulator

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	mi "github.com/AzureAD/microsoft-authentication-library-for-go/apps/managedidentity"
)

const (
	miUserClient   = "0e0e0e0e-1111-4222-8333-444455556666"
	miSystemClient = "5a5a5a5a-1111-4222-8333-444455556666"
	miHeader       = "identity-header-secret"
)

func newMIFixture(t *testing.T) (*fixture, string) {
	t.Helper()
	f := newFixture(t, Options{})
	endpoint := f.e.ManagedIdentity(miHeader,
		ManagedIdentity{System: true, ClientID: miSystemClient, TenantID: tenantID},
		ManagedIdentity{ClientID: miUserClient, TenantID: tenantID, ResourceID: "/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uami"},
	)
	return f, endpoint
}

// MSAL Go's own managed identity client, pointed at the endpoint the way App Service
// does it (IDENTITY_ENDPOINT + IDENTITY_HEADER), gets tokens the emulator's resources take.
func TestManagedIdentityMSAL(t *testing.T) {
	f, endpoint := newMIFixture(t)
	if !strings.HasPrefix(endpoint, "http://127.0.0.1:") || !strings.HasSuffix(endpoint, "/msi/token") {
		t.Fatalf("endpoint %q", endpoint)
	}
	t.Setenv("IDENTITY_ENDPOINT", endpoint)
	t.Setenv("IDENTITY_HEADER", miHeader)
	if src, err := mi.GetSource(); err != nil || src != mi.AppService {
		t.Fatalf("source %q: %v", src, err)
	}
	k, err := f.e.StartKubeAPI()
	if err != nil {
		t.Fatal(err)
	}
	// MSAL's managed identity cache is per process: a resource unique to this emulator keeps
	// a -count=N run from answering out of an earlier run's cache.
	resource := f.e.GraphURL
	for _, tc := range []struct {
		name   string
		id     mi.ID
		client string
	}{
		{"system-assigned", mi.SystemAssigned(), miSystemClient},
		{"user-assigned by client id", mi.UserAssignedClientID(miUserClient), miUserClient},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := mi.New(tc.id, mi.WithHTTPClient(f.e.HTTPClient()), mi.WithRetryPolicyDisabled())
			if err != nil {
				t.Fatal(err)
			}
			res, err := c.AcquireToken(context.Background(), resource+"/.default")
			if err != nil {
				t.Fatalf("AcquireToken: %v", err)
			}
			claims, err := f.e.Validate(res.AccessToken, resource)
			if err != nil || claims.AppID != tc.client || claims.TenantID != tenantID {
				t.Fatalf("claims %+v: %v", claims, err)
			}
			if left := time.Until(res.ExpiresOn); left < 59*time.Minute || left > 61*time.Minute {
				t.Fatalf("expires in %s", left)
			}
			aks, err := c.AcquireToken(context.Background(), AKSServerID)
			if err != nil {
				t.Fatal(err)
			}
			if r := kubeGet(t, f, k, "/version", "", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+aks.AccessToken) }); r.status != 200 {
				t.Fatalf("kube API with a managed identity token: %d %s", r.status, r.body)
			}
		})
	}
	// An identity the resource does not have: HTTP 400, surfaced by MSAL with the body.
	c, err := mi.New(mi.UserAssignedClientID("99999999-1111-4222-8333-444455556666"), mi.WithHTTPClient(f.e.HTTPClient()), mi.WithRetryPolicyDisabled())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AcquireToken(context.Background(), resource); err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "Unable to load the proper Managed Identity") {
		t.Fatalf("unknown identity: %v", err)
	}
	if n := f.e.Counts().ManagedIdentity; n != 5 {
		t.Fatalf("ManagedIdentity count %d, want 5", n)
	}
}

// The protocol itself: what App Service checks and what it answers.
func TestManagedIdentityProtocol(t *testing.T) {
	f, endpoint := newMIFixture(t)
	c := &http.Client{}
	get := func(q url.Values, header string) httpReply {
		t.Helper()
		req, _ := http.NewRequest("GET", endpoint+"?"+q.Encode(), nil)
		if header != "" {
			req.Header.Set("X-IDENTITY-HEADER", header)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		r := httpReply{status: resp.StatusCode}
		r.raw, _ = io.ReadAll(resp.Body)
		json.Unmarshal(r.raw, &r.body)
		return r
	}
	q := func(kv ...string) url.Values {
		v := url.Values{"api-version": {"2019-08-01"}, "resource": {AKSServerID}}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
	r := get(q(), miHeader)
	exp, _ := r.body["expires_on"].(string)
	n, err := strconv.ParseInt(exp, 10, 64)
	if r.status != 200 || err != nil || r.body["resource"] != AKSServerID || r.body["token_type"] != "Bearer" || r.body["client_id"] != miSystemClient {
		t.Fatalf("system-assigned: %d %s", r.status, r.raw)
	}
	if d := time.Until(time.Unix(n, 0)); d < 59*time.Minute || d > 61*time.Minute {
		t.Fatalf("expires_on %s is %s away", exp, d)
	}
	byRes := get(q("mi_res_id", "/SUBSCRIPTIONS/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uami"), miHeader)
	if byRes.status != 200 || byRes.body["client_id"] != miUserClient {
		t.Fatalf("by mi_res_id: %d %s", byRes.status, byRes.raw)
	}
	tok, _ := byRes.body["access_token"].(string)
	if claims, err := f.e.Validate(tok, AKSServerID); err != nil || claims.Raw["xms_mirid"] == nil || claims.Raw["idtyp"] != "app" {
		t.Fatalf("user-assigned claims %+v: %v", claims, err)
	}
	for name, tc := range map[string]struct {
		q      url.Values
		header string
		status int
		want   string
	}{
		"no header":           {q(), "", 401, "X-IDENTITY-HEADER"},
		"wrong header":        {q(), "other", 401, "X-IDENTITY-HEADER"},
		"old api-version":     {q("api-version", "2017-09-01"), miHeader, 400, "api-version"},
		"no resource":         {q("resource", ""), miHeader, 400, "resource"},
		"scope, not resource": {q("resource", AKSServerID+"/.default"), miHeader, 400, "resource"},
		"unknown client id":   {q("client_id", "99999999-1111-4222-8333-444455556666"), miHeader, 400, "Unable to load the proper Managed Identity"},
		"unknown object id":   {q("object_id", "99999999-1111-4222-8333-444455556666"), miHeader, 400, "Unable to load the proper Managed Identity"},
		"two selectors":       {q("client_id", miUserClient, "object_id", "x"), miHeader, 400, "client_id"},
	} {
		if r := get(tc.q, tc.header); r.status != tc.status || !strings.Contains(string(r.raw), tc.want) {
			t.Errorf("%s: %d %s; want %d with %q", name, r.status, r.raw, tc.status, tc.want)
		}
	}
	// No system-assigned identity: asking for it is refused.
	f.e.ManagedIdentity(miHeader, ManagedIdentity{ClientID: miUserClient, TenantID: tenantID})
	if r := get(q(), miHeader); r.status != 400 || !strings.Contains(string(r.raw), "Unable to load the proper Managed Identity") {
		t.Fatalf("no system identity: %d %s", r.status, r.raw)
	}
}
