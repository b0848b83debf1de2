package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestFaultQueuedThenSuccess(t *testing.T) {
	f := newFixture(t, Options{})
	f.e.QueueFaults(Fault{Status: 503, RetryAfter: "2"}, Fault{Status: 429, RetryAfter: "7"})

	a := f.goodAssertion(t)
	r := f.post(t, tenantID, assertionForm(a), nil)
	checkReply(t, r, 503, CodeServiceError, "")
	if r.header.Get("Retry-After") != "2" || r.body["error"] != "temporarily_unavailable" {
		t.Fatalf("503: Retry-After %q, error %v", r.header.Get("Retry-After"), r.body["error"])
	}
	r = f.post(t, tenantID, assertionForm(a), nil)
	checkReply(t, r, 429, CodeThrottled, "")
	if r.header.Get("Retry-After") != "7" {
		t.Fatalf("429: Retry-After %q", r.header.Get("Retry-After"))
	}
	// Faults strike before validation: the same assertion (same jti) still works.
	checkReply(t, f.post(t, tenantID, assertionForm(a), nil), 200, 0, "")
	if c := f.e.Counts(); c.Token != 3 || c.TokenIssued != 1 {
		t.Fatalf("counts %+v", c)
	}

	// MSAL sees the fault as an error naming the status, then succeeds.
	f.e.QueueFaults(Fault{Status: 500})
	c := f.msal(t, tenantID, f.certCred(t))
	_, err := c.AcquireTokenByCredential(context.Background(), []string{graph})
	if err == nil || !strings.Contains(err.Error(), "500") || !strings.Contains(err.Error(), "AADSTS50000") {
		t.Fatalf("MSAL through a 500: %v", err)
	}
	if _, err := c.AcquireTokenByCredential(context.Background(), []string{graph}); err != nil {
		t.Fatal(err)
	}
}

func TestFaultPermanent(t *testing.T) {
	f := newFixture(t, Options{})
	f.e.SetPermanentFault(&Fault{Status: 502})
	f.e.QueueFaults(Fault{Status: 429})
	checkReply(t, f.post(t, tenantID, secretForm(secret), nil), 429, CodeThrottled, "") // queue first
	for range 3 {
		r := f.post(t, tenantID, secretForm(secret), nil)
		checkReply(t, r, 502, CodeServiceError, "")
		if r.body["error"] != "server_error" {
			t.Fatalf("502 error %v", r.body["error"])
		}
	}
	f.e.SetPermanentFault(nil)
	checkReply(t, f.post(t, tenantID, secretForm(secret), nil), 200, 0, "")
	// Metadata is never faulted: faults are for the token endpoint.
	f.e.SetPermanentFault(&Fault{Status: 500})
	resp, err := f.e.HTTPClient().Get(f.e.URL + "/" + tenantID + "/v2.0/.well-known/openid-configuration")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("metadata under a token fault: %v", err)
	}
	resp.Body.Close()
}

func TestFaultBody(t *testing.T) {
	f := newFixture(t, Options{})
	f.e.QueueFaults(Fault{Body: `{"token_type":"Bearer","access_tok`}, Fault{Status: 502, Body: "<html>bad gateway</html>"})
	r := f.post(t, tenantID, secretForm(secret), nil)
	if r.status != 200 || string(r.raw) != `{"token_type":"Bearer","access_tok` {
		t.Fatalf("truncated body: %d %q", r.status, r.raw)
	}
	r = f.post(t, tenantID, secretForm(secret), nil)
	if r.status != 502 || string(r.raw) != "<html>bad gateway</html>" {
		t.Fatalf("raw body: %d %q", r.status, r.raw)
	}
	f.e.QueueFaults(Fault{Body: "not json"})
	cred := f.certCred(t)
	_, err := f.msal(t, tenantID, cred).AcquireTokenByCredential(context.Background(), []string{graph})
	if err == nil {
		t.Fatal("MSAL accepted a non-JSON token response")
	}
	if c := f.e.Counts(); c.TokenIssued != 0 {
		t.Fatalf("counted %d issued tokens for faulted answers", c.TokenIssued)
	}
}

