package azcli

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/entratool/entratool/internal/testkit"
)

// glibcLocal formats each instant as the C library's localtime does under TZ=tz.
func glibcLocal(t *testing.T, tz string, instants []int64) []string {
	t.Helper()
	return testkit.GNUDate(t, testkit.LookGNUDate(t), tz, "+%Y-%m-%d %H:%M:%S", instants)
}

// expiresOn is local time as az (Python, so the C library) prints it, whatever TZ
// holds: a zoneinfo name, or a POSIX rule string, which Go's time.Local reads as UTC.
func TestRunExpiresOnFollowsTZ(t *testing.T) {
	utc := func(s string) int64 {
		tm, err := time.Parse("2006-01-02 15:04:05", s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.Unix()
	}
	var instants []int64
	// Each side of the 2024 US and EU transitions, and ordinary instants.
	for _, edge := range []string{"2024-03-10 07:00:00", "2024-11-03 06:00:00", "2024-03-31 01:00:00", "2024-10-27 01:00:00"} {
		e := utc(edge)
		instants = append(instants, e-3601, e-1, e, e+1, e+3600)
	}
	instants = append(instants, utc("2024-01-02 00:00:00"), utc("2024-07-15 12:34:56"), utc("2025-12-31 23:59:59"))

	for _, tz := range []string{"EST+5", "<+0530>-5:30", "Europe/Berlin", "UTC", "EST5EDT,M3.2.0,M11.1.0", "CET-1CEST,M3.5.0,M10.5.0/3", ":EST+5", "<-03>3"} {
		want := glibcLocal(t, tz, instants)
		env := func(k string) string {
			if k == "TZ" {
				return tz
			}
			return ""
		}
		for i, e := range instants {
			src := newSource()
			src.tok.ExpiresOn = time.Unix(e, 0)
			r := runAz(t, src, Env{Getenv: env, Local: time.UTC}, "account", "get-access-token", "-o", "json")
			var at AccessToken
			if r.code != 0 || json.Unmarshal([]byte(r.out), &at) != nil {
				t.Fatalf("TZ=%q: exit %d %s %s", tz, r.code, r.out, r.err)
			}
			if at.ExpiresOn != want[i]+".000000" || at.ExpiresOnUTC != e {
				t.Errorf("TZ=%q, @%d: expiresOn %q, expires_on %d; the C library says %q", tz, e, at.ExpiresOn, at.ExpiresOnUTC, want[i])
			}
		}
	}
}
