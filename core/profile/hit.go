package profile

import (
	"bytes"
	"encoding/json"

	"github.com/entratool/entratool/core/internal/jsonscan"
)

// ParseHit is Parse for the fronts' cache hits (Store.LoadHit): the same Config, or the
// same error, in a fraction of the time. Parse decodes through encoding/json member by
// member, with reflection over Profile's tags, to report every problem at its line and
// column; a hit pays for that on every start of git's or kubectl's helper. ParseHit reads
// the shapes profiles.json has with a validating scanner (core/internal/jsonscan) and a
// switch over the keys, and leaves everything else — an error anywhere, a value of the
// wrong kind, nesting deeper than the scanner follows — to Parse, which stays the source
// of truth: what ParseHit accepts, Parse accepts with the same result (the tests and
// FuzzParseHit hold the two together, unknown keys included).
//
// The Config's strings may share data's bytes: data must not change afterwards.
func ParseHit(path string, data []byte) (*Config, error) {
	if c, ok := parseHit(bytes.TrimPrefix(data, utf8BOM)); ok {
		c.Path = path
		return c, nil
	}
	return Parse(path, data)
}

func parseHit(file []byte) (*Config, bool) {
	// The file's bytes as a string, not copied (jsonscan.Owned): every value read is a
	// substring of it. ParseHit's data is a buffer just read, never written again.
	data := jsonscan.Owned(file)
	c := &Config{}
	i := jsonscan.SkipSpace(data, 0)
	end, ok := jsonscan.Object(data, i, func(key string, v int) (int, bool) {
		switch key {
		case "defaultProfile":
			return hitString(data, v, &c.DefaultProfile)
		case "profiles":
			c.Profiles = nil
			if end, ok := jsonscan.IsNull(data, v); ok {
				return end, true
			}
			return jsonscan.Array(data, v, func(_ int, e int) (int, bool) {
				p, end, ok := parseHitProfile(data, e)
				if ok {
					c.Profiles = append(c.Profiles, p)
				}
				return end, ok
			})
		}
		end, ok := jsonscan.Skip(data, v)
		if ok {
			if c.extra == nil {
				c.extra = map[string]json.RawMessage{}
			}
			c.extra[key] = json.RawMessage(data[v:end])
		}
		return end, ok
	})
	if !ok || !jsonscan.End(data, end) {
		return nil, false
	}
	return c, true
}

func parseHitProfile(data string, i int) (*Profile, int, bool) {
	p := &Profile{}
	end, ok := jsonscan.Object(data, i, func(key string, v int) (int, bool) {
		if dst := p.stringField(key); dst != nil {
			return hitString(data, v, dst)
		}
		switch key {
		case "useCertificate":
			return hitBool(data, v, &p.UseCertificate)
		case "sendX5C":
			return hitBool(data, v, &p.SendX5C)
		case "gitHosts":
			return hitStrings(data, v, &p.GitHosts)
		case "registries":
			return hitStrings(data, v, &p.Registries)
		case "certificateStoreOptions":
			return hitStringMap(data, v, &p.CertificateStoreOptions)
		}
		end, ok := jsonscan.Skip(data, v)
		if ok {
			if p.extra == nil {
				p.extra = map[string]json.RawMessage{}
			}
			p.extra[key] = json.RawMessage(data[v:end])
		}
		return end, ok
	})
	return p, end, ok
}

// stringField is the string field of p that the file's key names, or nil. Every key of
// Profile's json tags whose field is a string is here (TestParseHitKnowsEveryField).
func (p *Profile) stringField(key string) *string {
	switch key {
	case "name":
		return &p.Name
	case "clientId":
		return &p.ClientID
	case "tenantId":
		return &p.TenantID
	case "certificatePath":
		return &p.CertificatePath
	case "certificateThumbprint":
		return &p.CertificateThumbprint
	case "certificateStoreLocation":
		return &p.CertificateStoreLocation
	case "certificateStore":
		return &p.CertificateStore
	case "scope":
		return &p.Scope
	case "authorityHost":
		return &p.AuthorityHost
	case "cloud":
		return &p.Cloud
	case "secretStore":
		return &p.SecretStore
	case "gitScope":
		return &p.GitScope
	case "acrScope":
		return &p.ACRScope
	case "subscriptionId":
		return &p.SubscriptionID
	case "authMethod":
		return &p.AuthMethod
	case "federatedTokenFile":
		return &p.FederatedTokenFile
	case "federatedTokenSource":
		return &p.FederatedTokenSource
	case "federatedAudience":
		return &p.FederatedAudience
	case "serviceConnectionId":
		return &p.ServiceConnectionID
	case "managedIdentityClientId":
		return &p.ManagedIdentityClientID
	case "applicationObjectId":
		return &p.ApplicationObjectID
	case "keyCredentialId":
		return &p.KeyCredentialID
	case "previousCertificatePath":
		return &p.PreviousCertificatePath
	case "graphEndpoint":
		return &p.GraphEndpoint
	}
	return nil
}

// hitString is decodeString: a string, or null for "".
func hitString(data string, i int, dst *string) (int, bool) {
	if end, ok := jsonscan.IsNull(data, i); ok {
		*dst = ""
		return end, true
	}
	s, end, ok := jsonscan.String(data, i)
	if ok {
		*dst = s
	}
	return end, ok
}

// hitBool is decodeBool: true, false, or null for false.
func hitBool(data string, i int, dst *bool) (int, bool) {
	b, _, end, ok := jsonscan.Bool(data, i)
	if ok {
		*dst = b
	}
	return end, ok
}

// hitStrings is decodeStrings: null is nil, [] an empty list, null elements "".
func hitStrings(data string, i int, dst *[]string) (int, bool) {
	*dst = nil
	if end, ok := jsonscan.IsNull(data, i); ok {
		return end, true
	}
	out := []string{}
	end, ok := jsonscan.Array(data, i, func(_ int, e int) (int, bool) {
		var s string
		end, ok := hitString(data, e, &s)
		out = append(out, s)
		return end, ok
	})
	if ok {
		*dst = out
	}
	return end, ok
}

// hitStringMap is decodeStringMap: null is nil, {} an empty map, null values "".
func hitStringMap(data string, i int, dst *map[string]string) (int, bool) {
	*dst = nil
	if end, ok := jsonscan.IsNull(data, i); ok {
		return end, true
	}
	out := map[string]string{}
	end, ok := jsonscan.Object(data, i, func(k string, v int) (int, bool) {
		var s string
		end, ok := hitString(data, v, &s)
		out[k] = s
		return end, ok
	})
	if ok {
		*dst = out
	}
	return end, ok
}
