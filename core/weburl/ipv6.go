// Copyright 2020 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package weburl

import "strings"

// validIPv6Literal reports whether net/url accepts s between the brackets of a host:
// netip.ParseAddr(s) succeeds and the address is not an IPv4 one. ParseAddr picks the
// parser by the first '.', ':' or '%' in s: '.' means IPv4 (refused either way), '%'
// an error, ':' parseIPv6, whose results are never Is4 (an IPv4-mapped ::ffff:1.2.3.4
// is Is4In6, and accepted).
func validIPv6Literal(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '.', '%':
			return false
		case ':':
			return parseIPv6(s)
		}
	}
	return false
}

// parseIPv6 is Go 1.26's net/netip parseIPv6 reduced to whether it succeeds: it
// keeps the field count and the ellipsis position, not the address bytes.
func parseIPv6(in string) bool {
	s := in

	// Split off the zone right from the start.
	zone := ""
	if i := strings.IndexByte(s, '%'); i != -1 {
		s, zone = s[:i], s[i+1:]
		if zone == "" {
			// Not allowed to have an empty zone if explicitly specified.
			return false
		}
	}

	ellipsis := -1 // position of ellipsis in ip

	// Might have leading ellipsis
	if len(s) >= 2 && s[0] == ':' && s[1] == ':' {
		ellipsis = 0
		s = s[2:]
		// Might be only ellipsis
		if len(s) == 0 {
			return true
		}
	}

	// Loop, parsing hex numbers followed by colon.
	i := 0
	for i < 16 {
		off := 0
		acc := uint32(0)
		for ; off < len(s); off++ {
			c := s[off]
			if c >= '0' && c <= '9' {
				acc = (acc << 4) + uint32(c-'0')
			} else if c >= 'a' && c <= 'f' {
				acc = (acc << 4) + uint32(c-'a'+10)
			} else if c >= 'A' && c <= 'F' {
				acc = (acc << 4) + uint32(c-'A'+10)
			} else {
				break
			}
			if off > 3 {
				// more than 4 digits in group, fail.
				return false
			}
			if acc > 0xffff {
				// Overflow, fail.
				return false
			}
		}
		if off == 0 {
			// No digits found, fail.
			return false
		}

		// If followed by dot, might be in trailing IPv4.
		if off < len(s) && s[off] == '.' {
			if ellipsis < 0 && i != 12 {
				// Not the right place.
				return false
			}
			if i+4 > 16 {
				// Not enough room.
				return false
			}
			// netip parses in[end-len(s):end], end being len(in) less the zone:
			// that is s, a suffix of the address without its zone.
			if !validIPv4Fields(s) {
				return false
			}
			s = ""
			i += 4
			break
		}

		// Save this 16-bit chunk.
		i += 2

		// Stop at end of string.
		s = s[off:]
		if len(s) == 0 {
			break
		}

		// Otherwise must be followed by colon and more.
		if s[0] != ':' {
			return false
		} else if len(s) == 1 {
			return false
		}
		s = s[1:]

		// Look for ellipsis.
		if s[0] == ':' {
			if ellipsis >= 0 { // already have one
				return false
			}
			ellipsis = i
			s = s[1:]
			if len(s) == 0 { // can be at end
				break
			}
		}
	}

	// Must have used entire string.
	if len(s) != 0 {
		return false
	}

	// If didn't parse enough, expand ellipsis.
	if i < 16 {
		if ellipsis < 0 {
			return false
		}
	} else if ellipsis >= 0 {
		// Ellipsis must represent at least one 0 group.
		return false
	}
	return true
}

// validIPv4Fields is netip's parseIPv4Fields reduced to whether it succeeds: four
// decimal octets 0–255 without leading zeros, separated by single dots.
func validIPv4Fields(s string) bool {
	var val, pos int
	var digLen int // number of digits in current octet
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			if digLen == 1 && val == 0 {
				// IPv4 field has octet with leading zero
				return false
			}
			val = val*10 + int(s[i]) - '0'
			digLen++
			if val > 255 {
				return false
			}
		} else if s[i] == '.' {
			// .1.2.3
			// 1.2.3.
			// 1..2.3
			if i == 0 || i == len(s)-1 || s[i-1] == '.' {
				return false
			}
			// 1.2.3.4.5
			if pos == 3 {
				return false
			}
			pos++
			val = 0
			digLen = 0
		} else {
			return false
		}
	}
	return pos == 3
}
