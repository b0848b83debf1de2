package localtime

import (
	"math"
	"time"
)

// Rule is a POSIX TZ string, "std offset [dst [offset] [,start[/time],end[/time]]]",
// read as glibc's tzset reads it (__tzset_parse_tz in time/tzset.c), step for step:
//
//   - a name is three or more ASCII letters, or <…> around three or more letters,
//     digits, '+' and '-';
//   - an offset is [+|-]hh[:mm[:ss]] west of UTC (EST+5 is UTC−5), hours capped at 24
//     and minutes and seconds at 59; the DST offset defaults to one hour east of
//     standard time;
//   - a change is Jn (day 1–365, February 29 never counted), n (day 0–365, counted) or
//     Mm.w.d (day d of week w of month m, week 5 the last), at /[-]hh[:mm[:ss]] local
//     time (default 02:00; hours beyond 24 and negative times allowed);
//   - numbers are read as C's sscanf("%hu") reads them (leading blanks and a sign
//     allowed, wrapped to 16 bits), and a string glibc cannot read is kept as far as
//     it got: the parts read stand and the rest stays zero — UTC with no name for a
//     string that does not start with a name and an offset, as glibc does.
//
// One deliberate difference: with a DST name but no rules ("AAA3BBB"), glibc takes the
// changes from the zoneinfo file "posixrules" when there is one, shifting them in a way
// that depends on that file's contents; this uses the US rules, M3.2.0,M11.1.0, as glibc
// does when the file is missing (and as Go's own parser does). With the file, glibc's
// changes come on the same days but hours earlier or later.
type Rule struct {
	std, dst change // glibc's tz_rules[0] and tz_rules[1]
	// defaulted says the DST part named no rules (glibc would consult posixrules).
	defaulted bool
}

// change is one half of a Rule: the zone in effect from its change until the other's.
type change struct {
	name    string
	kind    kind
	m, n, d uint16 // Mm.n.d; d alone for Jn and n
	secs    int32  // local time of day of the change, seconds
	offset  int32  // seconds east of UTC while this half is in effect
}

type kind uint8

// The zero kind is glibc's J0 (its enum's first value): a half never set is "day 0".
const (
	julian0 kind = iota // n: day of the year from 0, February 29 counted
	julian1             // Jn: day of the year from 1, February 29 not counted
	monthly             // Mm.n.d
)

// ParseRule reads s as glibc reads a TZ value that names no zoneinfo file. It never
// fails: like glibc, it keeps what it could read.
func ParseRule(s string) Rule {
	var r Rule
	name, rest, ok := parseName(s)
	if ok {
		r.std.name = name
		rest, ok = r.parseOffset(rest, 0)
	}
	if !ok {
		return r
	}
	s = rest
	if s == "" {
		// No DST: the second half is the first.
		r.dst.name, r.dst.offset = r.std.name, r.std.offset
		return r
	}
	if name, rest, ok := parseName(s); ok {
		r.dst.name = name
		s, _ = r.parseOffset(rest, 1)
		if s == "" || s == "," {
			r.defaulted = true
		}
	}
	if s, ok = parseChange(s, &r.std, 0); ok {
		parseChange(s, &r.dst, 1)
	}
	return r
}

