// Package localtime tells the local time of an instant as the C library's localtime
// does from TZ — what programs written in C or Python print, the Azure CLI among them —
// including POSIX TZ strings such as "EST+5", "<+0530>-5:30" or
// "CET-1CEST,M3.5.0,M10.5.0/3", which Go's time.Local reads as UTC.
//
// Go's time package parses such strings only at the end of zoneinfo files, unexported;
// this package reads them as glibc's tzset does (time/tzset.c), malformed ones included,
// so that both print the same time. It links only the standard library: the lean fronts
// may use it.
package localtime

import (
	"runtime"
	"strings"
	"time"
)

// Zone is the local time zone TZ names, as the C library reads it: a zoneinfo zone, or
// a POSIX TZ string.
type Zone struct {
	loc  *time.Location // a zoneinfo zone (or Go's time.Local)
	rule *Rule          // a POSIX TZ string, when TZ names no zoneinfo zone
}

// FromTZ returns the zone the C library's localtime uses when the environment variable
// TZ holds tz. local is the zone Go derived from the same environment (time.Local):
// where Go and the C library agree — TZ unset or empty, a path (":/…" or "/…"), a
// zoneinfo name — it is used as it is; any other value is a POSIX TZ string, which Go
// would read as UTC.
func FromTZ(tz string, local *time.Location) Zone {
	if local == nil {
		local = time.Local
	}
	// On Windows Go reads the zone from the system, not TZ, and the C runtime reads TZ
	// with a grammar of its own: nothing here applies.
	if runtime.GOOS == "windows" {
		return Zone{loc: local}
	}
	// A leading colon means "implementation-defined"; glibc, like Go, ignores it.
	name := strings.TrimPrefix(tz, ":")
	if name == "" || name[0] == '/' || name == local.String() {
		return Zone{loc: local}
	}
	// "Local" is Go's name for time.Local, not a zoneinfo file: glibc reads it as a
	// POSIX string (with no offset: UTC).
	if name != "Local" {
		if loc, err := time.LoadLocation(name); err == nil {
			return Zone{loc: loc}
		}
	}
	r := ParseRule(name)
	return Zone{rule: &r}
}

// Location returns a location in which t reads as the C library's local time: the
// zoneinfo zone itself, or, for a POSIX TZ string, the fixed offset in effect at t.
func (z Zone) Location(t time.Time) *time.Location {
	switch {
	case z.rule != nil:
		name, offset := z.rule.Lookup(t)
		return time.FixedZone(name, offset)
	case z.loc != nil:
		return z.loc
	}
	return time.Local
}

// In returns t in the zone's local time.
func (z Zone) In(t time.Time) time.Time { return t.In(z.Location(t)) }
