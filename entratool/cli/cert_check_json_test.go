package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cert check -o json is for monitoring: one object per certificate with the same
// verdicts and exit code as the text lines.
func TestCertCheckJSON(t *testing.T) {
	e := newTestEnv(t)
	fresh := e.newCert("fresh", testPassword)
	soon := e.newCert("soon", testPassword, "--days", "10")
	e.createProfile("fresh", fresh, testPassword)
	e.createProfile("soon", soon, testPassword)
	gone := e.newCert("gone", testPassword)
	e.createProfile("gone", gone, testPassword)
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}

	r := e.run("", "cert", "check", "--all", "-o", "json")
	if r.code != 2 {
		t.Fatalf("exit %d, want 2 (one unreadable):\n%s", r.code, r)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(r.out), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.out)
	}
	by := map[string]map[string]any{}
	for _, c := range got {
		by[c["profile"].(string)] = c
	}
	if len(by) != 3 {
		t.Fatalf("want 3 certificates:\n%s", r.out)
	}
	f := by["fresh"]
	if f["status"] != "ok" || f["path"] != fresh || len(f["thumbprint"].(string)) != 40 || len(f["thumbprintSHA256"].(string)) != 64 ||
		f["subject"] != "CN=fresh" || f["daysLeft"].(float64) < 700 {
		t.Errorf("fresh: %v", f)
	}
	if _, err := time.Parse(time.RFC3339, f["notAfter"].(string)); err != nil {
		t.Errorf("notAfter: %v", err)
	}
	if s := by["soon"]; s["status"] != "expiring" || s["daysLeft"].(float64) > 10 {
		t.Errorf("soon: %v", s)
	}
	if g := by["gone"]; g["status"] != "unreadable" || !strings.Contains(g["error"].(string), "certificate not found: "+gone) {
		t.Errorf("gone: %v", g)
	}

	// A file: profile null. Text and JSON agree on the exit code.
	r = e.run(testPassword, "cert", "check", soon, "--password-stdin", "-o", "json")
	if r.code != 1 || !strings.Contains(r.out, `"profile": null`) || !strings.Contains(r.out, `"status": "expiring"`) {
		t.Errorf("file: %s", r)
	}
	e.expect(2, "unknown output \"yaml\"", "", "cert", "check", "--all", "-o", "yaml")
}

// Errors of cert info and export-public name the profile they are about: with several
// profiles, a path alone does not say which one to fix.
func TestCertErrorsNameTheProfile(t *testing.T) {
	e := newTestEnv(t)
	pfx := e.newCert("moved", testPassword)
	e.createProfile("moved", pfx, testPassword)
	if err := os.Rename(pfx, filepath.Join(e.dir, "elsewhere.pfx")); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"cert", "info", "-p", "moved"},
		{"cert", "export-public", "-p", "moved", "-o", filepath.Join(e.dir, "x.cer")},
	} {
		r := e.run("", args...)
		if r.code == 0 || !strings.Contains(r.err, "profile 'moved': certificate not found: "+pfx) {
			t.Errorf("%v: %s", args, r)
		}
	}
}
