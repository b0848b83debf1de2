//go:build unix && !ios && !android

package localtime

import (
	"os"
	"testing"
	"time"

	"github.com/entratool/entratool/core/internal/testchild"
)

// System must be the zone time.Local is for the same environment: the same offset and
// abbreviation at every instant, for TZ unset (the system zone), empty, a path, a zone
// name and a POSIX string. Each case runs in a child with exactly that environment,
// since time.Local is read once per process.
func TestSystemIsTimeLocal(t *testing.T) {
	if os.Getenv("LOCALTIME_SYSTEM_CHILD") == "1" {
		loc := System(os.LookupEnv)
		for sec := int64(-1 << 31); sec < 1<<33; sec += 86400*37 + 3607 {
			tm := time.Unix(sec, 0)
			gotName, gotOff := tm.In(loc).Zone()
			wantName, wantOff := tm.In(time.Local).Zone()
			if gotName != wantName || gotOff != wantOff {
				t.Fatalf("TZ=%q @%d: System gives %s %d, time.Local %s %d", os.Getenv("TZ"), sec, gotName, gotOff, wantName, wantOff)
			}
		}
		if tz, ok := os.LookupEnv("TZ"); ok && tz != "" && loc != time.Local {
			t.Fatalf("TZ=%q: System is not time.Local itself", tz)
		}
		return
	}
	cases := [][]string{
		nil, {"TZ="}, {"TZ=:"}, {"TZ=/etc/localtime"}, {"TZ=:/etc/localtime"}, {"TZ=America/New_York"},
		{"TZ=Asia/Kolkata"}, {"TZ=EST+5"}, {"TZ=UTC"}, {"TZ=No/Such_Zone"},
	}
	for _, c := range cases {
		env := append([]string{"LOCALTIME_SYSTEM_CHILD=1"}, c...)
		if ok, out := testchild.Run(t, "TestSystemIsTimeLocal", env); !ok {
			t.Errorf("env %q:\n%s", c, out)
		}
	}
}

// An unreadable or malformed system zone is UTC, as Go's initLocal makes it.
func TestReadZoneFileRefusesWhatTimeWould(t *testing.T) {
	if _, err := readZoneFile("/nonexistent/localtime"); err == nil {
		t.Fatal("missing file read")
	}
	p := t.TempDir() + "/localtime"
	if err := os.WriteFile(p, []byte("not a zoneinfo file"), 0o600); err != nil {
		t.Fatal(err)
	}
	data, err := readZoneFile(p)
	if err != nil || string(data) != "not a zoneinfo file" {
		t.Fatalf("read %q, %v", data, err)
	}
	if _, err := time.LoadLocationFromTZData("Local", data); err == nil {
		t.Fatal("garbage accepted as a zone")
	}
}
