package launch

import (
	"os"
	"strings"
	"testing"

	"github.com/entratool/entratool/core/internal/testchild"
)

// Getenv must answer exactly as os.Getenv for the environment the process started with,
// including what exec can hand a process but os/exec would tidy away: repeated names
// (the first counts), values with '=', empty values, entries without '=', a large
// environment. The child is started with os.StartProcess, which passes the list as it is.
func TestGetenvIsOsGetenv(t *testing.T) {
	if os.Getenv("ENTRATOOL_GETENV_CHILD") == "1" {
		getenv := Getenv()
		getenv2, lookup := Environ()
		keys := []string{"", "=", "A", "A=B", "DUP", "EQ", "EMPTY", "NOEQUALS", "NOPE", "LONG", "LAST", "DU", "DUPX", "\x00", "ENTRATOOL_GETENV_CHILD"}
		for _, kv := range os.Environ() {
			k, _, _ := strings.Cut(kv, "=")
			keys = append(keys, k)
		}
		for _, k := range keys {
			if got, want := getenv(k), os.Getenv(k); got != want {
				t.Errorf("Getenv()(%q) = %.40q, os.Getenv says %.40q", k, got, want)
			}
			if got, want := getenv2(k), os.Getenv(k); got != want {
				t.Errorf("Environ()'s getenv(%q) = %.40q, os.Getenv says %.40q", k, got, want)
			}
			got, set := lookup(k)
			if want, wantSet := os.LookupEnv(k); got != want || set != wantSet {
				t.Errorf("Environ()'s lookup(%q) = %.40q %v, os.LookupEnv says %.40q %v", k, got, set, want, wantSet)
			}
		}
		return
	}
	env := []string{
		"DUP=first", "DUP=second", "EQ=a=b=c", "A=B=C", "EMPTY=", "NOEQUALS", "=starts-with-equals",
		"LONG=" + strings.Repeat("x", 100<<10), "ENTRATOOL_GETENV_CHILD=1", "LAST=last",
	}
	if ok, out := testchild.Run(t, "TestGetenvIsOsGetenv", env); !ok {
		t.Fatalf("child:\n%s", out)
	}
}
