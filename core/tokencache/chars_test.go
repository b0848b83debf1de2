package tokencache

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

// specAlphabet is SPEC §12's token alphabet, written out apart from the table so that
// the references below do not share firstNonToken's data.
const specAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~+/="

// byteLoopFirstNonToken is the straightforward loop firstNonToken must agree with.
func byteLoopFirstNonToken(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' || c == '+' || c == '/' || c == '=') {
			return i
		}
	}
	return len(s)
}

// byteLoopCheckChars is checkChars as it was written before the sixteen-byte scan: the
// error of a refused token must not change, byte for byte.
func byteLoopCheckChars(s, issuer string) string {
	if s == "" {
		return (&TokenError{Issuer: issuer, Reason: "the answer holds no access token"}).Error()
	}
	if len(s) > MaxTokenLength {
		return (&TokenError{Issuer: issuer, Reason: fmt.Sprintf("the access token is %d bytes long, more than the %d a token may be", len(s), MaxTokenLength)}).Error()
	}
	if i := byteLoopFirstNonToken(s); i < len(s) {
		return (&TokenError{Issuer: issuer, Reason: fmt.Sprintf("the access token holds %s at byte %d, which is not a JWT/base64url character (A-Z a-z 0-9 - _ . ~ + / =)", describeByte(s, i), i)}).Error()
	}
	return ""
}

// sameAsByteLoop fails t unless firstNonToken and ValidTokenChars decide s as the byte
// loop does, and with withErr checkChars's error too (formatting it is most of the
// exhaustive test's time, and it depends only on the byte firstNonToken finds).
func sameAsByteLoop(t *testing.T, s string, withErr bool) {
	t.Helper()
	want := byteLoopFirstNonToken(s)
	if got := firstNonToken(s); got != want {
		t.Fatalf("firstNonToken(%q) = %d, want %d", s, got, want)
	}
	if got, want := ValidTokenChars(s), s != "" && want == len(s); got != want {
		t.Fatalf("ValidTokenChars(%q) = %v, want %v", s, got, want)
	}
	if !withErr {
		return
	}
	got := ""
	if err := checkChars(&Token{AccessToken: s}, issuer); err != nil {
		got = err.Error()
	}
	if want := byteLoopCheckChars(s, issuer); got != want {
		t.Fatalf("checkChars(%q) = %q, want %q", s, got, want)
	}
}

// tokenRun is n accepted bytes, cycling through the whole alphabet.
func tokenRun(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = specAlphabet[i*7%len(specAlphabet)]
	}
	return b
}

// The sixteen-bytes-at-a-time scan finds the same byte as the byte loop: every byte
// value, accepted or not, at every offset of every length up to 40 (each lane of two
// blocks, and the byte loop after them), then the likeliest refused bytes at every
// offset of a long token and every byte value at some.
func TestFirstNonTokenIsTheByteLoop(t *testing.T) {
	for n := 0; n <= 40; n++ {
		s := tokenRun(n)
		sameAsByteLoop(t, string(s), true)
		for at := 0; at < n; at++ {
			for c := 0; c < 256; c++ {
				b := append([]byte(nil), s...)
				b[at] = byte(c)
				sameAsByteLoop(t, string(b), at == n-1 || at == 16)
				if at+1 < n { // a second refused byte behind the first must not be the one named
					b[n-1] = ' '
					sameAsByteLoop(t, string(b), false)
				}
			}
		}
	}
	long := tokenRun(1234)
	sameAsByteLoop(t, string(long), true)
	for at := 0; at < len(long); at++ {
		for c := 0; c < 256; c++ {
			if c == 0 || c == ',' || c == 0x7f || c == 0x80 || c == 0xe2 || c == 0xff || at%61 == 0 {
				b := append([]byte(nil), long...)
				b[at] = byte(c)
				sameAsByteLoop(t, string(b), at%61 == 0)
			}
		}
	}
	sameAsByteLoop(t, strings.Repeat("a", MaxTokenLength), true)
	sameAsByteLoop(t, strings.Repeat("a", MaxTokenLength+1), true)
}

func FuzzCheckChars(f *testing.F) {
	for _, s := range []string{"", "a", "eyJ0eXAi.eyJhdWQi.c2ln-_", "abc~+/==", "a b", "it's", "a\u2019b", "\xff", jwtLikeToken()} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { sameAsByteLoop(t, s, true) })
}

// jwtLikeToken is a 1.2 KB access token shaped like Entra's: base64url header, claims
// and RS256 signature (1216 bytes).
func jwtLikeToken() string {
	enc := base64.RawURLEncoding
	header := `{"typ":"JWT","alg":"RS256","x5t":"CNv0OI3RwqlHFEVnaoMAshCH2XE","kid":"CNv0OI3RwqlHFEVnaoMAshCH2XE"}`
	claims := `{"aud":"https://management.azure.com","iss":"https://sts.windows.net/8f1c2b4e-0d5a-4c7e-9b3f-2a6d1e8c4f70/",` +
		`"iat":1777636800,"nbf":1777636800,"exp":1777641000,"acr":"1","amr":["pwd","mfa"],` +
		`"appid":"04b07795-8ddb-461a-bbee-02f9e1bf7b46","idtyp":"user","ipaddr":"203.0.113.7",` +
		`"name":"Jane Doe","oid":"6e1b0c9d-2f4a-4b8e-8c3d-7a5f1e9b2d06",` +
		`"scp":"user_impersonation","sub":"kq3F9vT0bX2mN8pL5rW1yZ7cH4jD6gS0aE","tid":"8f1c2b4e-0d5a-4c7e-9b3f-2a6d1e8c4f70",` +
		`"unique_name":"jane@example.test","upn":"jane@example.test","uti":"Qm7tYw2kR0eV9xZ3pL1aAA","ver":"1.0"}`
	sig := make([]byte, 256)
	for i := range sig {
		sig[i] = byte(i*131 + 17)
	}
	return enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(claims)) + "." + enc.EncodeToString(sig)
}

func TestJWTLikeTokenIsATokenOfEntrasSize(t *testing.T) {
	if s := jwtLikeToken(); !ValidTokenChars(s) || len(s) < 1100 || len(s) > 1300 {
		t.Fatalf("jwtLikeToken: %d bytes, valid %v", len(s), ValidTokenChars(s))
	}
}

// BenchmarkCheckChars is the character check a hit makes twice (CheckServable, then
// CheckHandOff) on a 1.2 KB token.
func BenchmarkCheckChars(b *testing.B) {
	tok := &Token{AccessToken: jwtLikeToken()}
	b.SetBytes(int64(len(tok.AccessToken)))
	for b.Loop() {
		if checkChars(tok, issuer) != nil {
			b.Fatal("refused")
		}
	}
}
