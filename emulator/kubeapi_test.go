package emulator

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
)

func (f *fixture) kubeToken(t *testing.T, scope string) string {
	t.Helper()
	form := secretForm(secret)
	form.Set("scope", scope)
	r := f.post(t, tenantID, form, nil)
	if r.status != 200 {
		t.Fatalf("token for %s: %s", scope, r.raw)
	}
	return r.body["access_token"].(string)
}

type kubeReply struct {
	status      int
	contentType string
	body        []byte
}

func kubeGet(t *testing.T, f *fixture, k *KubeAPI, path, accept string, set func(*http.Request)) kubeReply {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, k.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	set(req)
	resp, err := f.e.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return kubeReply{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: body}
}

func TestKubeAPIRefusesOtherTokens(t *testing.T) {
	f := newFixture(t, Options{})
	k, err := f.e.StartKubeAPI()
	if err != nil {
		t.Fatal(err)
	}
	if k.CAFile != f.e.CAFile || k.Audience != AKSServerID || !strings.HasPrefix(k.URL, "https://127.0.0.1:") {
		t.Fatalf("KubeAPI %+v", k)
	}
	good := f.kubeToken(t, AKSServerID+"/.default")
	for name, set := range map[string]func(*http.Request){
		"no token":           func(r *http.Request) {},
		"graph token":        func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+f.kubeToken(t, graph)) },
		"not a token":        func(r *http.Request) { r.Header.Set("Authorization", "Bearer abc.def.ghi") },
		"AKS token as Basic": func(r *http.Request) { r.SetBasicAuth(clientID, good) },
		"client secret":      func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+secret) },
	} {
		r := kubeGet(t, f, k, "/api/v1/namespaces/default/pods", "", set)
		var st metav1.Status
		if err := json.Unmarshal(r.body, &st); err != nil {
			t.Fatalf("%s: body %s", name, r.body)
		}
		if r.status != 401 || st.Kind != "Status" || st.Reason != metav1.StatusReasonUnauthorized || st.Code != 401 {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	for _, rec := range k.Requests() {
		if rec.Status != 401 || rec.AppID != "" || rec.Path != "/api/v1/namespaces/default/pods" {
			t.Errorf("recorded %+v", rec)
		}
	}
	if n := len(k.Requests()); n != 5 {
		t.Errorf("%d requests recorded, want 5", n)
	}

	// A cluster with its own server application refuses the AKS audience.
	own, err := f.e.StartKubeAPIFor("api://legacy-aks-server")
	if err != nil {
		t.Fatal(err)
	}
	bearer := func(tok string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}
	if r := kubeGet(t, f, own, "/version", "", bearer(good)); r.status != 401 {
		t.Errorf("AKS token on a legacy cluster: %d", r.status)
	}
	if r := kubeGet(t, f, own, "/version", "", bearer(f.kubeToken(t, "api://legacy-aks-server/.default"))); r.status != 200 {
		t.Errorf("legacy cluster's own token: %d %s", r.status, r.body)
	}
}

func TestKubeAPIResources(t *testing.T) {
	f := newFixture(t, Options{})
	k, err := f.e.StartKubeAPI()
	if err != nil {
		t.Fatal(err)
	}
	tok := f.kubeToken(t, AKSServerID+"/.default")
	auth := func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }

	r := kubeGet(t, f, k, "/version", "", auth)
	var ver map[string]string
	if json.Unmarshal(r.body, &ver); r.status != 200 || ver["major"] != "1" || ver["gitVersion"] == "" {
		t.Errorf("/version: %d %s", r.status, r.body)
	}

	// Pods as JSON: the PodList shape, metadata readable by apimachinery.
	r = kubeGet(t, f, k, "/api/v1/namespaces/default/pods?limit=500", "application/json", auth)
	var list metav1.PartialObjectMetadataList
	if err := json.Unmarshal(r.body, &list); err != nil || r.status != 200 || list.Kind != "PodList" || len(list.Items) != 2 {
		t.Fatalf("pods: %d %v %s", r.status, err, r.body)
	}
	var names []string
	for _, p := range list.Items {
		names = append(names, p.Name)
		if p.Namespace != "default" || p.CreationTimestamp.IsZero() || p.UID == "" {
			t.Errorf("pod metadata %+v", p.ObjectMeta)
		}
	}
	if !slices.Contains(names, "worker-0") {
		t.Errorf("pods %v", names)
	}

	// Pods as the Table kubectl get asks for.
	r = kubeGet(t, f, k, "/api/v1/namespaces/default/pods?limit=500",
		"application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json", auth)
	var table metav1.Table
	if err := json.Unmarshal(r.body, &table); err != nil || table.Kind != "Table" || len(table.Rows) != 2 {
		t.Fatalf("table: %v %s", err, r.body)
	}
	if table.ColumnDefinitions[0].Name != "Name" || table.Rows[0].Cells[0] != "hello-aks-6d4cf56db6-x7k2p" || table.Rows[1].Cells[2] != "Running" {
		t.Errorf("table %+v", table)
	}
	if len(table.Rows[0].Cells) != len(table.ColumnDefinitions) {
		t.Errorf("%d cells for %d columns", len(table.Rows[0].Cells), len(table.ColumnDefinitions))
	}

	// Every namespace, one pod, a missing pod, a wrong method.
	if r = kubeGet(t, f, k, "/api/v1/pods", "", auth); r.status != 200 || !strings.Contains(string(r.body), "coredns") {
		t.Errorf("all pods: %d %s", r.status, r.body)
	}
	if r = kubeGet(t, f, k, "/api/v1/namespaces/kube-system/pods", "", auth); strings.Contains(string(r.body), "worker-0") {
		t.Errorf("kube-system lists default's pods: %s", r.body)
	}
	if r = kubeGet(t, f, k, "/api/v1/namespaces/default/pods/worker-0", "", auth); r.status != 200 || !strings.Contains(string(r.body), `"phase":"Running"`) {
		t.Errorf("get pod: %d %s", r.status, r.body)
	}
	var st metav1.Status
	if r = kubeGet(t, f, k, "/api/v1/namespaces/default/pods/nope", "", auth); json.Unmarshal(r.body, &st) != nil || r.status != 404 || st.Reason != metav1.StatusReasonNotFound {
		t.Errorf("missing pod: %d %s", r.status, r.body)
	}
	req, _ := http.NewRequest(http.MethodDelete, k.URL+"/api/v1/namespaces/default/pods/worker-0", nil)
	auth(req)
	resp, err := f.e.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("DELETE: %d", resp.StatusCode)
	}

	for _, rec := range k.Requests() {
		if rec.AppID != clientID {
			t.Errorf("request %+v: appid %q", rec, rec.AppID)
		}
	}
	k.ResetRequests()
	if len(k.Requests()) != 0 {
		t.Error("ResetRequests kept requests")
	}
}

