package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"

	"github.com/entratool/entratool/core/version"
	"github.com/entratool/entratool/internal/testbin"
	"github.com/entratool/entratool/internal/testkit"
)

const (
	tenant  = testkit.TenantID
	client  = testkit.ClientID
	client2 = "22222222-1234-1234-1234-123456789abc"
	client3 = "33333333-1234-1234-1234-123456789abc"
	// Application object ids: given on --app and in --config; client2's is derived.
	object1 = "a1a1a1a1-0000-4000-8000-000000000001"
	object3 = "a3a3a3a3-0000-4000-8000-000000000003"
)

func openssl(t *testing.T, dir string, args ...string) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl %v: %v\n%s", args, err, out)
	}
}

// TestBinary builds the command, runs it as `make demo` would, and gets tokens from it
// through MSAL with a certificate made by openssl, a secret passed by environment, and an
// app from --config with a DER certificate.
func TestBinary(t *testing.T) {
	work := t.TempDir()
	bin := testbin.Path(t, "./emulator/cmd/entra-emulator")
	openssl(t, work, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.pem",
		"-subj", "/CN=entra-emulator-test", "-days", "2")
	openssl(t, work, "x509", "-in", "cert.pem", "-outform", "DER", "-out", "cert.der")
	config := `[{"tenantId":"` + tenant + `","clientId":"` + client3 + `","objectId":"` + object3 + `","certificates":["cert.der"],"domains":["fabrikam.onmicrosoft.com"]}]`
	if err := os.WriteFile(filepath.Join(work, "apps.json"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}

	const secretValue = "env-only~secret"
	dir := filepath.Join(work, "state")
	ready := filepath.Join(work, "ready.json")
	cmd := exec.Command(bin,
		"--dir", dir,
		"--app", tenant+":"+client+":"+filepath.Join(work, "cert.pem")+":"+object1,
		"--secret-app", tenant+":"+client2+":TEST_EMULATOR_SECRET",
		"--config", filepath.Join(work, "apps.json"),
		"--domain", tenant+":contoso.onmicrosoft.com",
		"--token-lifetime", "30m",
		"--graph-propagation-delay", "300ms",
		"--ready-file", ready,
	)
	cmd.Env = append(os.Environ(), "TEST_EMULATOR_SECRET="+secretValue)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-exited
		}
	})

	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(30 * time.Second):
		t.Fatalf("no start-up line; stderr:\n%s", stderr.String())
	}
	var r Ready
	dec := json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("start-up line %q: %v", line, err)
	}
	if !strings.HasPrefix(r.Authority, "https://127.0.0.1:") || r.CAFile != filepath.Join(dir, "ca.pem") || r.PID != cmd.Process.Pid {
		t.Fatalf("start-up line %+v (pid %d)", r, cmd.Process.Pid)
	}
	if got, err := os.ReadFile(ready); err != nil || strings.TrimSpace(string(got)) != line {
		t.Fatalf("ready file %q (%v), stdout %q", got, err, line)
	}
	for _, a := range cmd.Args {
		if strings.Contains(a, secretValue) {
			t.Fatal("secret on the command line")
		}
	}

	// Trust exactly what the emulator printed: its CA file.
	caPEM, err := os.ReadFile(r.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("caFile holds no certificate")
	}
	httpClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	acquireFor := func(scope, authorityTenant, clientID string, cred confidential.Credential, opts ...confidential.Option) (confidential.AuthResult, error) {
		opts = append(opts, confidential.WithHTTPClient(httpClient), confidential.WithInstanceDiscovery(false))
		c, err := confidential.New(r.Authority+"/"+authorityTenant, clientID, cred, opts...)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		return c.AcquireTokenByCredential(ctx, []string{scope})
	}
	acquire := func(authorityTenant, clientID string, cred confidential.Credential, opts ...confidential.Option) (confidential.AuthResult, error) {
		return acquireFor("https://graph.microsoft.com/.default", authorityTenant, clientID, cred, opts...)
	}

	pemData, err := os.ReadFile(filepath.Join(work, "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	keyData, err := os.ReadFile(filepath.Join(work, "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	certs, key, err := confidential.CertFromPEM(append(pemData, keyData...), "")
	if err != nil {
		t.Fatal(err)
	}
	certCred, err := confidential.NewCredFromCert(certs, key)
	if err != nil {
		t.Fatal(err)
	}
	res, err := acquire(tenant, client, certCred)
	if err != nil {
		t.Fatalf("certificate app: %v", err)
	}
	if left := time.Until(res.ExpiresOn); left > 31*time.Minute || left < 29*time.Minute {
		t.Errorf("--token-lifetime 30m gave a token valid for %s", left)
	}
	if _, err := acquire("contoso.onmicrosoft.com", client, certCred, confidential.WithX5C()); err != nil {
		t.Fatalf("certificate app by --domain, with x5c: %v", err)
	}
	if _, err := acquire("fabrikam.onmicrosoft.com", client3, certCred); err != nil {
		t.Fatalf("--config app with DER certificate: %v", err)
	}
	secretCred, _ := confidential.NewCredFromSecret(secretValue)
	if _, err := acquire(tenant, client2, secretCred); err != nil {
		t.Fatalf("secret app: %v", err)
	}
	wrong, _ := confidential.NewCredFromSecret("not-" + secretValue)
	if _, err := acquire(tenant, client2, wrong); err == nil || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Fatalf("wrong secret: %v", err)
	}
	if _, err := acquire(tenant, client2, certCred); err == nil || !strings.Contains(err.Error(), "AADSTS700027") {
		t.Fatalf("certificate not registered for the secret app: %v", err)
	}

	// Graph: the ready line names it and every app's object id; the --app certificate is
	// rolled through addKey and removeKey as `entratool cert renew` does.
	if !strings.HasPrefix(r.GraphURL, "https://127.0.0.1:") || r.GraphURL == r.Authority {
		t.Fatalf("graphURL %q", r.GraphURL)
	}
	if !strings.HasPrefix(r.IssuerURL, "https://127.0.0.1:") || r.IssuerURL == r.Authority || r.IssuerURL == r.GraphURL {
		t.Fatalf("issuerURL %q", r.IssuerURL)
	}
	if r.GitHubTokenURL != "" || r.AzDOOIDCURI != "" || r.IdentityEndpoint != "" || r.IdentityHeader != "" {
		t.Fatalf("endpoints announced that were not asked for: %+v", r)
	}
	if len(r.Apps) != 3 || r.Apps[0] != (ReadyApp{tenant, client, object1}) || r.Apps[2] != (ReadyApp{tenant, client3, object3}) ||
		r.Apps[1].ClientID != client2 || !isGUID(r.Apps[1].ObjectID) || r.Apps[1].ObjectID == client2 {
		t.Fatalf("apps %+v", r.Apps)
	}
	graphTok, err := acquireFor(r.GraphURL+"/.default", tenant, client, certCred)
	if err != nil {
		t.Fatalf("token for Graph: %v", err)
	}
	newKey, newCert := newCertificate(t)
	oldKey := key.(*rsa.PrivateKey)
	graphPost := func(action string, body map[string]any) (int, map[string]any) {
		data, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, r.GraphURL+"/v1.0/applications/"+object1+"/"+action, bytes.NewReader(data))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+graphTok.AccessToken)
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	status, added := graphPost("addKey", map[string]any{
		"keyCredential": map[string]any{"type": "AsymmetricX509Cert", "usage": "Verify",
			"key": base64.StdEncoding.EncodeToString(newCert.Raw), "displayName": "CN=rolled"},
		"passwordCredential": nil,
		"proof":              keyProof(t, oldKey, certs[0], object1),
	})
	if status != 200 || added["keyId"] == nil {
		t.Fatalf("addKey: %d %v", status, added)
	}
	// --graph-propagation-delay: refused at first, accepted once propagated.
	newCred, err := confidential.NewCredFromCert([]*x509.Certificate{newCert}, newKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := acquire(tenant, client, newCred); err == nil || !strings.Contains(err.Error(), "AADSTS700027") {
		t.Fatalf("new key before propagation: %v", err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_, err := acquire(tenant, client, newCred)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("new key never accepted: %v", err)
		}
	}
	// The old keyId, found by reading the app's keyCredentials.
	req, _ := http.NewRequest(http.MethodGet, r.GraphURL+"/v1.0/applications/"+object1+"?$select=keyCredentials", nil)
	req.Header.Set("Authorization", "Bearer "+graphTok.AccessToken)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var app struct {
		KeyCredentials []struct{ KeyID, Key string }
	}
	json.NewDecoder(resp.Body).Decode(&app)
	resp.Body.Close()
	oldKeyID := ""
	for _, kc := range app.KeyCredentials {
		if kc.Key == base64.StdEncoding.EncodeToString(certs[0].Raw) {
			oldKeyID = kc.KeyID
		}
	}
	if len(app.KeyCredentials) != 2 || oldKeyID == "" {
		t.Fatalf("keyCredentials %+v", app.KeyCredentials)
	}
	if status, body := graphPost("removeKey", map[string]any{"keyId": oldKeyID, "proof": keyProof(t, newKey, newCert, object1)}); status != 204 {
		t.Fatalf("removeKey: %d %v", status, body)
	}
	if _, err := acquire(tenant, client, certCred); err == nil || !strings.Contains(err.Error(), "AADSTS700027") {
		t.Fatalf("removed key still accepted: %v", err)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still running 10s after SIGTERM")
	}
	if strings.Contains(stderr.String(), secretValue) {
		t.Fatal("secret on stderr")
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	openssl(t, dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.pem",
		"-subj", "/CN=usage", "-days", "1")
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cert := filepath.Join(dir, "cert.pem")
	env := func(name string) (string, bool) {
		if name == "SET" {
			return "value", true
		}
		return "", false
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"app spec", []string{"--app", "tenant-only"}, `--app "tenant-only"`},
		{"missing cert", []string{"--app", "t:c:" + filepath.Join(dir, "nope.pem")}, "certificate not found: " + filepath.Join(dir, "nope.pem")},
		{"not a cert", []string{"--app", "t:c:" + write("junk.pem", "junk")}, "is not a PEM or DER certificate"},
		{"key only", []string{"--app", "t:c:" + filepath.Join(dir, "key.pem")}, "no CERTIFICATE block"},
		{"unset secret env", []string{"--secret-app", "t:c:UNSET"}, "environment variable UNSET is not set"},
		{"bad domain", []string{"--domain", "contoso.onmicrosoft.com"}, "want TENANT:DOMAIN"},
		{"config syntax", []string{"--config", write("bad.json", "[\n {\"tenantId\": \"t\",,}\n]")}, "bad.json:2:"},
		{"config unknown key", []string{"--config", write("typo.json", `[{"tenantId":"t","clientId":"c","certificate":["x"]}]`)}, `unknown field "certificate"`},
		{"config no credential", []string{"--config", write("empty.json", `[{"tenantId":"t","clientId":"c"}]`)}, "neither certificates nor secretEnv"},
		{"config missing cert", []string{"--config", write("miss.json", `[{"tenantId":"t","clientId":"c","certificates":["gone.cer"]}]`)}, "certificate not found"},
		{"stray argument", []string{"--app", "t:c:" + cert, "extra"}, `unexpected argument "extra"`},
		{"bad flag", []string{"--no-such-flag"}, "flag provided but not defined"},
		{"lifetime", []string{"--token-lifetime", "1ms"}, "shorter than a second"},
		{"negative propagation delay", []string{"--graph-propagation-delay", "-1s"}, "--graph-propagation-delay"},
		{"object id is the client id", []string{"--app", "t:" + object1 + ":" + cert + ":" + object1}, "is the client id"},
		{"two object ids for one app", []string{"--app", "t:c:" + cert + ":" + object1, "--app", "t:c:" + cert + ":" + object3}, "two object ids"},
		{"one object id for two apps", []string{"--app", "t:c:" + cert + ":" + object1, "--app", "t:c2:" + cert + ":" + object1}, "already the object id"},
		{"federated spec", []string{"--federated", "t:c:local"}, `--federated "t:c:local"`},
		{"federated http issuer", []string{"--federated", "t:c:http://127.0.0.1:1/x:sub"}, "neither an https URL"},
		{"federated no subject", []string{"--federated", "t:c:https://issuer.example/x"}, "no subject"},
		{"config federated bad issuer", []string{"--config", write("fic.json", `[{"tenantId":"t","clientId":"c","federated":[{"issuer":"issuer","subject":"s"}]}]`)}, "federated credential 1"},
		{"managed identity without tenant", []string{"--managed-identity", "system"}, "no tenant"},
		{"two system identities", []string{"--managed-identity", "t:system", "--managed-identity", "t:SYSTEM"}, "one system-assigned"},
		{"identity header alone", []string{"--identity-header", "h"}, "needs --managed-identity"},
		{"github token env alone", []string{"--github-request-token-env", "SET"}, "needs --github-actions"},
		{"github token env unset", []string{"--github-actions", "repo:o/r:ref:refs/heads/main", "--github-request-token-env", "UNSET"}, "UNSET is not set"},
		{"azure pipelines spec", []string{"--azure-pipelines", "sc://org/p/c"}, "want CONNECTION_ID=SUBJECT"},
		{"azdo token env alone", []string{"--azdo-access-token-env", "SET"}, "needs --azure-pipelines"},
		{"config object id not a GUID", []string{"--config", write("oid.json", `[{"tenantId":"t","clientId":"c","objectId":"app-1","certificates":["cert.pem"]}]`)}, `objectId "app-1" is not a GUID`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), tc.args, &out, &errOut, env)
			if code != 2 || !strings.Contains(errOut.String(), tc.want) || out.Len() != 0 {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 2 and %q", code, out.String(), errOut.String(), tc.want)
			}
		})
	}

	t.Run("listen failure is a runtime error", func(t *testing.T) {
		busy, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer busy.Close()
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"--addr", busy.Addr().String(), "--app", "t:c:" + cert}, &out, &errOut, env)
		if code != 1 || !strings.Contains(errOut.String(), "listen") {
			t.Fatalf("exit %d, stderr %q", code, errOut.String())
		}
		errOut.Reset()
		if code := run(context.Background(), []string{"--addr", "0.0.0.0:0"}, &out, &errOut, env); code == 0 || !strings.Contains(errOut.String(), "loopback") {
			t.Fatalf("non-loopback address: exit %d, stderr %q", code, errOut.String())
		}
		errOut.Reset()
		if code := run(context.Background(), []string{"--graph-addr", "0.0.0.0:0"}, &out, &errOut, env); code == 0 || !strings.Contains(errOut.String(), "loopback") {
			t.Fatalf("non-loopback Graph address: exit %d, stderr %q", code, errOut.String())
		}
	})

	t.Run("in-process run stops with its context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		var out, errOut testkit.Transcript
		done := make(chan int, 1)
		go func() {
			done <- run(ctx, []string{"--app", "t:c:" + cert, "--secret-app", "t:c:SET"}, &out, &errOut, env)
		}()
		out.WaitFor("\n", 10*time.Second) // the start-up line
		var r Ready
		if err := json.Unmarshal([]byte(out.String()), &r); err != nil || r.PID != os.Getpid() {
			t.Fatalf("start-up line %q: %v", out.String(), err)
		}
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
		case <-time.After(10 * time.Second):
			t.Fatal("run did not return after its context ended")
		}
		// The default directory is temporary and goes with the emulator.
		if _, err := os.Stat(r.CAFile); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("temporary CA file left: %v", err)
		}
	})
}

