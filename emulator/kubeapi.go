package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// AKSServerID is the application id of the AKS AAD server: the audience of the tokens
// an AKS cluster with Entra integration accepts.
const AKSServerID = "6dae42f8-4368-4678-94ff-3960e28e3630"

// KubeAPI is a small Kubernetes API server over HTTPS, as an AKS cluster with Entra
// integration looks to kubectl: discovery (aggregated v2 when asked, else the legacy
// documents), /version, and pods (list and get, as JSON or as the Table kubectl prints).
// It admits only bearer tokens this emulator issued for its audience.
type KubeAPI struct {
	*Server
	// CAFile is the emulator's CA, the cluster's certificate-authority in a kubeconfig.
	CAFile string
	// Audience is the token audience the server requires (AKSServerID).
	Audience string

	e       *Emulator
	started time.Time
	mu      sync.Mutex
	reqs    []KubeRequest
}

// KubeRequest is one request the Kubernetes API answered.
type KubeRequest struct {
	Method   string
	Path     string
	RawQuery string
	Accept   string
	Status   int
	// AppID is the appid claim of the accepted token; "" when refused.
	AppID string
}

// StartKubeAPI serves a Kubernetes API for the AKS audience beside the authority.
func (e *Emulator) StartKubeAPI() (*KubeAPI, error) {
	return e.StartKubeAPIFor(AKSServerID)
}

// StartKubeAPIFor serves a Kubernetes API that requires tokens for audience (a legacy
// AKS AAD cluster has its own server application).
func (e *Emulator) StartKubeAPIFor(audience string) (*KubeAPI, error) {
	k := &KubeAPI{CAFile: e.CAFile, Audience: audience, e: e, started: e.now()}
	srv, err := e.StartServer(http.HandlerFunc(k.serve), "kubernetes", "kubernetes.default.svc")
	if err != nil {
		return nil, fmt.Errorf("start kube API: %w", err)
	}
	k.Server = srv
	return k, nil
}

// Requests returns the requests answered so far, in order.
func (k *KubeAPI) Requests() []KubeRequest {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]KubeRequest(nil), k.reqs...)
}

// ResetRequests forgets the recorded requests.
func (k *KubeAPI) ResetRequests() {
	k.mu.Lock()
	k.reqs = nil
	k.mu.Unlock()
}

func (k *KubeAPI) serve(w http.ResponseWriter, r *http.Request) {
	rec := KubeRequest{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Accept: r.Header.Get("Accept")}
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		rec.Status = sw.status
		if rec.Status == 0 {
			rec.Status = http.StatusOK
		}
		k.mu.Lock()
		k.reqs = append(k.reqs, rec)
		k.mu.Unlock()
	}()
	// The API server authenticates bearer tokens only; a token in Basic auth is not one.
	auth := r.Header.Get("Authorization")
	if len(auth) <= 7 || !strings.EqualFold(auth[:7], "Bearer ") {
		k.status(sw, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
		return
	}
	c, err := k.e.Validate(strings.TrimSpace(auth[7:]), k.Audience)
	if err != nil {
		k.status(sw, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
		return
	}
	rec.AppID = c.AppID
	k.route(sw, r.WithContext(context.WithValue(r.Context(), claimsKey{}, c)))
}

func (k *KubeAPI) route(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		k.status(w, http.StatusMethodNotAllowed, "MethodNotAllowed", fmt.Sprintf("the server does not allow this method on the requested resource (%s %s)", r.Method, r.URL.Path))
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.URL.Path == "/version":
		k.json(w, "application/json", map[string]any{
			"major": "1", "minor": "32", "gitVersion": "v1.32.6", "gitCommit": "entratool-emulator",
			"gitTreeState": "clean", "buildDate": "2025-06-17T00:00:00Z", "goVersion": "go1.23.10",
			"compiler": "gc", "platform": "linux/amd64",
		})
	case r.URL.Path == "/api":
		k.discovery(w, r, true)
	case r.URL.Path == "/apis":
		k.discovery(w, r, false)
	case r.URL.Path == "/api/v1":
		k.json(w, "application/json", map[string]any{
			"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1",
			"resources": []any{k.podsResource(false)},
		})
	case len(parts) == 5 && parts[0] == "api" && parts[1] == "v1" && parts[2] == "namespaces" && parts[4] == "pods":
		k.listPods(w, r, parts[3])
	case len(parts) == 3 && parts[0] == "api" && parts[1] == "v1" && parts[2] == "pods":
		k.listPods(w, r, "")
	case len(parts) == 6 && parts[0] == "api" && parts[1] == "v1" && parts[2] == "namespaces" && parts[4] == "pods":
		k.getPod(w, r, parts[3], parts[5])
	default:
		k.status(w, http.StatusNotFound, "NotFound", "the server could not find the requested resource")
	}
}

