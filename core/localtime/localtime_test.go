package localtime

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/entratool/entratool/internal/testkit"
)

// zoneinfoDir is where glibc (with TZDIR unset, as glibcLocal runs it) looks for a TZ
// value before reading it as a POSIX string.
const zoneinfoDir = "/usr/share/zoneinfo/"

// glibcLocal returns, for each instant, "local time|zone name" as the C library's
// localtime gives them under TZ=tz.
func glibcLocal(t testing.TB, date, tz string, instants []int64) []string {
	t.Helper()
	return testkit.GNUDate(t, date, tz, "+%Y-%m-%d %H:%M:%S|%Z", instants)
}

// glibc says whether the C library is glibc: every libc reads a well-formed TZ string
// alike, but what is left of a malformed one is glibc's own.
func glibc() bool { return exec.Command("getconf", "GNU_LIBC_VERSION").Run() == nil }

// ours formats an instant as glibcLocal does.
func ours(r Rule, e int64) string {
	tm := time.Unix(e, 0)
	name, off := r.Lookup(tm)
	return tm.In(time.FixedZone(name, off)).Format("2006-01-02 15:04:05") + "|" + name
}

// instantsFor are instants that tell rules apart in year: each side of both changes
// as r computes them (the second before, the second of, an hour either way), and a
// spread over the year.
func instantsFor(r Rule, year int) []int64 {
	var out []int64
	for _, c := range []int64{r.std.at(year), r.dst.at(year)} {
		out = append(out, c-3600, c-1, c, c+1, c+3600)
	}
	jan1 := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for i := int64(-1); i < 54; i++ {
		out = append(out, jan1+i*(7*86400+3607))
	}
	return out
}

// glibcReadsAsRule says glibc would read tz as a POSIX string: no file of that name
// in the zoneinfo directory, nothing the environment cannot hold.
func glibcReadsAsRule(tz string) bool {
	if tz == "" || strings.ContainsRune(tz, 0) || tz[0] == ':' || tz[0] == '/' {
		return false
	}
	_, err := os.Stat(zoneinfoDir + tz)
	return err != nil
}

// storesBadMonth says a half failed after storing a month outside 1–12: glibc then
// reads outside its table of month lengths (undefined), so nothing is compared.
func storesBadMonth(r Rule) bool {
	for _, h := range []change{r.std, r.dst} {
		if h.kind == monthly && (h.m < 1 || h.m > 12) {
			return true
		}
	}
	return false
}

// The strings in the brief and the ones real systems use, then malformed ones, which
// glibc reads partway: each must give glibc's local time and zone name, on both sides
// of every change, in common and leap years, before and after 1970 (where glibc counts
// changes from 1970) and past 2038.
func TestRuleMatchesGlibc(t *testing.T) {
	date := testkit.LookGNUDate(t)
	zones := []string{
		"EST+5", "<+0530>-5:30", "UTC0", "<-03>3",
		"EST5EDT,M3.2.0,M11.1.0", "CET-1CEST,M3.5.0,M10.5.0/3", "CST6CDT,M3.2.0/2:00:00,M11.1.0/2:00:00",
		"AEST-10AEDT,M10.1.0,M4.1.0/3", "NZST-12NZDT,M9.5.0,M4.1.0/3", "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
		"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", "IST-1GMT0,M10.5.0,M3.5.0/1", "<+00>0<+02>-2,M3.5.0/1,M10.5.0/3",
		"XXX3YYY,J60/2,J300/2", "XXX3YYY,59,299", "XXX3YYY,0,365", "XXX-2YYY-4,J1/0,J365/25", "XXX5YYY,M3.2.0/-1,M11.1.0/26",
		"EST5EDT4,M3.2.0/2:30:15,M11.1.0/167", "EST+5:30:45", "ABC+24:59:59",
	}
	// Malformed: glibc keeps what it read.
	malformed := []string{
		"ABC-25:61", "ABC+99999999999999999999999", "garbage", "AB5", "<AB>5", "<ABC", "<ABC>", "EST5x", "EST5 EDT", "EST+ 5", "EST+-5",
		"EST5EDT,M3.2.0", "EST5EDT,M3.2.0,x", "EST5EDT;M3.2.0;M11.1.0", "EST5EDT,M3.2.0/2x,M11.1.0",
		"EST5EDT,M3.2.0/,M11.1.0", "EST5EDT,M3.2.0/-,M11.1.0", "EST5EDT,M3.2.0/+3,M11.1.0", "EST5EDT,J0,J5",
		"EST5EDT,M3.6.0,M11.1.0", "EST5EDT,M3.2.7,M11.1.0", "EST5EDT,J366,J5", "EST5EDT,366,5",
		"EST5EDT,M+3.2.0,M11.1.0", "EST5EDT,M-65533.2.0,M11.1.0", "EST5EDT,M 3. 2. 0,M11.1.0", "EST5EDT,M3.2.0,M11.1",
		"EST5EDT+,M3.2.0,M11.1.0", "EST5EDT 4,M3.2.0,M11.1.0", "EST5EDT,M3.2.0,M11.1.0,junk", "Local",
	}
	if glibc() {
		zones = append(zones, malformed...)
	} else {
		t.Log("not glibc: malformed strings not compared")
	}
	for _, tz := range zones {
		if !glibcReadsAsRule(tz) {
			t.Fatalf("%q: glibc would read a zoneinfo file, not the string", tz)
		}
		r := ParseRule(tz)
		if r.defaulted || storesBadMonth(r) {
			t.Fatalf("%q cannot be compared with glibc", tz)
		}
		var instants []int64
		for _, y := range []int{1969, 1970, 1999, 2023, 2024, 2037, 2100} {
			instants = append(instants, instantsFor(r, y)...)
		}
		want := glibcLocal(t, date, tz, instants)
		bad := 0
		for i, e := range instants {
			if got := ours(r, e); got != want[i] && bad < 5 {
				bad++
				t.Errorf("TZ=%q @%d: %q, the C library says %q", tz, e, got, want[i])
			}
		}
	}
}

