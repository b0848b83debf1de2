package secret

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestKey(t *testing.T) {
	if got := Key("prod", CertificatePassword); got != "prod/certificate-password" {
		t.Fatal(got)
	}
	if got := Key("prod", ClientSecret); got != "prod/client-secret" {
		t.Fatal(got)
	}
}

func TestChoose(t *testing.T) {
	for _, tt := range []struct{ env, profile, want string }{
		{"", "", "keyring"},
		{"", "file", "file"},
		{"env", "file", "env"},
		{"file", "", "file"},
	} {
		if got := Choose(tt.profile, envOf(map[string]string{"ENTRATOOL_SECRET_STORE": tt.env})); got != tt.want {
			t.Errorf("Choose(%q) with env %q = %q, want %q", tt.profile, tt.env, got, tt.want)
		}
	}
}

func TestOpen(t *testing.T) {
	home := t.TempDir()
	for kind, want := range map[string]string{"keyring": "keyring", "file": "file", "env": "env"} {
		s, err := Open(kind, home, envOf(nil))
		if err != nil || s.Name() != want {
			t.Fatalf("Open(%q) = %v, %v", kind, s, err)
		}
	}
	if k, _ := Open("keyring", home, nil); k.(*Keyring).Timeout != 3*time.Second {
		t.Fatalf("default keyring timeout %v, want 3s", k.(*Keyring).Timeout)
	}
	_, err := Open("vault", home, nil)
	if err == nil || err.Error() != `unknown secret store "vault": choose keyring, file or env` {
		t.Fatalf("err = %v", err)
	}
	if _, err := Open("file", "", nil); err == nil {
		t.Fatal("file store without a home must fail")
	}
}

func TestEnvStore(t *testing.T) {
	ctx := context.Background()
	s, _ := Open("env", "", envOf(map[string]string{EnvCertPassword: "pfx-pw", EnvClientSecret: "cs-val"}))
	if v, err := s.Get(ctx, Key("any", CertificatePassword)); err != nil || v != "pfx-pw" {
		t.Fatalf("cert password = %q, %v", v, err)
	}
	if v, err := s.Get(ctx, Key("other", ClientSecret)); err != nil || v != "cs-val" {
		t.Fatalf("client secret = %q, %v", v, err)
	}
	if _, err := s.Get(ctx, Key("p", "token")); err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown kind: %v", err)
	}
	err := s.Set(ctx, Key("p", ClientSecret), "new-secret-value")
	if err == nil || !strings.Contains(err.Error(), "read-only") || !strings.Contains(err.Error(), "export "+EnvClientSecret) || strings.Contains(err.Error(), "new-secret-value") {
		t.Fatalf("Set: %v", err)
	}
	if err := s.Delete(ctx, Key("p", CertificatePassword)); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("Delete: %v", err)
	}

	empty, _ := Open("env", "", envOf(nil))
	_, err = empty.Get(ctx, Key("p", CertificatePassword))
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), EnvCertPassword+" is not set") {
		t.Fatalf("unset: %v", err)
	}
}

func TestFileStore(t *testing.T) {
	ctx := context.Background()
	home := filepath.Join(t.TempDir(), "home")
	s, _ := Open("file", home, nil)
	k := Key("prod", CertificatePassword)
	if _, err := s.Get(ctx, k); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get on no file: %v", err)
	}
	if err := s.Delete(ctx, k); err != nil {
		t.Fatalf("Delete on no file: %v", err)
	}
	if _, err := os.Stat(home); !os.IsNotExist(err) {
		t.Fatal("Get/Delete created the home")
	}
	value := `pa"ss <&> wörd` + "\n"
	if err := s.Set(ctx, k, value); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, Key("prod", ClientSecret), "cs"); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get(ctx, k); err != nil || v != value {
		t.Fatalf("Get = %q, %v", v, err)
	}
	path := filepath.Join(home, "secrets.json")
	for p, want := range map[string]os.FileMode{home: 0o700, path: 0o600} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != want {
			t.Fatalf("%s: %v, %v; want %v", p, fi.Mode().Perm(), err, want)
		}
	}
	if err := s.Delete(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, k); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
	if _, err := s.Get(ctx, k); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
	if v, err := s.Get(ctx, Key("prod", ClientSecret)); err != nil || v != "cs" {
		t.Fatalf("other key lost: %q, %v", v, err)
	}
	data, _ := os.ReadFile(path)
	if string(data) != "{\n  \"prod/client-secret\": \"cs\"\n}\n" {
		t.Fatalf("file content %q", data)
	}
}

func TestFileStoreMalformedIsNeverOverwritten(t *testing.T) {
	const secretValue = "hunter2-very-secret"
	tests := []struct {
		name, content string
		line, col     int
		msg           string
	}{
		{"truncated", "{\n  \"p/client-secret\": \"" + secretValue, 2, 42, "unexpected end of JSON input"},
		{"trailing comma", "{\n  \"p/client-secret\": \"" + secretValue + "\",\n}\n", 3, 1, "invalid character '}'"},
		{"number value", "{\n  \"p/client-secret\": 12345678\n}", 2, 22, `the value of "p/client-secret" must be a string, not a number`},
		{"array", "[\"" + secretValue + "\"]", 1, 1, "must be a JSON object of strings, not an array"},
		{"null", "  null", 1, 3, "not null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			home := t.TempDir()
			path := filepath.Join(home, "secrets.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			s := NewFile(home)
			for op, call := range map[string]func() error{
				"Get":    func() error { _, err := s.Get(ctx, "p/client-secret"); return err },
				"Set":    func() error { return s.Set(ctx, "q/client-secret", "other-secret") },
				"Delete": func() error { return s.Delete(ctx, "p/client-secret") },
			} {
				err := call()
				var se *SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("%s: %v (%T), want *SyntaxError", op, err, err)
				}
				want := fmt.Sprintf("%s:%d:%d: ", path, tt.line, tt.col)
				if !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), tt.msg) {
					t.Fatalf("%s: %q, want prefix %q and %q", op, err, want, tt.msg)
				}
				if strings.Contains(err.Error(), secretValue) || strings.Contains(err.Error(), "other-secret") || strings.Contains(err.Error(), "12345678") {
					t.Fatalf("%s: error text carries a secret: %q", op, err)
				}
			}
			if data, _ := os.ReadFile(path); string(data) != tt.content {
				t.Fatalf("file changed to %q", data)
			}
		})
	}
}

func TestFileStoreConcurrentSets(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	home := t.TempDir()
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for _, w := range []string{"a", "b"} {
		wg.Go(func() {
			s := NewFile(home) // separate values, as separate commands would have
			for i := range n {
				errs <- s.Set(ctx, Key(fmt.Sprintf("%s%d", w, i), ClientSecret), fmt.Sprintf("v-%s-%d", w, i))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s := NewFile(home)
	for _, w := range []string{"a", "b"} {
		for i := range n {
			if v, err := s.Get(ctx, Key(fmt.Sprintf("%s%d", w, i), ClientSecret)); err != nil || v != fmt.Sprintf("v-%s-%d", w, i) {
				t.Fatalf("%s%d: %q, %v", w, i, v, err)
			}
		}
	}
}
