package cli

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entratool/entratool/core/fsutil"
	"github.com/entratool/entratool/core/profile"
)

// An edit whose secret cannot be stored takes back only what it changed: a field that
// another command changed between the edit's save and its rollback keeps that change.
// The interleaving is forced with the secret store's lock: the edit has saved the profile
// and waits for secrets.json while the "other command" writes profiles.json.
func TestEditRollbackKeepsConcurrentChanges(t *testing.T) {
	e := newTestEnv(t)
	pfx := e.newCert("rb", testPassword)
	e.createProfile("rb", pfx, testPassword)
	st := &profile.Store{Home: e.home}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	unlock, err := fsutil.Lock(ctx, e.secretsPath()+".lock")
	if err != nil {
		t.Fatal(err)
	}
	locked := true
	defer func() {
		if locked {
			unlock()
		}
	}()
	done := make(chan result, 1)
	go func() {
		var out, errb bytes.Buffer
		s := Streams{In: strings.NewReader(testPassword), Out: &out, Err: &errb}
		code := Run(ctx, s, []string{"config", "edit", "-p", "rb", "--scope", "api://edited/.default", "--send-x5c",
			"--certificate-password-stdin"}, e.getenv)
		done <- result{code: code, out: out.String(), err: errb.String()}
	}()

	// Wait for the edit's save; it then blocks on the secret store's lock.
	for {
		cfg, err := st.Load()
		if err != nil {
			t.Fatal(err)
		}
		if p := cfg.Get("rb"); p != nil && p.Scope == "api://edited/.default" {
			break
		}
		select {
		case r := <-done:
			t.Fatalf("the edit ended before it saved: %s", r)
		case <-ctx.Done():
			t.Fatal("the edit never saved")
		case <-time.After(5 * time.Millisecond):
		}
	}
	// Another command changes the profile: fields the edit did not touch, and one it did.
	_, err = st.UpdateProfile(ctx, "rb", func(p *profile.Profile) error {
		p.GitHosts = []string{"git.example.com"}
		p.SubscriptionID = seedTenantID
		p.Scope = "api://other/.default"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// secrets.json no longer parses: storing the password fails, and the edit rolls back.
	if err := os.WriteFile(e.secretsPath(), []byte(`{"rb/certificate-password": `), 0o600); err != nil {
		t.Fatal(err)
	}
	unlock()
	locked = false
	r := <-done
	if r.code != 1 || !strings.Contains(r.err, "profile 'rb' was left as it was") {
		t.Fatalf("want exit 1 and the rollback named, got %s", r)
	}
	cfg, err := st.Load()
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Get("rb")
	if p == nil {
		t.Fatal("profile gone")
	}
	if p.SendX5C {
		t.Error("sendX5C, changed only by the failed edit, was not taken back")
	}
	if !slices.Equal(p.GitHosts, []string{"git.example.com"}) || p.SubscriptionID != seedTenantID {
		t.Errorf("the rollback overwrote another command's change: gitHosts %v, subscriptionId %q", p.GitHosts, p.SubscriptionID)
	}
	if p.Scope != "api://other/.default" {
		t.Errorf("scope = %q: the rollback overwrote the value another command wrote after the edit", p.Scope)
	}
	if p.CertificatePath != pfx || !p.UseCertificate {
		t.Errorf("certificate changed: %+v", p)
	}
}
