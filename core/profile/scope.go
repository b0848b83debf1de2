package profile

import (
	"fmt"
	"strings"

	"github.com/entratool/entratool/core/weburl"
)

// ResourceScope is the scope of a resource's token, as az's --resource takes it:
// "/.default" appended verbatim (a trailing slash stays part of the resource).
func ResourceScope(resource string) string { return resource + "/.default" }

// CheckScope refuses a scope that is a bare resource URI or app ID — no /.default and
// no path-style permission — such as "https://management.azure.com": Entra answers it
// with AADSTS70011 after a round trip, so it is caught here with the fix. Scopes are
// space-separated; each is checked.
func CheckScope(scope string) error {
	for _, s := range strings.Fields(scope) {
		if bareResource(s) {
			return fmt.Errorf("scope %q is a resource, not a scope: did you mean %s/.default? (or --resource %s)",
				s, strings.TrimSuffix(s, "/"), s)
		}
	}
	return nil
}

// bareResource reports whether s names a resource rather than a permission on it: an
// absolute URI with no path (or just "/"), or an application ID.
func bareResource(s string) bool {
	if ValidGUID(s) {
		return true
	}
	if !strings.Contains(s, "://") {
		return false
	}
	u, err := weburl.Parse(s)
	return err == nil && u.Host != "" && (u.Path == "" || u.Path == "/") && u.RawQuery == "" && u.Fragment == ""
}