func TestFaultDrop(t *testing.T) {
	f := newFixture(t, Options{})
	f.e.QueueFaults(Fault{Drop: true})
	req, _ := http.NewRequest(http.MethodPost, f.e.TokenEndpoint(tenantID), strings.NewReader(secretForm(secret).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// A fresh transport, so that no retry on another pooled connection hides the drop.
	tr := f.e.HTTPClient().Transport.(*http.Transport).Clone()
	tr.DisableKeepAlives = true
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("dropped request got a response: %d", resp.StatusCode)
	}
	if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "EOF") && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("drop error %v, want the connection closed", err)
	}
	if c := f.e.Counts(); c.Token != 1 || c.TokenIssued != 0 {
		t.Fatalf("counts %+v", c)
	}
	checkReply(t, f.post(t, tenantID, secretForm(secret), nil), 200, 0, "")
}

func TestFaultDelay(t *testing.T) {
	f := newFixture(t, Options{})
	f.e.QueueFaults(Fault{Delay: 300 * time.Millisecond})
	start := time.Now()
	r := f.post(t, tenantID, secretForm(secret), nil)
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("answered after %s, before the delay", d)
	}
	checkReply(t, r, 200, 0, "") // a delay alone is followed by normal processing

	// Delay then status.
	f.e.QueueFaults(Fault{Delay: 100 * time.Millisecond, Status: 503, RetryAfter: "1"})
	start = time.Now()
	r = f.post(t, tenantID, secretForm(secret), nil)
	if time.Since(start) < 100*time.Millisecond || r.status != 503 {
		t.Fatalf("delay+503: %d after %s", r.status, time.Since(start))
	}

	// The delay gives way to the caller's deadline, and to Close.
	f.e.QueueFaults(Fault{Delay: time.Minute}, Fault{Delay: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.e.TokenEndpoint(tenantID), strings.NewReader(secretForm(secret).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	start = time.Now()
	_, err := f.e.HTTPClient().Do(req)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("deadline: %v after %s", err, time.Since(start))
	}
	done := make(chan error, 1)
	arrivals := f.e.Counts().Token
	go func() {
		req, _ := http.NewRequest(http.MethodPost, f.e.TokenEndpoint(tenantID), strings.NewReader(secretForm(secret).Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := f.e.HTTPClient().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	// Close once the request is in its delay: the token endpoint counts it on arrival.
	for deadline := time.Now().Add(5 * time.Second); f.e.Counts().Token == arrivals; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the delayed request never reached the token endpoint")
		}
	}
	start = time.Now()
	f.e.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a delayed request outlived Close")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %s", d)
	}
}

