package cli

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/entratool/entratool/core/profile"
)

// What config show and doctor say about the credential sources of SPEC §14. Nothing
// here sends a request or prints a token: a token file's expiry is read from its
// payload without verifying the signature (only Entra ID can judge it).

// tokenFileStatus is a federated token file as it is now.
type tokenFileStatus struct {
	Path      string     `json:"path"`
	Present   bool       `json:"present"`
	ExpiresOn *time.Time `json:"expiresOn,omitempty"`
	Expired   bool       `json:"expired,omitempty"`
	Error     string     `json:"error,omitempty"` // why it cannot be read, or is not a JWT
}

// maxTokenFile bounds what is read of a token file: a JWT is a few kilobytes.
const maxTokenFile = 1 << 20

// inspectTokenFile reads path and the exp claim of the JWT in it. Errors never quote
// the file's content, which is a credential.
func inspectTokenFile(path string, now time.Time) tokenFileStatus {
	st := tokenFileStatus{Path: path}
	f, err := os.Open(path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			st.Error = err.Error()
		}
		return st
	}
	defer f.Close()
	st.Present = true
	data, err := io.ReadAll(io.LimitReader(f, maxTokenFile))
	if err != nil {
		st.Error = err.Error()
		return st
	}
	exp, err := jwtExpiry(strings.TrimSpace(string(data)))
	if err != nil {
		st.Error = err.Error()
		return st
	}
	st.ExpiresOn, st.Expired = &exp, !now.Before(exp)
	return st
}

// jwtExpiry is the exp claim of a compact JWT, unverified.
func jwtExpiry(tok string) (time.Time, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}, errors.New("not a JWT (header.payload.signature)")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, errors.New("not a JWT: its payload is not base64url")
	}
	var claims struct {
		Exp *json.Number `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return time.Time{}, errors.New("not a JWT: its payload is not a JSON object")
	}
	if claims.Exp == nil {
		return time.Time{}, errors.New("the token has no exp claim")
	}
	secs, err := claims.Exp.Float64()
	if err != nil {
		return time.Time{}, errors.New("the token's exp claim is not a number")
	}
	return time.Unix(int64(secs), 0).UTC(), nil
}

// tokenFileText is a token file's state in a few words: "present, token expires … (in
// 1h30m)", "missing", "present, but …".
func tokenFileText(st tokenFileStatus, now time.Time) string {
	switch {
	case !st.Present && st.Error == "":
		return "missing (it must be there when a token is requested)"
	case !st.Present:
		return "cannot be read: " + st.Error
	case st.Error != "":
		return "present, but " + st.Error
	case st.Expired:
		return "present, token expired " + st.ExpiresOn.Format("2006-01-02 15:04:05 UTC")
	}
	left := st.ExpiresOn.Sub(now).Round(time.Minute)
	return fmt.Sprintf("present, token expires %s (in %s)", st.ExpiresOn.Format("2006-01-02 15:04:05 UTC"), strings.TrimSuffix(left.String(), "0s"))
}

// The CI variables a federated token source needs (SPEC §14).
const (
	envGitHubTokenURL    = "ACTIONS_ID_TOKEN_REQUEST_URL"
	envGitHubTokenToken  = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
	envAzDOOIDCURI       = "SYSTEM_OIDCREQUESTURI"
	envAzDOAccessToken   = "SYSTEM_ACCESSTOKEN"
	envAzDOServiceConnID = "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"
)

// sourceVariables are the variables p's federated token source reads.
func sourceVariables(p *profile.Profile) []string {
	switch p.FederatedTokenSource {
	case profile.SourceGitHubActions:
		return []string{envGitHubTokenURL, envGitHubTokenToken}
	case profile.SourceAzurePipelines:
		return []string{envAzDOOIDCURI, envAzDOAccessToken}
	}
	return nil
}

// serviceConnection is the Azure Pipelines service connection p's token is for, and
// where it comes from.
func serviceConnection(p *profile.Profile, getenv func(string) string) (id, from string) {
	if p.ServiceConnectionID != "" {
		return p.ServiceConnectionID, "serviceConnectionId"
	}
	return getenv(envAzDOServiceConnID), envAzDOServiceConnID
}

// federatedStatus is what show reports of a federated profile.
type federatedStatus struct {
	Source            string           `json:"source"` // file:PATH, github-actions or azure-pipelines
	Audience          string           `json:"audience"`
	TokenFile         *tokenFileStatus `json:"tokenFile,omitempty"`
	ServiceConnection string           `json:"serviceConnectionId,omitempty"`
}

func newFederatedStatus(p *profile.Profile, getenv func(string) string, now time.Time) *federatedStatus {
	s := &federatedStatus{Source: p.FederatedSource(), Audience: p.Audience()}
	if p.FederatedTokenFile != "" {
		st := inspectTokenFile(p.FederatedTokenFile, now)
		s.TokenFile = &st
	}
	if p.FederatedTokenSource == profile.SourceAzurePipelines {
		s.ServiceConnection, _ = serviceConnection(p, getenv)
	}
	return s
}

// miStatus is what show reports of a managed-identity profile.
type miStatus struct {
	Assigned string `json:"assigned"` // system or user
	ClientID string `json:"clientId,omitempty"`
	Source   string `json:"source"`     // as MSAL would detect it here
	Detected string `json:"detectedBy"` // the variables (or file) that decided it
	Refused  string `json:"refused,omitempty"`
}

func newMIStatus(p *profile.Profile, getenv func(string) string) *miStatus {
	src := profile.DetectMISource(getenv)
	s := &miStatus{Assigned: "system", Source: src.Name, Detected: src.Why}
	if p.ManagedIdentityClientID != "" {
		s.Assigned, s.ClientID, s.Refused = "user", p.ManagedIdentityClientID, src.NoUserAssigned
	}
	return s
}