// newCertificate makes an RSA key and a self-signed certificate for it, as a renewal does.
func newCertificate(t *testing.T) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "rolled"},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

// keyProof is the proof of possession addKey and removeKey take (SPEC §13).
func keyProof(t *testing.T, key *rsa.PrivateKey, cert *x509.Certificate, objectID string) string {
	t.Helper()
	sum := sha1.Sum(cert.Raw)
	now := time.Now()
	h, _ := json.Marshal(map[string]any{"alg": "RS256", "typ": "JWT", "x5t": base64.RawURLEncoding.EncodeToString(sum[:])})
	c, _ := json.Marshal(map[string]any{"aud": "00000002-0000-0000-c000-000000000000", "iss": objectID, "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()})
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// FuzzParseSpec: the TENANT:CLIENT:REST parser never panics, and what it accepts
// round-trips.
func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"t:c:/a/b.pem", `t:c:C:\certs\a.cer`, "t:c", "::", " t:c:x", "t:c:ENV"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tenant, client, rest, err := parseSpec(s)
		if err != nil {
			return
		}
		if tenant+":"+client+":"+rest != s || strings.Contains(tenant, ":") || strings.Contains(client, ":") || tenant == "" || client == "" || rest == "" {
			t.Fatalf("%q parsed as %q %q %q", s, tenant, client, rest)
		}
	})
}

