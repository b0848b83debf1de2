package graph

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/entratool/entratool/core/token"
	"github.com/entratool/entratool/internal/testkit"
)

// Graph's errors are answers Retry can classify by status.
var _ token.HTTPStatusError = (*Error)(nil)

var guidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func addKeyAnswer(keyID string) string {
	return `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.keyCredential",` +
		`"customKeyIdentifier":"3q2+7w==","displayName":"CN=entratool-graph-test","endDateTime":"2028-12-03T10:00:00Z",` +
		`"key":null,"keyId":"` + keyID + `","startDateTime":"2026-12-03T10:00:00Z","type":"AsymmetricX509Cert","usage":"Verify",` +
		`"somethingNew":{"nested":[1,2,3]}}`
}

func TestAddKeySendsExactlyWhatGraphDocuments(t *testing.T) {
	p := pairs(t)[0]
	gs := newGraphServer(t, reply(200, addKeyAnswer(testKeyID), "request-id", "rid-add"))
	c := gs.client()
	var logs bytes.Buffer
	c.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	proof, err := NewProof(p.key, p.cert, testObjectID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	kc, err := c.AddKey(context.Background(), testObjectID, p.cert, "", proof)
	if err != nil {
		t.Fatal(err)
	}
	if kc.KeyID != testKeyID || kc.Type != "AsymmetricX509Cert" || kc.Usage != "Verify" || kc.DisplayName != "CN=entratool-graph-test" ||
		kc.Key != nil || kc.EndDateTime == nil || !kc.EndDateTime.Equal(time.Date(2028, 12, 3, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("%+v", kc)
	}
	reqs := gs.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.method != "POST" || r.path != "/v1.0/applications/"+testObjectID+"/addKey" || r.rawQuery != "" {
		t.Fatalf("%s %s?%s", r.method, r.path, r.rawQuery)
	}
	want := `{"keyCredential":{"type":"AsymmetricX509Cert","usage":"Verify","key":"` + base64.StdEncoding.EncodeToString(p.cert.Raw) +
		`","displayName":"CN=entratool-graph-test"},"passwordCredential":null,"proof":"` + proof + `"}`
	if r.body != want {
		t.Fatalf("body\n%s\nwant\n%s", r.body, want)
	}
	checkHeaders(t, r, true)
	// One debug line per request: method, URL, status, ids; never the token or the proof.
	line := logs.String()
	for _, w := range []string{"method=POST", "url=" + gs.URL + "/v1.0/applications/" + testObjectID + "/addKey", "status=200", "request-id=rid-add", "client-request-id=" + r.header.Get("client-request-id")} {
		if !strings.Contains(line, w) {
			t.Errorf("log %q lacks %q", line, w)
		}
	}
	if strings.Contains(line, testToken) || strings.Contains(line, proof[:20]) {
		t.Errorf("log holds a credential: %q", line)
	}
}

func checkHeaders(t *testing.T, r recorded, withBody bool) {
	t.Helper()
	if got := r.header.Get("Authorization"); got != "Bearer "+testToken {
		t.Errorf("Authorization %q", got)
	}
	if got := r.header.Get("Content-Type"); withBody && got != "application/json" || !withBody && got != "" {
		t.Errorf("Content-Type %q", got)
	}
	if got := r.header.Get("client-request-id"); !guidRE.MatchString(got) {
		t.Errorf("client-request-id %q is not a GUID", got)
	}
}

// The display name is sent as given, & and < included (no HTML escaping of JSON).
func TestAddKeyDisplayName(t *testing.T) {
	p := pairs(t)[0]
	gs := newGraphServer(t, reply(200, addKeyAnswer(testKeyID)))
	if _, err := gs.client().AddKey(context.Background(), testObjectID, p.cert, "CN=R&D <ci>", "proof"); err != nil {
		t.Fatal(err)
	}
	if body := gs.requests()[0].body; !strings.Contains(body, `"displayName":"CN=R&D <ci>"}`) {
		t.Fatalf("body %s", body)
	}
}

func TestRemoveKey(t *testing.T) {
	gs := newGraphServer(t, reply(204, ""))
	if err := gs.client().RemoveKey(context.Background(), testObjectID, testKeyID, "the.proof.jwt"); err != nil {
		t.Fatal(err)
	}
	r := gs.requests()[0]
	if r.method != "POST" || r.path != "/v1.0/applications/"+testObjectID+"/removeKey" {
		t.Fatalf("%s %s", r.method, r.path)
	}
	if want := `{"keyId":"` + testKeyID + `","proof":"the.proof.jwt"}`; r.body != want {
		t.Fatalf("body %s, want %s", r.body, want)
	}
	checkHeaders(t, r, true)
}

func TestKeyCredentials(t *testing.T) {
	p := pairs(t)[0]
	der := base64.StdEncoding.EncodeToString(p.cert.Raw)
	answer := `{"@odata.context":"x","id":"` + testObjectID + `","keyCredentials":[` +
		`{"customKeyIdentifier":"ABCDEF","displayName":"CN=old\u001b[2J","endDateTime":"2027-01-01T00:00:00Z","key":"` + der + `","keyId":"` + testKeyID + `","startDateTime":"2026-01-01T00:00:00Z","type":"AsymmetricX509Cert","usage":"Verify"},` +
		`{"customKeyIdentifier":"` + strings.Repeat("ab", 20) + `","displayName":null,"endDateTime":"not a date","startDateTime":"2026-01-01T00:00:00","key":null,"keyId":"0a1b2c3d-0000-4000-8000-000000000001","type":"AsymmetricX509Cert","usage":"Verify","new":true}]}`
	gs := newGraphServer(t, reply(200, answer))
	list, err := gs.client().KeyCredentials(context.Background(), testObjectID)
	if err != nil {
		t.Fatal(err)
	}
	r := gs.requests()[0]
	if r.method != "GET" || r.path != "/v1.0/applications/"+testObjectID || r.rawQuery != "$select=keyCredentials" || r.body != "" {
		t.Fatalf("%s %s?%s %q", r.method, r.path, r.rawQuery, r.body)
	}
	checkHeaders(t, r, false)
	sum := sha1.Sum(p.cert.Raw)
	if len(list) != 2 || list[0].KeyID != testKeyID || list[0].Thumbprint() != strings.ToUpper(hex.EncodeToString(sum[:])) ||
		list[1].Thumbprint() != strings.Repeat("AB", 20) || list[1].EndDateTime != nil ||
		list[1].StartDateTime == nil || !list[1].StartDateTime.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("%+v", list)
	}
	// Graph's text is escaped where it enters.
	if list[0].DisplayName != `CN=old\x1b[2J` {
		t.Fatalf("display name %q", list[0].DisplayName)
	}
	empty := newGraphServer(t, reply(200, `{"keyCredentials":[]}`))
	if list, err := empty.client().KeyCredentials(context.Background(), testObjectID); err != nil || len(list) != 0 {
		t.Fatalf("%v %v", list, err)
	}
}

func TestThumbprint(t *testing.T) {
	p := pairs(t)[0]
	sum := sha1.Sum(p.cert.Raw)
	tp := strings.ToUpper(hex.EncodeToString(sum[:]))
	der := base64.StdEncoding.EncodeToString(p.cert.Raw)
	garbage := "not base64!"
	for _, c := range []struct {
		name string
		k    KeyCredential
		want string
	}{
		{"key present", KeyCredential{Key: &der, CustomKeyIdentifier: strings.Repeat("00", 20)}, tp},
		{"hex, lower case", KeyCredential{CustomKeyIdentifier: strings.ToLower(tp)}, tp},
		{"hex, upper case", KeyCredential{CustomKeyIdentifier: tp}, tp},
		{"base64 of the 20 bytes", KeyCredential{CustomKeyIdentifier: base64.StdEncoding.EncodeToString(sum[:])}, tp},
		{"base64 of the hex text", KeyCredential{CustomKeyIdentifier: base64.StdEncoding.EncodeToString([]byte(tp))}, tp},
		{"key unreadable, identifier readable", KeyCredential{Key: &garbage, CustomKeyIdentifier: tp}, tp},
		{"nothing", KeyCredential{}, ""},
		{"identifier of another size", KeyCredential{CustomKeyIdentifier: "3q2+7w=="}, ""},
		{"identifier garbage", KeyCredential{CustomKeyIdentifier: "\x1b[2J"}, ""},
	} {
		if got := c.k.Thumbprint(); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// Throttling, server errors and dropped connections are retried (Retry-After
// honoured); refusals are not.
func TestRetries(t *testing.T) {
	for _, c := range []struct {
		name    string
		answers []func(http.ResponseWriter, *http.Request)
		hits    int32
		minWait time.Duration
	}{
		{"429 Retry-After 1", []func(http.ResponseWriter, *http.Request){reply(429, graphError("TooManyRequests", "slow down", "r1"), "Retry-After", "1"), reply(204, "")}, 2, time.Second},
		{"503", []func(http.ResponseWriter, *http.Request){reply(503, ""), reply(204, "")}, 2, 0},
		{"500 then 502", []func(http.ResponseWriter, *http.Request){reply(500, graphError("generalException", "x", "r")), reply(502, "<html>bad gateway</html>"), reply(204, "")}, 3, 0},
		{"dropped connection", []func(http.ResponseWriter, *http.Request){drop, reply(204, "")}, 2, 0},
	} {
		gs := newGraphServer(t, answers(c.answers...))
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := gs.client().RemoveKey(ctx, testObjectID, testKeyID, "proof")
		cancel()
		if err != nil || gs.hits.Load() != c.hits || time.Since(start) < c.minWait {
			t.Fatalf("%s: %v after %d requests and %v", c.name, err, gs.hits.Load(), time.Since(start))
		}
		reqs := gs.requests()
		// One client-request-id for the call, whatever the retries: support sees them together.
		if id := reqs[len(reqs)-1].header.Get("client-request-id"); id != reqs[0].header.Get("client-request-id") {
			t.Fatalf("%s: client-request-id changed across retries", c.name)
		}
		if reqs[len(reqs)-1].body != reqs[0].body {
			t.Fatalf("%s: the retried body differs", c.name)
		}
	}
}

// An attempt that times out (no answer headers in time) is retried.
func TestTimeoutRetried(t *testing.T) {
	gs := newGraphServer(t, answers(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	}, reply(204, "")))
	c := gs.client()
	tr := gs.Client().Transport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = 100 * time.Millisecond
	c.HTTP = token.NewHTTPClient(token.HTTPOptions{Base: tr})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.RemoveKey(ctx, testObjectID, testKeyID, "proof"); err != nil || gs.hits.Load() != 2 {
		t.Fatalf("%v after %d requests", err, gs.hits.Load())
	}
}

// With no answer at all before the deadline, the error says who did not answer.
func TestNoAnswerWithinTheTimeout(t *testing.T) {
	gs := newGraphServer(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := gs.client().RemoveKey(ctx, testObjectID, testKeyID, "proof")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no answer from Graph at "+strings.TrimPrefix(gs.URL, "https://")) {
		t.Fatalf("%v", err)
	}
	oneLine(t, err.Error())
}

func TestRetryAfterBeyondTheDeadline(t *testing.T) {
	gs := newGraphServer(t, reply(429, graphError("TooManyRequests", "slow down", "r1"), "Retry-After", "120"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	err := gs.client().RemoveKey(ctx, testObjectID, testKeyID, "proof")
	var ge *Error
	if !errors.As(err, &ge) || ge.Status != 429 || ge.RetryAfter != "120" || gs.hits.Load() != 1 || time.Since(start) > 500*time.Millisecond {
		t.Fatalf("%v after %d requests and %v", err, gs.hits.Load(), time.Since(start))
	}
	if msg := err.Error(); !strings.Contains(msg, "Retry-After") || !strings.Contains(msg, "2m0s") {
		t.Fatalf("message %q", msg)
	}
	oneLine(t, err.Error())
}

func TestServerErrorsUntilTheDeadline(t *testing.T) {
	gs := newGraphServer(t, reply(503, graphError("serviceNotAvailable", "try later", "r9")))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := gs.client().RemoveKey(ctx, testObjectID, testKeyID, "proof")
	var ge *Error
	if !errors.As(err, &ge) || ge.Status != 503 || !strings.Contains(err.Error(), "gave up") || gs.hits.Load() < 2 {
		t.Fatalf("%v after %d requests", err, gs.hits.Load())
	}
	oneLine(t, err.Error())
}

// Each refusal is answered once, as one line with Graph's code, status, message, the
// hint for that code and the request id.
func TestRefusalsAreNotRetriedAndCarryTheirHint(t *testing.T) {
	p := pairs(t)[0]
	for _, c := range []struct {
		op     string
		status int
		code   string
		hint   string
	}{
		{"addKey", 403, "Authorization_RequestDenied", "upload one by hand once in the portal"},
		{"addKey", 401, "Authentication_MissingOrMalformed", "the proof was refused: check applicationObjectId is the Object ID on the app's Overview page (not the client id), and that the current certificate is still registered"},
		{"addKey", 400, "Request_BadRequest", "not already registered"},
		{"addKey", 404, "Request_ResourceNotFound", "applicationObjectId is the Object ID on the app's Overview page, not the client id"},
		{"addKey", 401, "InvalidAuthenticationToken", "the Graph token was refused"},
		{"removeKey", 400, "Request_BadRequest", "keyId"},
		{"removeKey", 404, "Request_ResourceNotFound", "applicationObjectId is the Object ID on the app's Overview page, not the client id"},
		{"keyCredentials", 403, "Authorization_RequestDenied", "--old-key-id"},
		{"keyCredentials", 404, "", "applicationObjectId is the Object ID on the app's Overview page, not the client id"},
	} {
		name := fmt.Sprintf("%s %d %s", c.op, c.status, c.code)
		body := graphError(c.code, "Graph's words.", "rid-inner")
		if c.code == "" {
			body = ""
		}
		gs := newGraphServer(t, reply(c.status, body, "request-id", "rid-header"))
		cl := gs.client()
		var err error
		switch c.op {
		case "addKey":
			_, err = cl.AddKey(context.Background(), testObjectID, p.cert, "", "proof")
		case "removeKey":
			err = cl.RemoveKey(context.Background(), testObjectID, testKeyID, "proof")
		default:
			_, err = cl.KeyCredentials(context.Background(), testObjectID)
		}
		var ge *Error
		if !errors.As(err, &ge) || ge.Status != c.status || ge.Code != c.code || ge.RequestID != "rid-header" {
			t.Fatalf("%s: %#v", name, err)
		}
		if n := gs.hits.Load(); n != 1 {
			t.Fatalf("%s: %d requests", name, n)
		}
		msg := err.Error()
		oneLine(t, msg)
		if !strings.Contains(msg, " — ") || !strings.Contains(msg, c.hint) || !strings.HasSuffix(msg, "(request-id rid-header)") {
			t.Errorf("%s: %q lacks the hint %q", name, msg, c.hint)
		}
	}
	gs := newGraphServer(t, reply(401, graphError("Authentication_MissingOrMalformed", "Invalid proof.", "rid-1")))
	_, err := gs.client().AddKey(context.Background(), testObjectID, p.cert, "", "proof")
	want := "Graph refused addKey: Authentication_MissingOrMalformed (HTTP 401): Invalid proof. — the proof was refused: " +
		"check applicationObjectId is the Object ID on the app's Overview page (not the client id), and that the current certificate is still registered (request-id rid-1)"
	if err == nil || err.Error() != want {
		t.Fatalf("message %q\nwant    %q", err, want)
	}
}

// A refusal after an attempt that may have reached Graph says the change may be made
// already: a retried addKey can meet the key its first attempt added.
func TestRefusalAfterAnAmbiguousAttempt(t *testing.T) {
	p := pairs(t)[0]
	gs := newGraphServer(t, answers(reply(503, ""), reply(400, graphError("Request_BadRequest", "Key credential already exists.", "r2"))))
	_, err := gs.client().AddKey(context.Background(), testObjectID, p.cert, "", "proof")
	var ge *Error
	if !errors.As(err, &ge) || ge.Status != 400 || !strings.Contains(err.Error(), "an earlier attempt may have added it") {
		t.Fatalf("%v", err)
	}
	// 429 is not ambiguous: Graph did nothing.
	gs = newGraphServer(t, answers(reply(429, ""), reply(400, graphError("Request_BadRequest", "Bad.", "r2"))))
	_, err = gs.client().AddKey(context.Background(), testObjectID, p.cert, "", "proof")
	if err == nil || strings.Contains(err.Error(), "earlier attempt") {
		t.Fatalf("%v", err)
	}
}

// A redirect is never followed, whatever client the caller gave, and is not retried.
func TestRedirectRefused(t *testing.T) {
	target := newGraphServer(t, reply(204, ""))
	from := newGraphServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.Path, http.StatusTemporaryRedirect)
	})
	for _, hc := range []*http.Client{
		token.NewHTTPClient(token.HTTPOptions{Base: from.Client().Transport}),
		// A client that follows redirects, as http.Client does by default; httptest
		// servers share a certificate, so a followed redirect would arrive.
		{Transport: from.Client().Transport},
	} {
		c := from.client()
		c.HTTP = hc
		err := c.RemoveKey(context.Background(), testObjectID, testKeyID, "proof")
		var re *token.RedirectError
		host := strings.TrimPrefix(from.URL, "https://")
		if !errors.As(err, &re) || re.Host != host || re.Status != 307 {
			t.Fatalf("%#v", err)
		}
		msg := err.Error()
		oneLine(t, msg)
		if !strings.Contains(msg, host) || !strings.Contains(msg, strings.TrimPrefix(target.URL, "https://")) || !strings.Contains(msg, "Graph endpoint") {
			t.Fatalf("message %q", msg)
		}
	}
	if from.hits.Load() != 2 || target.hits.Load() != 0 {
		t.Fatalf("%d requests to the Graph endpoint, %d to the redirect target", from.hits.Load(), target.hits.Load())
	}
}

// A refused connection is reported at once, naming the host, with the default client.
func TestRefusedConnectionFailsFast(t *testing.T) {
	addr := testkit.ClosedAddr(t)
	c := &Client{Endpoint: "https://" + addr, Token: func(context.Context) (string, error) { return testToken, nil }}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.KeyCredentials(ctx, testObjectID)
	took := time.Since(start)
	var ue *token.UnreachableError
	if !errors.As(err, &ue) || !errors.Is(err, syscall.ECONNREFUSED) || took > 2*time.Second {
		t.Fatalf("%#v after %v", err, took)
	}
	msg := err.Error()
	oneLine(t, msg)
	if !strings.Contains(msg, addr) || !strings.Contains(msg, "connection refused") || !strings.Contains(msg, "Graph endpoint") {
		t.Fatalf("message %q", msg)
	}
}

func TestUntrustedServerFailsFast(t *testing.T) {
	gs := newGraphServer(t, reply(204, ""))
	c := gs.client()
	c.HTTP = token.NewHTTPClient(token.HTTPOptions{Base: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool()}}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	err := c.RemoveKey(ctx, testObjectID, testKeyID, "proof")
	var ua x509.UnknownAuthorityError
	var ue *token.UnreachableError
	if !errors.As(err, &ua) || !errors.As(err, &ue) || time.Since(start) > 2*time.Second || gs.hits.Load() != 0 {
		t.Fatalf("%v after %v", err, time.Since(start))
	}
	if msg := err.Error(); !strings.Contains(msg, strings.TrimPrefix(gs.URL, "https://")) {
		t.Fatalf("message %q", msg)
	}
}

// What Graph says is hostile: bounded, escaped, checked.
func TestHostileAnswers(t *testing.T) {
	p := pairs(t)[0]
	huge := strings.Repeat("a", 2<<20)
	for _, c := range []struct {
		name   string
		answer func(http.ResponseWriter, *http.Request)
		op     string
		want   string
		status int // of the *Error, 0: not an *Error
	}{
		{"oversized success", reply(200, `{"keyId":"`+testKeyID+`","displayName":"`+huge+`"}`), "addKey", "more than 1 MiB", 0},
		{"html success", reply(200, "<html><body>proxy login</body></html>"), "addKey", "not JSON", 0},
		{"keyId not a GUID", reply(200, addKeyAnswer("../../evil")), "addKey", "not a GUID", 0},
		{"no keyId", reply(200, `{}`), "addKey", "not a GUID", 0},
		{"null", reply(200, `null`), "addKey", "not a GUID", 0},
		{"list with a bad keyId", reply(200, `{"keyCredentials":[{"keyId":"x\u001b[2J"}]}`), "keyCredentials", "not a GUID", 0},
		{"list missing", reply(200, `{"id":"x"}`), "keyCredentials", "no keyCredentials", 0},
		{"list of the wrong type", reply(200, `{"keyCredentials":{"a":1}}`), "keyCredentials", "not JSON", 0},
		{"html refusal", reply(400, "<html>bad</html>"), "addKey", "Graph refused addKey: Bad Request (HTTP 400)", 400},
		{"oversized refusal", reply(400, `{"error":{"code":"Request_BadRequest","message":"`+huge+`"}}`), "addKey", "Graph refused addKey: Bad Request (HTTP 400)", 400},
		{"control characters", reply(403, graphError(`Authorization_RequestDenied\u001b[2J`, `Insufficient\u001b]0;owned\u0007 \u202eprivileges.\r\nentratool: forged`, `r\u001b[31m`)), "addKey", `Insufficient\x1b]0;owned\x07 \u202eprivileges. entratool: forged`, 403},
		{"long message", reply(400, graphError("Request_BadRequest", strings.Repeat("word ", 2000), "r")), "addKey", "word word", 400},
	} {
		gs := newGraphServer(t, c.answer)
		cl := gs.client()
		var err error
		if c.op == "addKey" {
			_, err = cl.AddKey(context.Background(), testObjectID, p.cert, "", "proof")
		} else {
			_, err = cl.KeyCredentials(context.Background(), testObjectID)
		}
		if err == nil {
			t.Fatalf("%s: no error", c.name)
		}
		msg := err.Error()
		oneLine(t, msg)
		if !strings.Contains(msg, c.want) || len(msg) > 1500 || strings.Contains(msg, "proxy login") {
			t.Errorf("%s: %q (%d bytes) lacks %q", c.name, msg, len(msg), c.want)
		}
		var ge *Error
		if got := errors.As(err, &ge); got != (c.status != 0) || got && ge.Status != c.status {
			t.Errorf("%s: %#v", c.name, err)
		}
		if gs.hits.Load() != 1 {
			t.Errorf("%s: %d requests", c.name, gs.hits.Load())
		}
	}
}

// Arguments that would change the URL or could never be right stop before any request.
func TestArgumentsCheckedBeforeAnyRequest(t *testing.T) {
	p := pairs(t)[0]
	gs := newGraphServer(t, reply(204, ""))
	tokenErr := errors.New("AADSTS700027: no")
	for _, c := range []struct {
		name string
		edit func(*Client)
		call func(*Client) error
		want string
	}{
		{"object id with a path", nil, func(c *Client) error { return c.RemoveKey(context.Background(), "../../me", testKeyID, "p") }, "not a GUID"},
		{"client id instead", nil, func(c *Client) error { _, err := c.KeyCredentials(context.Background(), "my-app"); return err }, "Object ID"},
		{"key id", nil, func(c *Client) error { return c.RemoveKey(context.Background(), testObjectID, "CERT-1", "p") }, "not a GUID"},
		{"no proof", nil, func(c *Client) error { return c.RemoveKey(context.Background(), testObjectID, testKeyID, "") }, "proof"},
		{"no certificate", nil, func(c *Client) error {
			_, err := c.AddKey(context.Background(), testObjectID, nil, "", "p")
			return err
		}, "certificate"},
		{"http endpoint", func(c *Client) { c.Endpoint = "http://" + strings.TrimPrefix(gs.URL, "https://") }, func(c *Client) error {
			return c.RemoveKey(context.Background(), testObjectID, testKeyID, "p")
		}, "https"},
		{"endpoint with a path", func(c *Client) { c.Endpoint = gs.URL + "/v1.0?x=1" }, func(c *Client) error {
			return c.RemoveKey(context.Background(), testObjectID, testKeyID, "p")
		}, "scheme and host"},
		{"token refused", func(c *Client) {
			c.Token = func(context.Context) (string, error) { return "", tokenErr }
		}, func(c *Client) error { return c.RemoveKey(context.Background(), testObjectID, testKeyID, "p") }, "AADSTS700027"},
		{"empty token", func(c *Client) {
			c.Token = func(context.Context) (string, error) { return "", nil }
		}, func(c *Client) error { return c.RemoveKey(context.Background(), testObjectID, testKeyID, "p") }, "empty"},
		{"no token source", func(c *Client) { c.Token = nil }, func(c *Client) error {
			return c.RemoveKey(context.Background(), testObjectID, testKeyID, "p")
		}, "token"},
	} {
		cl := gs.client()
		if c.edit != nil {
			c.edit(cl)
		}
		err := c.call(cl)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
		if c.name == "token refused" && !errors.Is(err, tokenErr) {
			t.Errorf("%s: %v does not wrap the token error", c.name, err)
		}
	}
	if n := gs.hits.Load(); n != 0 {
		t.Fatalf("%d requests", n)
	}
	// A trailing slash on the endpoint is fine.
	cl := gs.client()
	cl.Endpoint += "/"
	if err := cl.RemoveKey(context.Background(), testObjectID, testKeyID, "p"); err != nil || gs.requests()[0].path != "/v1.0/applications/"+testObjectID+"/removeKey" {
		t.Fatalf("%v", err)
	}
	_ = p
}

// Client.Proof is NewProof on the client's clock.
func TestClientProofUsesItsClock(t *testing.T) {
	p := pairs(t)[0]
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	c := &Client{Now: func() time.Time { return now }}
	got, err := c.Proof(p.key, p.cert, testObjectID)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := NewProof(p.key, p.cert, testObjectID, now)
	if strings.Join(strings.Split(got, ".")[:2], ".") != strings.Join(strings.Split(want, ".")[:2], ".") {
		t.Fatal("the proof is not made at the client's time")
	}
}