// TestKubeAPIDiscovery runs client-go's discovery, as kubectl does before `get pods`:
// aggregated (what kubectl 1.30+ asks for first) and legacy.
func TestKubeAPIDiscovery(t *testing.T) {
	f := newFixture(t, Options{})
	k, err := f.e.StartKubeAPI()
	if err != nil {
		t.Fatal(err)
	}
	cfg := &rest.Config{Host: k.URL, BearerToken: f.kubeToken(t, AKSServerID+"/.default"), TLSClientConfig: rest.TLSClientConfig{CAFile: k.CAFile}}
	for _, legacy := range []bool{false, true} {
		k.ResetRequests()
		dc, err := discovery.NewDiscoveryClientForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		dc.UseLegacyDiscovery = legacy
		_, lists, err := dc.ServerGroupsAndResources()
		if err != nil {
			t.Fatalf("legacy=%v: %v", legacy, err)
		}
		found := false
		for _, l := range lists {
			for _, r := range l.APIResources {
				if l.GroupVersion == "v1" && r.Name == "pods" && r.Namespaced && r.Kind == "Pod" && slices.Contains(r.ShortNames, "po") {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("legacy=%v: pods not discovered in %+v", legacy, lists)
		}
		var paths []string
		for _, r := range k.Requests() {
			paths = append(paths, r.Path)
			if r.Status != 200 {
				t.Errorf("legacy=%v: %+v", legacy, r)
			}
		}
		want := []string{"/api", "/apis"}
		if legacy {
			want = []string{"/api", "/api/v1", "/apis"}
		}
		slices.Sort(paths)
		if !slices.Equal(paths, want) {
			t.Errorf("legacy=%v: requests %v, want %v", legacy, paths, want)
		}
		v, err := dc.ServerVersion()
		if err != nil || v.Major != "1" {
			t.Errorf("server version %+v, %v", v, err)
		}
	}
}

func TestAcceptsAggregated(t *testing.T) {
	for accept, want := range map[string]bool{
		discovery.AcceptV2 + "," + discovery.AcceptV1:                               true,
		"application/json; g=apidiscovery.k8s.io; v=v2; as=APIGroupDiscoveryList":   true,
		"application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList": false,
		"application/json": false,
		"":                 false,
	} {
		if got := acceptsAggregated(accept); got != want {
			t.Errorf("acceptsAggregated(%q) = %v", accept, got)
		}
	}
}
