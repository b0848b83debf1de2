package tokencache

import (
	"fmt"
	"time"
)

// Bounds on what an authority may say about a token (SPEC §12 "What servers say").
const (
	// MinLifetime and MaxLifetime bound the lifetime an authority grants (expires_in, or
	// expires_on minus the time of the answer). Entra issues 60–90 minutes; anything
	// shorter than a minute is useless, anything beyond two days is not Entra speaking,
	// and either would otherwise be cached or printed as it came.
	MinLifetime = 60 * time.Second
	MaxLifetime = 48 * time.Hour
	// MaxTokenLength bounds an access token. Entra's are 1–4 KB; 64 KiB leaves room for
	// tokens with large group claims while keeping a hostile answer out of the cache and
	// out of environment variables.
	MaxTokenLength = 64 << 10
)

// ValidTokenChars reports whether s is non-empty and made only of the characters of a
// JWT or base64/base64url token: A–Z a–z 0–9 - _ . ~ + / =. Nothing in that set means
// anything to a shell, a JSON or YAML reader, an HTTP header or a terminal, which is
// what lets a token be pasted into every one of them as it is.
func ValidTokenChars(s string) bool {
	return s != "" && firstNonToken(s) == len(s)
}

// tokenBytes is 1 for the bytes of the token alphabet and 0 for the rest. It is a
// byte table rather than a bit set so that firstNonToken can AND sixteen lookups with
// no shift, mask or branch between them: a hit checks every byte of a 1–2 KB token
// twice. A literal, so that it sits in the binary's data rather than being built at
// start-up.
var tokenBytes = [256]byte{
	'A': 1, 'B': 1, 'C': 1, 'D': 1, 'E': 1, 'F': 1, 'G': 1, 'H': 1, 'I': 1, 'J': 1, 'K': 1, 'L': 1, 'M': 1,
	'N': 1, 'O': 1, 'P': 1, 'Q': 1, 'R': 1, 'S': 1, 'T': 1, 'U': 1, 'V': 1, 'W': 1, 'X': 1, 'Y': 1, 'Z': 1,
	'a': 1, 'b': 1, 'c': 1, 'd': 1, 'e': 1, 'f': 1, 'g': 1, 'h': 1, 'i': 1, 'j': 1, 'k': 1, 'l': 1, 'm': 1,
	'n': 1, 'o': 1, 'p': 1, 'q': 1, 'r': 1, 's': 1, 't': 1, 'u': 1, 'v': 1, 'w': 1, 'x': 1, 'y': 1, 'z': 1,
	'0': 1, '1': 1, '2': 1, '3': 1, '4': 1, '5': 1, '6': 1, '7': 1, '8': 1, '9': 1,
	'-': 1, '_': 1, '.': 1, '~': 1, '+': 1, '/': 1, '=': 1,
}

// firstNonToken returns the index of the first byte of s outside the token alphabet, or
// len(s). It ANDs the table entries of sixteen bytes at a time — three instructions a
// byte, a third of what testing and branching on each byte cost — and goes one byte at
// a time only through the block that holds a refused byte, to find which.
func firstNonToken(s string) int {
	t := &tokenBytes
	rest := s
	for len(rest) >= 16 {
		b := rest[:16] // the sixteen loads need no bounds check of their own
		if t[b[0]]&t[b[1]]&t[b[2]]&t[b[3]]&t[b[4]]&t[b[5]]&t[b[6]]&t[b[7]]&
			t[b[8]]&t[b[9]]&t[b[10]]&t[b[11]]&t[b[12]]&t[b[13]]&t[b[14]]&t[b[15]] == 0 {
			break
		}
		rest = rest[16:]
	}
	for i := len(s) - len(rest); i < len(s); i++ {
		if t[s[i]] == 0 {
			return i
		}
	}
	return len(s)
}

// TokenError is a token refused because of what its issuer said. It names the issuer
// and the rule, never the token.
type TokenError struct {
	Issuer string // the authority (or registry) that answered
	Reason string
}

func (e *TokenError) Error() string {
	issuer := e.Issuer
	if issuer == "" {
		issuer = "the authority"
	}
	return fmt.Sprintf("refusing the token from %s: %s", issuer, e.Reason)
}