// Lookup returns the zone name and offset (seconds east of UTC) in effect at t, as
// glibc's __tz_compute finds them: both changes are computed for t's year in UTC, and
// a start later than the end (the southern hemisphere) means DST spans the new year.
func (r Rule) Lookup(t time.Time) (name string, offset int) {
	sec := t.Unix()
	year := t.UTC().Year()
	start, end := r.std.at(year), r.dst.at(year)
	var isDST bool
	if start > end {
		isDST = sec < end || sec >= start
	} else {
		isDST = sec >= start && sec < end
	}
	h := r.std
	if isDST {
		h = r.dst
	}
	return h.name, int(h.offset)
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isSpace is C's isspace: what sscanf skips before a number.
func isSpace(c byte) bool { return c == ' ' || '\t' <= c && c <= '\r' }

// parseName is glibc's parse_tzname.
func parseName(s string) (name, rest string, ok bool) {
	n := 0
	for n < len(s) && isAlpha(s[n]) {
		n++
	}
	if n >= 3 {
		return s[:n], s[n:], true
	}
	if s == "" || s[0] != '<' {
		return "", s, false
	}
	j := 1
	for j < len(s) && (isAlpha(s[j]) || isDigit(s[j]) || s[j] == '+' || s[j] == '-') {
		j++
	}
	if j >= len(s) || s[j] != '>' || j-1 < 3 {
		return "", s, false
	}
	return s[1:j], s[j+1:], true
}

// parseOffset is glibc's parse_offset for half which (0 standard, 1 DST).
func (r *Rule) parseOffset(s string, which int) (string, bool) {
	h := &r.std
	if which == 1 {
		h = &r.dst
	}
	if which == 0 && (s == "" || s[0] != '+' && s[0] != '-' && !isDigit(s[0])) {
		return s, false
	}
	// POSIX offsets are west of UTC: "-" is east.
	sign := int32(-1)
	if s != "" && (s[0] == '+' || s[0] == '-') {
		if s[0] == '-' {
			sign = 1
		}
		s = s[1:]
	}
	v, n, used := scanHMS(s, [3]uint16{})
	switch {
	case n > 0:
		h.offset = sign * clampHMS(v)
	case which == 0:
		h.offset = 0
		return s, false
	default:
		h.offset = r.std.offset + 60*60
	}
	return s[used:], true
}

// clampHMS is glibc's compute_offset: hours up to 24, minutes and seconds up to 59.
func clampHMS(v [3]uint16) int32 {
	hh, mm, ss := min(v[0], 24), min(v[1], 59), min(v[2], 59)
	return int32(ss) + int32(mm)*60 + int32(hh)*3600
}

// parseChange is glibc's parse_rule for half which: the date of its change, then the
// time. Like glibc it records what it reads as it goes, so a half that fails midway is
// left as far as it got.
func parseChange(s string, h *change, which int) (string, bool) {
	// A comma before each rule; glibc tolerates its absence (early POSIX printings).
	if s != "" && s[0] == ',' {
		s = s[1:]
	}
	switch {
	case s != "" && (s[0] == 'J' || isDigit(s[0])):
		h.kind = julian0
		if s[0] == 'J' {
			h.kind = julian1
			s = s[1:]
			if s == "" || !isDigit(s[0]) {
				return s, false
			}
		}
		d, _, rest := scanDigits(s)
		if d > 365 || h.kind == julian1 && d == 0 {
			return s, false
		}
		h.d, s = uint16(d), rest
	case s != "" && s[0] == 'M':
		// sscanf(s, "M%hu.%hu.%hu%n", &m, &n, &d, &used): each value is stored as
		// it is read, before the ranges are checked.
		h.kind = monthly
		fields := [3]*uint16{&h.m, &h.n, &h.d}
		pos, got := 1, 0
		for k := range fields {
			if k > 0 {
				if pos >= len(s) || s[pos] != '.' {
					break
				}
				pos++
			}
			v, next, ok := scanUint16(s, pos)
			if !ok {
				break
			}
			*fields[k], pos = v, next
			got++
		}
		if got != 3 || h.m < 1 || h.m > 12 || h.n < 1 || h.n > 5 || h.d > 6 {
			return s, false
		}
		s = s[pos:]
	case s == "":
		// No rules: the US ones (see Rule).
		h.kind = monthly
		if which == 0 {
			h.m, h.n, h.d = 3, 2, 0
		} else {
			h.m, h.n, h.d = 11, 1, 0
		}
	default:
		return s, false
	}
	switch {
	case s != "" && s[0] != '/' && s[0] != ',':
		return s, false
	case s != "" && s[0] == '/':
		s = s[1:]
		if s == "" {
			return s, false
		}
		neg := s[0] == '-'
		if neg {
			s = s[1:]
		}
		// Unlike an offset, the time is not capped: 26:00 is 02:00 the next day.
		v, _, used := scanHMS(s, [3]uint16{2, 0, 0})
		s = s[used:]
		h.secs = int32(v[0])*3600 + int32(v[1])*60 + int32(v[2])
		if neg {
			h.secs = -h.secs
		}
	default:
		h.secs = 2 * 3600
	}
	return s, true
}

// scanHMS is sscanf(s, "%hu%n:%hu%n:%hu%n", &v[0], &used, &v[1], &used, &v[2], &used):
// the values read over def, how many were read, and where the last one ended.
func scanHMS(s string, def [3]uint16) (v [3]uint16, n, used int) {
	v = def
	pos := 0
	for k := range v {
		if k > 0 {
			if pos >= len(s) || s[pos] != ':' {
				return v, n, used
			}
			pos++
		}
		x, next, ok := scanUint16(s, pos)
		if !ok {
			return v, n, used
		}
		v[k], pos, used = x, next, next
		n++
	}
	return v, n, used
}

// scanUint16 is one "%hu" at s[i:]: blanks, an optional sign, then digits, read as
// strtoul reads them (a negative number wraps, one too large is ULONG_MAX) and
// truncated to 16 bits.
func scanUint16(s string, i int) (uint16, int, bool) {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if i >= len(s) || !isDigit(s[i]) {
		return 0, i, false
	}
	v, over, rest := scanDigits(s[i:])
	if neg && !over {
		v = -v
	}
	return uint16(v), len(s) - len(rest), true
}

// scanDigits reads the leading digits of s as strtoul does: a value past ULONG_MAX is
// ULONG_MAX, and over says so (strtoul then ignores a minus sign).
func scanDigits(s string) (v uint64, over bool, rest string) {
	i := 0
	for ; i < len(s) && isDigit(s[i]); i++ {
		d := uint64(s[i] - '0')
		if over || v > (math.MaxUint64-d)/10 {
			v, over = math.MaxUint64, true
			continue
		}
		v = v*10 + d
	}
	return v, over, s[i:]
}

// monthYearDay is glibc's __mon_yday: the days before each month, for common and leap
// years, in one array as C lays it out (compute_change indexes past a row's end).
var monthYearDay = [26]int{
	0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365,
	0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366,
}

// yday reads monthYearDay as glibc's compute_change does for a month it did not check
// (a rule that failed after storing its month). Outside the table glibc reads whatever
// memory follows; this reads 0.
func yday(i int) int {
	if i < 0 || i >= len(monthYearDay) {
		return 0
	}
	return monthYearDay[i]
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// at is glibc's compute_change: the instant of this half's change in year.
func (h change) at(year int) int64 {
	const day = 86400
	var t int64
	// glibc counts from 1970 and leaves earlier years at 1970's start.
	if year > 1970 {
		y := int64(year)
		t = ((y-1970)*365 + ((y-1)/4 - 1970/4) - ((y-1)/100 - 1970/100) + ((y-1)/400 - 1970/400)) * day
	}
	leap := isLeap(year)
	switch h.kind {
	case julian1:
		t += (int64(h.d) - 1) * day
		if h.d >= 60 && leap {
			t += day
		}
	case julian0:
		t += int64(h.d) * day
	case monthly:
		row := 0
		if leap {
			row = 13
		}
		before, next := yday(row+int(h.m)-1), yday(row+int(h.m))
		t += int64(before) * day
		// Zeller's congruence: the weekday of the month's first day.
		m1 := (int(h.m)+9)%12 + 1
		yy0 := year
		if h.m <= 2 {
			yy0--
		}
		yy1, yy2 := yy0/100, yy0%100
		dow := ((26*m1-2)/10 + 1 + yy2 + yy2/4 + yy1/4 - 2*yy1) % 7
		if dow < 0 {
			dow += 7
		}
		d := int(h.d) - dow
		if d < 0 {
			d += 7
		}
		for i := 1; i < int(h.n); i++ {
			if d+7 >= next-before {
				break
			}
			d += 7
		}
		t += int64(d) * day
	}
	return t - int64(h.offset) + int64(h.secs)
}
