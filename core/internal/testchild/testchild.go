// Package testchild runs a test of the calling test binary again in a child process
// with exactly the environment given — as exec(2) hands it over, repeated names and
// entries without '=' included — for tests of what a process reads at start (its
// environment, its local zone), which the parent has already read.
package testchild

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// Run runs the test named name (a top-level test of this binary) in a child with
// environment env and reports whether it passed; out is what it printed, for the
// failure message.
func Run(t *testing.T, name string, env []string) (passed bool, out string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p, err := os.StartProcess(os.Args[0], []string{os.Args[0], "-test.run=^" + name + "$", "-test.v"},
		&os.ProcAttr{Env: env, Files: []*os.File{nil, w, w}})
	w.Close()
	if err != nil {
		r.Close()
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.ReadFrom(r)
	r.Close()
	st, err := p.Wait()
	out = b.String()
	return err == nil && st.Success() && strings.Contains(out, "--- PASS: "+name), out
}
