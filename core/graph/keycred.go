package graph

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/termtext"
)

// KeyCredential is an entry of an application's keyCredentials, as Graph returns it.
// Fields Graph may add later are ignored. The text fields are the server's words,
// escaped for the terminal where they were read; KeyID is always a GUID.
type KeyCredential struct {
	KeyID               string     `json:"keyId"` // the portal's "Certificate ID"
	Type                string     `json:"type"`  // AsymmetricX509Cert
	Usage               string     `json:"usage"` // Verify
	DisplayName         string     `json:"displayName"`
	CustomKeyIdentifier string     `json:"customKeyIdentifier"` // usually the SHA-1 thumbprint, base64 or hex
	Key                 *string    `json:"key"`                 // base64 DER; Graph returns it only on $select=keyCredentials, and not always
	StartDateTime       *time.Time `json:"startDateTime"`       // UTC; nil when Graph gave none (or one unreadable)
	EndDateTime         *time.Time `json:"endDateTime"`
}

// Thumbprint returns the SHA-1 thumbprint (upper-case hex) of the certificate this
// credential is for, or "" when it cannot be told (SPEC §13 step 6): the SHA-1 of the
// DER in Key when present, else customKeyIdentifier read as 40 hex digits, or as
// base64 of the 20 thumbprint bytes or of those 40 hex digits (the portal and the
// older tools each wrote one of these).
func (k KeyCredential) Thumbprint() string {
	if k.Key != nil && *k.Key != "" {
		if der, err := base64.StdEncoding.DecodeString(*k.Key); err == nil && len(der) > 0 {
			sum := sha1.Sum(der)
			return strings.ToUpper(hex.EncodeToString(sum[:]))
		}
	}
	// Hex first: 40 hex digits are valid base64 too, of 30 meaningless bytes.
	id := strings.TrimSpace(k.CustomKeyIdentifier)
	if isHexThumbprint(id) {
		return strings.ToUpper(id)
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(id)
		if err != nil {
			continue
		}
		switch {
		case len(b) == sha1.Size:
			return strings.ToUpper(hex.EncodeToString(b))
		case isHexThumbprint(string(b)):
			return strings.ToUpper(string(b))
		}
		return ""
	}
	return ""
}

func isHexThumbprint(s string) bool {
	if len(s) != 2*sha1.Size {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// clean checks a credential read from Graph and escapes its text. The keyId is what a
// later removeKey sends and what the profile stores: anything but a GUID is refused.
func (k *KeyCredential) clean() error {
	if !profile.ValidGUID(k.KeyID) {
		return fmt.Errorf("a keyCredential whose keyId %q is not a GUID", termtext.Line(cut(k.KeyID, 60)))
	}
	k.Type = termtext.Line(cut(k.Type, 100))
	k.Usage = termtext.Line(cut(k.Usage, 100))
	k.DisplayName = termtext.Line(cut(k.DisplayName, 400))
	k.CustomKeyIdentifier = termtext.Line(cut(k.CustomKeyIdentifier, 400))
	return nil
}

// wireCredential is a keyCredential as Graph writes it. The dates are read leniently
// (see graphTime): a date in a shape nobody expected must not cost the whole list,
// since finding the old key needs only keyId and the thumbprint.
type wireCredential struct {
	KeyID               string  `json:"keyId"`
	Type                string  `json:"type"`
	Usage               string  `json:"usage"`
	DisplayName         string  `json:"displayName"`
	CustomKeyIdentifier string  `json:"customKeyIdentifier"`
	Key                 *string `json:"key"`
	StartDateTime       *string `json:"startDateTime"`
	EndDateTime         *string `json:"endDateTime"`
}

func (w wireCredential) credential() (KeyCredential, error) {
	k := KeyCredential{
		KeyID: w.KeyID, Type: w.Type, Usage: w.Usage, DisplayName: w.DisplayName,
		CustomKeyIdentifier: w.CustomKeyIdentifier, Key: w.Key,
		StartDateTime: graphTime(w.StartDateTime), EndDateTime: graphTime(w.EndDateTime),
	}
	return k, k.clean()
}

// graphTime reads a Graph DateTimeOffset: RFC 3339, or without a zone (UTC, as older
// Graph answers wrote it); nil when absent or unreadable.
func graphTime(s *string) *time.Time {
	if s == nil {
		return nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, *s); err == nil {
			t = t.UTC()
			return &t
		}
	}
	return nil
}

// decodeKeyCredential reads addKey's answer: the new keyCredential.
func decodeKeyCredential(body []byte) (KeyCredential, error) {
	var w wireCredential
	if err := json.Unmarshal(body, &w); err != nil {
		return KeyCredential{}, notJSON(err)
	}
	return w.credential()
}

// decodeKeyCredentials reads the answer to GET application?$select=keyCredentials.
func decodeKeyCredentials(body []byte) ([]KeyCredential, error) {
	var app struct {
		KeyCredentials *[]wireCredential `json:"keyCredentials"`
	}
	if err := json.Unmarshal(body, &app); err != nil {
		return nil, notJSON(err)
	}
	// Absent is not "no keys": whatever answered is not Graph's application resource.
	if app.KeyCredentials == nil {
		return nil, errors.New("an answer with no keyCredentials")
	}
	list := make([]KeyCredential, 0, len(*app.KeyCredentials))
	for _, w := range *app.KeyCredentials {
		k, err := w.credential()
		if err != nil {
			return nil, err
		}
		list = append(list, k)
	}
	return list, nil
}

// notJSON keeps the decoder's reason and drops the body, which may be anything (a
// proxy's login page) and is not the user's concern beyond "not Graph's answer".
func notJSON(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("an answer that is not JSON (%s at byte %d)", termtext.Line(se.Error()), se.Offset)
	case errors.As(err, &te):
		return fmt.Errorf("an answer that is not JSON of Graph's shape (a JSON %s at %q)", termtext.Line(cut(te.Value, 40)), termtext.Line(cut(te.Field, 100)))
	}
	return fmt.Errorf("an answer that is not JSON (%s)", termtext.Line(cut(err.Error(), 200)))
}

// cut shortens s to at most n bytes on a rune boundary, marking the cut. It runs
// before escaping, so that the cut never splits an escape.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
