package execcred

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseExecInfo checks that any KUBERNETES_EXEC_INFO either parses to a version the
// plugin can answer with or fails with one line, and that the answer then marshals.
func FuzzParseExecInfo(f *testing.F) {
	for _, s := range []string{
		"",
		" ",
		"null",
		"{}",
		`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`,
		`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":true}}`,
		`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1alpha1","spec":{}}`,
		`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://x","certificate-authority-data":"LS0t","config":{"a":[1,2]}},"interactive":false}}`,
		`{"apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":"yes"}}`,
		`{"kind":"Pod"}`,
		"\xff\xfe{",
		`[1,2,3]`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		info, err := ParseExecInfo(raw)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("multi-line error %q", err)
			}
			if len(err.Error()) > 400 {
				t.Fatalf("error of %d bytes quotes too much input", len(err.Error()))
			}
			return
		}
		if info.APIVersion != V1 && info.APIVersion != V1beta1 {
			t.Fatalf("accepted version %q", info.APIVersion)
		}
		if !info.Provided && info.Interactive {
			t.Fatal("interactive without exec info")
		}
		if _, err := Marshal(info.APIVersion, "t", time.Time{}); err != nil {
			t.Fatal(err)
		}
	})
}