// FuzzParseConfig: --config parsing never panics, and accepted entries are complete.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`[{"tenantId":"t","clientId":"c","certificates":["a.cer"]}]`))
	f.Add([]byte(`[{"tenantId":"t","clientId":"c","secretEnv":"X","domains":["d"]}]`))
	f.Add([]byte(`[{"tenantId":1}]`))
	f.Add([]byte("[\n{,}]"))
	f.Add([]byte(`[] []`))
	f.Add([]byte(`[{"tenantId":"t","clientId":"c","federated":[{"issuer":"local","subject":"s"}]}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := parseConfig(data, "apps.json")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "apps.json") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, e := range entries {
			if e.TenantID == "" || e.ClientID == "" || (len(e.Certificates) == 0 && e.SecretEnv == "" && len(e.Federated) == 0) {
				t.Fatalf("incomplete entry accepted: %+v", e)
			}
		}
	})
}

// --version is answered like every entratool binary's, without starting anything.
func TestVersion(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--version"}, &out, &errOut, func(string) (string, bool) { return "", false })
	if want := version.Line("entra-emulator") + "\n"; code != 0 || out.String() != want || errOut.Len() != 0 {
		t.Fatalf("exit %d, stdout %q, stderr %q; want %q", code, out.String(), errOut.String(), want)
	}
}

// The optional fourth --app field is taken only when it is a GUID, so a Windows path
// keeps its drive colon.
func TestSplitObjectID(t *testing.T) {
	cases := []struct{ in, path, oid string }{
		{"/a/b.pem", "/a/b.pem", ""},
		{"/a/b.pem:" + object1, "/a/b.pem", object1},
		{`C:\certs\a.cer`, `C:\certs\a.cer`, ""},
		{`C:\certs\a.cer:` + strings.ToUpper(object1), `C:\certs\a.cer`, strings.ToUpper(object1)},
		{"cert.pem:not-a-guid", "cert.pem:not-a-guid", ""},
		{":" + object1, ":" + object1, ""}, // no path left: the whole is the path
	}
	for _, c := range cases {
		if path, oid := splitObjectID(c.in); path != c.path || oid != c.oid {
			t.Errorf("splitObjectID(%q) = %q, %q; want %q, %q", c.in, path, oid, c.path, c.oid)
		}
	}
}
