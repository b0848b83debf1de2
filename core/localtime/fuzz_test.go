package localtime

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// FuzzPOSIXTZ reads arbitrary TZ strings at arbitrary instants: ParseRule and Lookup
// never panic, the offset stays within what the grammar can say (24:59:59, plus the
// default hour of DST), the zone name comes from the string — and, where date(1) is
// there to ask and glibc would read the string as a rule too, the local time and zone
// name are the C library's, at the instant and on each side of both changes of its
// year.
func FuzzPOSIXTZ(f *testing.F) {
	for _, s := range []string{
		"EST+5", "<+0530>-5:30", "EST5EDT,M3.2.0,M11.1.0", "CET-1CEST,M3.5.0,M10.5.0/3",
		"AEST-10AEDT,M10.1.0,M4.1.0/3", "<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", "IST-1GMT0,M10.5.0,M3.5.0/1",
		"XXX3YYY,J60/2,J300/2", "XXX3YYY,59,299", "XXX5YYY,M3.2.0/-1,M11.1.0/26", "EST5EDT4,M3.2.0/2:30:15,M11.1.0/167",
		"garbage", "AB5", "<ABC", "EST5x", "EST+-5", "EST5EDT,M3.2.0/,M11.1.0", "EST5EDT,M-65533.2.0,M11.1.0",
		"EST5EDT,M13.1.0,M11.1.0", "EST5EDT,M0.1.0,M11.1.0", "AAA3BBB", "", ":", "/x",
	} {
		f.Add(s, int64(1704153600))
		f.Add(s, int64(1720000000))
	}
	f.Add("EST5EDT,M3.2.0,M11.1.0", int64(-1))
	f.Add("EST5EDT,M3.2.0,M11.1.0", int64(1<<34))
	// Compared with glibc only: other C libraries read malformed strings their own way.
	date, _ := exec.LookPath("date")
	if out, err := exec.Command(date, "--version").Output(); err != nil || !strings.Contains(string(out), "GNU coreutils") || !glibc() {
		date = ""
	}
	f.Fuzz(func(t *testing.T, tz string, sec int64) {
		// 1901 to 2514: years date(1) and Go's time print alike.
		const lo, span = -1 << 31, 1<<34 + 1<<31
		sec = lo + (sec%span+span)%span
		r := ParseRule(tz)
		tm := time.Unix(sec, 0)
		name, off := r.Lookup(tm)
		if off < -93599 || off > 93599 {
			t.Fatalf("%q @%d: offset %d", tz, sec, off)
		}
		if !strings.Contains(tz, name) {
			t.Fatalf("%q @%d: zone name %q is not in the string", tz, sec, name)
		}
		z := Zone{rule: &r}
		if got := z.In(tm); !got.Equal(tm) {
			t.Fatalf("%q: In moved the instant", tz)
		}
		if date == "" || !glibcReadsAsRule(tz) || r.defaulted || storesBadMonth(r) {
			return
		}
		year := tm.UTC().Year()
		instants := []int64{sec}
		for _, c := range []int64{r.std.at(year), r.dst.at(year)} {
			instants = append(instants, c-1, c)
		}
		want := glibcLocal(t, date, tz, instants)
		for i, e := range instants {
			if got := ours(r, e); got != want[i] {
				t.Fatalf("TZ=%q @%d: %q, the C library says %q", tz, e, got, want[i])
			}
		}
	})
}
