package azcli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/entratool/entratool/core/profile"
)

// What az and azd say when nobody is signed in. The Azure SDKs' credential chains read
// the CLI's stderr for these phrases: Python's and Go's DefaultAzureCredential move on
// to their next credential only when it holds "az login" (AzureDeveloperCLICredential:
// "azd auth login"); any other message ends the chain with that error. With no profile
// to sign in with, the shim is an az nobody signed in to, and must say so in az's words.
const (
	azNotLoggedIn  = "Please run 'az login' to setup account."
	azdNotLoggedIn = "not logged in, run `azd auth login` to login"
)

// noProfile reports whether err is the profile lookup finding no profile to use (none
// exist, none selected, or the one named is not there) and, if so, what to do about it
// in entratool's terms. Any other error — a profile that is there but cannot get a
// token — is a real failure the chains must stop on and show.
func noProfile(err error) (hint string, ok bool) {
	var re *profile.ResolveError
	if !errors.As(err, &re) {
		return "", false
	}
	have := strings.Join(re.Have, ", ")
	var why string
	switch {
	case errors.Is(re.Err, profile.ErrProfileNotFound) && re.Source == "ENTRATOOL_PROFILE" && len(re.Have) == 0:
		why = fmt.Sprintf("ENTRATOOL_PROFILE names %q, and %s has no profiles yet; create it with 'entratool config create'", re.Name, re.Path)
	case errors.Is(re.Err, profile.ErrProfileNotFound) && re.Source == "ENTRATOOL_PROFILE":
		why = fmt.Sprintf("ENTRATOOL_PROFILE names %q, which %s does not have (profiles: %s); set ENTRATOOL_PROFILE to one of them", re.Name, re.Path, have)
	case errors.Is(re.Err, profile.ErrProfileNotFound) && re.Source == "defaultProfile":
		why = fmt.Sprintf("the default profile %q is not in %s (profiles: %s); run 'entratool config use NAME' or set ENTRATOOL_PROFILE", re.Name, re.Path, have)
	case errors.Is(re.Err, profile.ErrProfileNotFound):
		why = re.Error() // named some other way: the shim itself never passes a name
	case len(re.Have) == 0:
		why = fmt.Sprintf("%s has none yet; create one with 'entratool config create' (or set ENTRATOOL_HOME to the directory that holds yours)", re.Path)
	default:
		why = fmt.Sprintf("%s has several (%s) and no default; set ENTRATOOL_PROFILE to one of them, or run 'entratool config use NAME'", re.Path, have)
	}
	return "entratool's az shim signs in with an entratool profile: " + why + ".", true
}