func TestStartServerAndRequireToken(t *testing.T) {
	f := newFixture(t, Options{})
	const aud = "6dae42f8-4368-4678-94ff-3960e28e3630"
	srv, err := f.e.StartServer(f.e.RequireToken(aud, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := ClaimsFromContext(r.Context())
		if !ok {
			http.Error(w, "no claims", 500)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"appid": c.AppID, "tid": c.TenantID})
	})), "aks.test")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(srv.URL, "https://127.0.0.1:") || !strings.HasSuffix(srv.URL, srv.Host) {
		t.Fatalf("server URL %s host %s", srv.URL, srv.Host)
	}
	tokenFor := func(scope string) string {
		form := secretForm(secret)
		form.Set("scope", scope)
		r := f.post(t, tenantID, form, nil)
		if r.status != 200 {
			t.Fatalf("token: %s", r.raw)
		}
		return r.body["access_token"].(string)
	}
	get := func(set func(*http.Request)) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api", nil)
		set(req)
		resp, err := f.e.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	good := tokenFor(aud + "/.default")
	resp := get(func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+good) })
	var body map[string]string
	json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != 200 || body["appid"] != clientID || body["tid"] != tenantID {
		t.Fatalf("bearer: %d %v", resp.StatusCode, body)
	}
	if resp := get(func(r *http.Request) { r.SetBasicAuth(clientID, good) }); resp.StatusCode != 200 {
		t.Fatalf("basic: %d", resp.StatusCode)
	}
	for name, set := range map[string]func(*http.Request){
		"none":         func(r *http.Request) {},
		"wrong aud":    func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tokenFor(graph)) },
		"not a token":  func(r *http.Request) { r.Header.Set("Authorization", "Bearer abc.def.ghi") },
		"basic secret": func(r *http.Request) { r.SetBasicAuth(clientID, secret) },
	} {
		resp := get(set)
		if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), `Bearer authorization_uri="`+f.e.URL) {
			t.Errorf("%s: %d %q", name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
	// Other servers do not count against the authority.
	if c := f.e.Counts(); c.Total != c.Token {
		t.Fatalf("counts %+v", c)
	}
	f.e.Close()
	if _, err := f.e.HTTPClient().Get(srv.URL); err == nil {
		t.Fatal("server still answering after the emulator closed")
	}
	if _, err := f.e.StartServer(http.NotFoundHandler()); err == nil {
		t.Fatal("StartServer on a closed emulator")
	}
}

// Redirects are answered as they are configured, with the Location and no body, and
// carry nothing of the request onward: following them is the client's choice.
func TestFaultRedirect(t *testing.T) {
	f := newFixture(t, Options{})
	noFollow := &http.Client{
		Transport:     f.e.HTTPClient().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	post := func(u string, form string) *http.Response {
		t.Helper()
		resp, err := noFollow.Post(u, "application/x-www-form-urlencoded", strings.NewReader(form))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	const elsewhere = "https://127.0.0.1:1/elsewhere"
	f.e.QueueFaults(Fault{Redirect: elsewhere}, Fault{Redirect: elsewhere, Status: 302}, Fault{Redirect: elsewhere, Status: 500})
	for _, want := range []int{307, 302, 307} {
		resp := post(f.e.TokenEndpoint(tenantID), secretForm(secret).Encode())
		if resp.StatusCode != want || resp.Header.Get("Location") != elsewhere {
			t.Fatalf("token redirect: %d %q, want %d", resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
	if c := f.e.Counts(); c.Token != 3 || c.TokenIssued != 0 {
		t.Fatalf("counts %+v", c)
	}

	meta := f.e.URL + "/" + tenantID + "/v2.0/.well-known/openid-configuration"
	f.e.SetMetadataRedirect(elsewhere)
	resp, err := noFollow.Get(meta)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 307 || resp.Header.Get("Location") != elsewhere {
		t.Fatalf("metadata redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	f.e.SetMetadataRedirect("")
	if resp, err = noFollow.Get(meta); err != nil || resp.StatusCode != 200 {
		t.Fatalf("metadata after the redirect is cleared: %v", err)
	}
	resp.Body.Close()

	reg, err := f.e.StartRegistry(RegistryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reg.SetExchangeRedirect(elsewhere)
	resp = post(reg.URL+"/oauth2/exchange", exchangeForm(reg.Host, "x").Encode())
	if resp.StatusCode != 307 || resp.Header.Get("Location") != elsewhere {
		t.Fatalf("exchange redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	reg.SetExchangeRedirect("")
	if resp = post(reg.URL+"/oauth2/exchange", exchangeForm(reg.Host, "x").Encode()); resp.StatusCode != 401 {
		t.Fatalf("exchange after the redirect is cleared: %d, want 401 for a bogus token", resp.StatusCode)
	}
	if c := reg.Counts(); c.Exchange != 2 || c.ExchangeIssued != 0 {
		t.Fatalf("registry counts %+v", c)
	}
}