// aggregated is the content type of aggregated discovery (kubectl 1.30+ asks for it
// first and falls back to the legacy documents when the answer is plain JSON).
const aggregated = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

func (k *KubeAPI) discovery(w http.ResponseWriter, r *http.Request, core bool) {
	if acceptsAggregated(r.Header.Get("Accept")) {
		items := []any{}
		if core {
			items = append(items, map[string]any{
				"metadata": map[string]any{"creationTimestamp": nil},
				"versions": []any{map[string]any{
					"version":   "v1",
					"resources": []any{k.podsResource(true)},
					"freshness": "Current",
				}},
			})
		}
		k.json(w, aggregated, map[string]any{
			"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
			"metadata": map[string]any{}, "items": items,
		})
		return
	}
	if core {
		k.json(w, "application/json", map[string]any{
			"kind": "APIVersions", "versions": []string{"v1"},
			"serverAddressByClientCIDRs": []any{map[string]any{"clientCIDR": "0.0.0.0/0", "serverAddress": k.Host}},
		})
		return
	}
	k.json(w, "application/json", map[string]any{"kind": "APIGroupList", "apiVersion": "v1", "groups": []any{}})
}

// acceptsAggregated reports whether an Accept header lists aggregated discovery v2.
func acceptsAggregated(accept string) bool {
	for _, media := range strings.Split(accept, ",") {
		params := map[string]string{}
		fields := strings.Split(media, ";")
		for _, p := range fields[1:] {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok {
				params[k] = v
			}
		}
		if strings.TrimSpace(fields[0]) == "application/json" && params["g"] == "apidiscovery.k8s.io" && params["v"] == "v2" && params["as"] == "APIGroupDiscoveryList" {
			return true
		}
	}
	return false
}

// podsResource describes pods in legacy (APIResource) or aggregated
// (APIResourceDiscovery) form.
func (k *KubeAPI) podsResource(aggregatedForm bool) map[string]any {
	verbs := []string{"get", "list"}
	if aggregatedForm {
		return map[string]any{
			"resource":         "pods",
			"responseKind":     map[string]any{"group": "", "version": "v1", "kind": "Pod"},
			"scope":            "Namespaced",
			"singularResource": "pod",
			"verbs":            verbs,
			"shortNames":       []string{"po"},
			"categories":       []string{"all"},
		}
	}
	return map[string]any{
		"name": "pods", "singularName": "pod", "namespaced": true, "kind": "Pod",
		"verbs": verbs, "shortNames": []string{"po"}, "categories": []string{"all"},
	}
}

// kubePod is one of the cluster's fixed pods.
type kubePod struct {
	namespace, name, uid, image, node, ip string
	age                                   time.Duration // at the server's start
}

// kubePods is the cluster's workload: two pods in default, one in kube-system.
func kubePods() []kubePod {
	return []kubePod{
		{namespace: "default", name: "hello-aks-6d4cf56db6-x7k2p", uid: "5f0c6a5e-8d1b-4c3e-9a51-0d6f2b7c1a01", image: "mcr.microsoft.com/azuredocs/aks-helloworld:v1", node: "aks-nodepool1-12345678-vmss000000", ip: "10.244.0.12", age: 42 * time.Minute},
		{namespace: "default", name: "worker-0", uid: "5f0c6a5e-8d1b-4c3e-9a51-0d6f2b7c1a02", image: "busybox:1.36", node: "aks-nodepool1-12345678-vmss000001", ip: "10.244.1.7", age: 3 * time.Hour},
		{namespace: "kube-system", name: "coredns-789789675-q2m4h", uid: "5f0c6a5e-8d1b-4c3e-9a51-0d6f2b7c1a03", image: "mcr.microsoft.com/oss/kubernetes/coredns:v1.11.3", node: "aks-nodepool1-12345678-vmss000000", ip: "10.244.0.3", age: 26 * time.Hour},
	}
}