// CheckToken checks a token as its issuer has just answered it: its characters and
// length, and a lifetime — ExpiresOn minus answered, the time the answer arrived —
// between MinLifetime and MaxLifetime. The lifetime is rounded to whole seconds, the
// unit of expires_in, so that the few microseconds between the client library reading
// the answer and answered do not turn 60 s into 59.99 s. Call it where the answer is
// received, before the token is cached or printed, with the untruncated expiry.
func CheckToken(t *Token, issuer string, answered time.Time) error {
	if err := checkChars(t, issuer); err != nil {
		return err
	}
	return CheckLifetime(t.ExpiresOn.Sub(answered).Round(time.Second), issuer)
}

// CheckLifetime checks a lifetime an issuer granted (see CheckToken).
func CheckLifetime(lifetime time.Duration, issuer string) error {
	if lifetime < MinLifetime || lifetime > MaxLifetime {
		return &TokenError{Issuer: issuer, Reason: fmt.Sprintf("its lifetime, %s, is out of range (expires_in must be between 60 s and 48 h)", describe(lifetime))}
	}
	return nil
}

// CheckServable checks a token about to be served — read from the cache, or printed
// and handed to a host tool: its characters and length, not yet expired, and expiring
// no later than MaxLifetime from now. It allows less than MinLifetime left, since a
// cached token is served until its refresh margin and a stale one while a refresh
// fails; CheckToken has held the issuer to the lower bound when the token arrived.
func CheckServable(t *Token, issuer string, now time.Time) error {
	if err := checkChars(t, issuer); err != nil {
		return err
	}
	left := t.ExpiresOn.Sub(now)
	switch {
	case t.ExpiresOn.IsZero():
		return &TokenError{Issuer: issuer, Reason: "it has no expiry"}
	case left <= 0:
		return &TokenError{Issuer: issuer, Reason: "it expired at " + t.ExpiresOn.UTC().Format(time.RFC3339)}
	case left > MaxLifetime+time.Minute:
		// A minute of slack: the issue-time check rounded, and clocks step.
		return &TokenError{Issuer: issuer, Reason: fmt.Sprintf("it claims to be valid until %s, more than 48 h from now", t.ExpiresOn.UTC().Format(time.RFC3339))}
	}
	return nil
}

// CheckHandOff is the last check before a helper hands a token to its host tool (git,
// kubectl, docker, the Azure SDKs), for tokens that came through the pipeline's own
// checks (the cache, or entratool get-token): the characters and length again, since
// they decide what the host tool's protocol reads, and an expiry — when one is known —
// no later than MaxLifetime from now, so that no absurd expiry is passed on to be
// cached. Expiry in the past is the pipeline's to prevent.
func CheckHandOff(token string, expiresOn time.Time, issuer string, now time.Time) error {
	if err := checkChars(&Token{AccessToken: token}, issuer); err != nil {
		return err
	}
	if !expiresOn.IsZero() && expiresOn.Sub(now) > MaxLifetime+time.Minute {
		return &TokenError{Issuer: issuer, Reason: fmt.Sprintf("it claims to be valid until %s, more than 48 h from now", expiresOn.UTC().Format(time.RFC3339))}
	}
	return nil
}

func checkChars(t *Token, issuer string) error {
	if t == nil || t.AccessToken == "" {
		return &TokenError{Issuer: issuer, Reason: "the answer holds no access token"}
	}
	s := t.AccessToken
	if len(s) > MaxTokenLength {
		return &TokenError{Issuer: issuer, Reason: fmt.Sprintf("the access token is %d bytes long, more than the %d a token may be", len(s), MaxTokenLength)}
	}
	if i := firstNonToken(s); i < len(s) {
		return &TokenError{Issuer: issuer, Reason: fmt.Sprintf("the access token holds %s at byte %d, which is not a JWT/base64url character (A-Z a-z 0-9 - _ . ~ + / =)", describeByte(s, i), i)}
	}
	return nil
}

// describeByte names the offending character without printing it (it may be a control
// character, or half of a quote meant for a shell).
func describeByte(s string, i int) string {
	c := s[i]
	switch {
	case c == ' ':
		return "a space"
	case c < 0x20 || c == 0x7f:
		return fmt.Sprintf("control character 0x%02x", c)
	case c < 0x80:
		return fmt.Sprintf("%q", string(c))
	}
	for _, r := range s[i:] {
		return fmt.Sprintf("U+%04X", r)
	}
	return "a non-ASCII byte"
}

// describe renders a lifetime for people: whole seconds, or years for the absurd ones
// (an overflowed expires_in).
func describe(d time.Duration) string {
	const year = 8766 * time.Hour
	if d >= 10*year || d <= -10*year {
		return fmt.Sprintf("%.0f years", d.Hours()/year.Hours())
	}
	return d.Round(time.Second).String()
}
