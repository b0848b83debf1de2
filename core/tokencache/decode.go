package tokencache

import (
	"encoding/json"
	"time"

	"github.com/entratool/entratool/core/internal/jsonscan"
)

// A cache hit reads two small JSON files, a certificate memo and a cache entry.
// encoding/json decodes them through reflection, which a fresh process pays for in full
// (type caches, field lookup, time.Time's JSON method through an interface): a large
// share of a helper's own work on a hit. decodeEntry and decodeMemo read the shapes Put
// and CertMemo write, exactly those keys with exactly those kinds, with a validating
// scanner; anything else — another key, a key in another case, null, a repeated key, a
// value of another kind — goes to json.Unmarshal, as before. What they accept,
// json.Unmarshal decodes to the same value (TestDecodeEntryIsUnmarshal, FuzzDecodeEntry).

// decodeEntry is json.Unmarshal(data, e), except that the strings it decodes may share
// data's bytes (jsonscan.Owned): data must not change afterwards. Its callers decode a
// buffer just read from a file and then drop it.
func decodeEntry(data []byte, e *cacheEntry) error {
	var f cacheEntry
	if scanEntry(data, &f) {
		*e = f
		return nil
	}
	return json.Unmarshal(data, e)
}

// decodeMemo is json.Unmarshal(data, e); data must not change afterwards (decodeEntry).
func decodeMemo(data []byte, e *memoEntry) error {
	var f memoEntry
	if scanMemo(data, &f) {
		*e = f
		return nil
	}
	return json.Unmarshal(data, e)
}

// fields walks a top-level object whose keys must each be in names, at most once;
// set decodes the value of names[k] at v.
func fields(data string, i int, names []string, set func(k int, v int) (int, bool)) (int, bool) {
	var seen uint32
	return jsonscan.Object(data, i, func(key string, v int) (int, bool) {
		for k, n := range names {
			if n == key {
				if seen&(1<<k) != 0 {
					return 0, false
				}
				seen |= 1 << k
				return set(k, v)
			}
		}
		return 0, false
	})
}

var (
	entryKeys = []string{"v", "key", "token"}
	keyKeys   = []string{"kind", "authority", "tenantId", "clientId", "scope", "credential"}
	tokenKeys = []string{"accessToken", "tokenType", "expiresOn", "scope", "tenantId", "clientId"}
	memoKeys  = []string{"path", "identity", "thumbprint", "notAfter", "subject"}
)

func scanEntry(file []byte, e *cacheEntry) bool {
	data := jsonscan.Owned(file) // every string read is a substring of the file's bytes
	end, ok := fields(data, jsonscan.SkipSpace(data, 0), entryKeys, func(k, v int) (int, bool) {
		switch k {
		case 0:
			n, end, ok := jsonscan.Int(data, v)
			e.Version = n
			return end, ok
		case 1:
			return scanKey(data, v, &e.Key)
		default:
			e.Token = &Token{}
			return scanToken(data, v, e.Token)
		}
	})
	return ok && jsonscan.End(data, end)
}

func scanKey(data string, i int, k *Key) (int, bool) {
	return fields(data, i, keyKeys, func(n, v int) (int, bool) {
		return scanString(data, v, [...]*string{&k.Kind, &k.Authority, &k.TenantID, &k.ClientID, &k.Scope, &k.Credential}[n])
	})
}

func scanToken(data string, i int, t *Token) (int, bool) {
	return fields(data, i, tokenKeys, func(n, v int) (int, bool) {
		if n == 2 {
			return scanTime(data, v, &t.ExpiresOn)
		}
		return scanString(data, v, [...]*string{&t.AccessToken, &t.TokenType, nil, &t.Scope, &t.TenantID, &t.ClientID}[n])
	})
}

func scanMemo(file []byte, e *memoEntry) bool {
	data := jsonscan.Owned(file)
	end, ok := fields(data, jsonscan.SkipSpace(data, 0), memoKeys, func(n, v int) (int, bool) {
		if n == 3 {
			return scanTime(data, v, &e.NotAfter)
		}
		return scanString(data, v, [...]*string{&e.Path, &e.Identity, &e.Thumbprint, nil, &e.Subject}[n])
	})
	return ok && jsonscan.End(data, end)
}

// scanString takes a string only: json.Unmarshal leaves a field unchanged for null,
// which the caller's fallback does.
func scanString(data string, i int, dst *string) (int, bool) {
	s, end, ok := jsonscan.String(data, i)
	*dst = s
	return end, ok
}

// scanTime is what json.Unmarshal does with a time.Time: its UnmarshalJSON, on the
// string's bytes as they are in the file.
func scanTime(data string, i int, dst *time.Time) (int, bool) {
	end, ok := jsonscan.Skip(data, i)
	if !ok || data[i] != '"' || dst.UnmarshalJSON([]byte(data[i:end])) != nil {
		return 0, false
	}
	return end, true
}