// With a DST name and no rules, the changes are POSIX's US default (see Rule), as the
// same string with the rules written out gives them.
func TestRuleDefaultsToUSRules(t *testing.T) {
	for _, tz := range []string{"AAA3BBB", "AAA3BBB,", "AAA-2BBB-4"} {
		r := ParseRule(tz)
		if !r.defaulted {
			t.Errorf("%q: not marked as defaulted", tz)
		}
		explicit := ParseRule(strings.TrimSuffix(tz, ",") + ",M3.2.0,M11.1.0")
		for _, y := range []int{2023, 2024} {
			for _, e := range instantsFor(explicit, y) {
				if a, b := ours(r, e), ours(explicit, e); a != b {
					t.Errorf("%q @%d: %q, with the rules written out %q", tz, e, a, b)
				}
			}
		}
	}
}

// FromTZ leaves to Go what Go reads as the C library does, and reads the rest as a
// POSIX string.
func TestFromTZ(t *testing.T) {
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Skip("no zoneinfo:", err)
	}
	at := time.Date(2024, 7, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		tz, want string
		local    *time.Location
	}{
		{"", "2024-07-01 17:30:00", kolkata},                // unset or empty: Go's time.Local
		{":", "2024-07-01 17:30:00", kolkata},               // likewise
		{":/etc/localtime", "2024-07-01 17:30:00", kolkata}, // a path: Go reads it
		{"/usr/share/zoneinfo/UTC", "2024-07-01 17:30:00", kolkata},
		{"Asia/Kolkata", "2024-07-01 17:30:00", time.UTC}, // a zoneinfo name
		{":Europe/Berlin", "2024-07-01 14:00:00", time.UTC},
		{"EST+5", "2024-07-01 07:00:00", time.UTC}, // a rule, which Go's time.Local reads as UTC
		{":EST+5", "2024-07-01 07:00:00", time.UTC},
		{"<+0530>-5:30", "2024-07-01 17:30:00", time.UTC},
		{"EST5EDT,M3.2.0,M11.1.0", "2024-07-01 08:00:00", time.UTC},
		{"Local", "2024-07-01 12:00:00", kolkata},        // Go's name for time.Local; glibc: a rule, UTC
		{"No/Such_Zone", "2024-07-01 12:00:00", kolkata}, // neither: UTC, as both say
	}
	for _, tc := range cases {
		got := FromTZ(tc.tz, tc.local).In(at).Format("2006-01-02 15:04:05")
		if got != tc.want {
			t.Errorf("FromTZ(%q): %s, want %s", tc.tz, got, tc.want)
		}
	}
	if (Zone{}).Location(at) != time.Local {
		t.Error("the zero Zone is not time.Local")
	}
}

// The zoneinfo names FromTZ hands to Go agree with glibc too.
func TestFromTZMatchesGlibcForZoneNames(t *testing.T) {
	date := testkit.LookGNUDate(t)
	for _, tz := range []string{"Europe/Berlin", "UTC", "America/St_Johns", "Australia/Lord_Howe", "EST+5", "<+0530>-5:30"} {
		z := FromTZ(tz, time.UTC)
		var instants []int64
		for e := int64(1704067200); e < 1735689600; e += 5*86400 + 3599 {
			instants = append(instants, e)
		}
		want := glibcLocal(t, date, tz, instants)
		for i, e := range instants {
			got := z.In(time.Unix(e, 0)).Format("2006-01-02 15:04:05")
			if w, _, _ := strings.Cut(want[i], "|"); got != w {
				t.Errorf("TZ=%q @%d: %s, the C library says %s", tz, e, got, w)
				break
			}
		}
	}
}