func (k *KubeAPI) podObject(p kubePod) map[string]any {
	created := k.started.Add(-p.age).UTC().Format(time.RFC3339)
	return map[string]any{
		"kind": "Pod", "apiVersion": "v1",
		"metadata": k.podMeta(p, created),
		"spec": map[string]any{
			"containers": []any{map[string]any{"name": "main", "image": p.image}},
			"nodeName":   p.node,
		},
		"status": map[string]any{
			"phase":     "Running",
			"podIP":     p.ip,
			"startTime": created,
			"containerStatuses": []any{map[string]any{
				"name": "main", "ready": true, "started": true, "restartCount": 0, "image": p.image, "imageID": "",
				"state": map[string]any{"running": map[string]any{"startedAt": created}},
			}},
		},
	}
}

func (k *KubeAPI) podMeta(p kubePod, created string) map[string]any {
	return map[string]any{
		"name": p.name, "namespace": p.namespace, "uid": p.uid,
		"resourceVersion": "1", "creationTimestamp": created, "labels": map[string]string{"app": strings.SplitN(p.name, "-", 2)[0]},
	}
}

func (k *KubeAPI) listPods(w http.ResponseWriter, r *http.Request, namespace string) {
	var pods []kubePod
	for _, p := range kubePods() {
		if namespace == "" || p.namespace == namespace {
			pods = append(pods, p)
		}
	}
	if wantsTable(r.Header.Get("Accept")) {
		k.json(w, "application/json", k.podTable(pods))
		return
	}
	items := []any{}
	for _, p := range pods {
		items = append(items, k.podObject(p))
	}
	k.json(w, "application/json", map[string]any{
		"kind": "PodList", "apiVersion": "v1", "metadata": map[string]any{"resourceVersion": "1"}, "items": items,
	})
}

func (k *KubeAPI) getPod(w http.ResponseWriter, r *http.Request, namespace, name string) {
	for _, p := range kubePods() {
		if p.namespace == namespace && p.name == name {
			if wantsTable(r.Header.Get("Accept")) {
				k.json(w, "application/json", k.podTable([]kubePod{p}))
			} else {
				k.json(w, "application/json", k.podObject(p))
			}
			return
		}
	}
	k.statusDetails(w, http.StatusNotFound, "NotFound", fmt.Sprintf("pods %q not found", name), map[string]any{"name": name, "kind": "pods"})
}

// wantsTable reports whether an Accept header asks for the meta.k8s.io Table form, as
// kubectl get does so that the server picks the columns.
func wantsTable(accept string) bool {
	for _, media := range strings.Split(accept, ",") {
		if strings.Contains(media, "as=Table") && strings.Contains(media, "g=meta.k8s.io") {
			return true
		}
	}
	return false
}

func (k *KubeAPI) podTable(pods []kubePod) map[string]any {
	col := func(name, typ, format, desc string, priority int) map[string]any {
		return map[string]any{"name": name, "type": typ, "format": format, "description": desc, "priority": priority}
	}
	rows := []any{}
	for _, p := range pods {
		created := k.started.Add(-p.age).UTC().Format(time.RFC3339)
		rows = append(rows, map[string]any{
			"cells": []any{p.name, "1/1", "Running", "0", shortAge(p.age + k.e.now().Sub(k.started)), p.ip, p.node},
			"object": map[string]any{
				"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
				"metadata": k.podMeta(p, created),
			},
		})
	}
	return map[string]any{
		"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": map[string]any{"resourceVersion": "1"},
		"columnDefinitions": []any{
			col("Name", "string", "name", "Name must be unique within a namespace.", 0),
			col("Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.", 0),
			col("Status", "string", "", "The aggregate status of the containers in this pod.", 0),
			col("Restarts", "string", "", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.", 0),
			col("Age", "string", "", "CreationTimestamp is a timestamp representing the server time when this object was created.", 0),
			col("IP", "string", "", "IP address allocated to the pod.", 1),
			col("Node", "string", "", "Name of the node this pod runs on.", 1),
		},
		"rows": rows,
	}
}

// shortAge renders a duration as kubectl does in the AGE column (42m, 3h, 26h, 5d).
func shortAge(d time.Duration) string {
	switch {
	case d < 2*time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < 3*time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}

func (k *KubeAPI) status(w http.ResponseWriter, code int, reason, message string) {
	k.statusDetails(w, code, reason, message, nil)
}

// statusDetails writes a meta/v1 Status, the body every Kubernetes API error carries.
func (k *KubeAPI) statusDetails(w http.ResponseWriter, code int, reason, message string, details map[string]any) {
	st := map[string]any{
		"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "message": message, "reason": reason, "code": code,
	}
	if details != nil {
		st["details"] = details
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache, private")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(st)
}

func (k *KubeAPI) json(w http.ResponseWriter, contentType string, v any) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-cache, private")
	json.NewEncoder(w).Encode(v)
}
