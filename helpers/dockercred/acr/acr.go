// Package acr is Azure Container Registry's side of docker-credential-entra: the
// exchange of an Entra ID access token for a registry refresh token at
// https://REGISTRY/oauth2/exchange, and reading that token's expiry. It links net/http,
// so only entratool-engine uses it; the helper's front end answers from the cache.
package acr

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/entratool/entratool/core/termtext"
	"github.com/entratool/entratool/core/tokencache"
)

// Refresh is a registry refresh token and the expiry read from its JWT.
type Refresh struct {
	Token     string
	ExpiresOn time.Time
}

// ExchangeError is a refusal from the registry's /oauth2/exchange. Its message is one
// line with the registry's own words and what to check.
type ExchangeError struct {
	Registry string
	Tenant   string
	Status   int
	Code     string // the registry's error code, e.g. UNAUTHORIZED
	Message  string // the registry's message, one line, never a token
}

func (e *ExchangeError) Error() string {
	what := fmt.Sprintf("%d %s", e.Status, http.StatusText(e.Status))
	if e.Code != "" || e.Message != "" {
		what = fmt.Sprintf("%d %s", e.Status, strings.TrimSpace(e.Code+": "+e.Message))
		what = strings.TrimSuffix(what, ":")
	}
	switch {
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		return fmt.Sprintf("registry %s refused the Entra ID token (%s): the registry must be in tenant %s and accept Entra ID tokens of the profile's scope (acrScope, if set; a registry with authentication-as-arm disabled refuses ARM-audience tokens)", e.Registry, what, e.Tenant)
	case e.Status == http.StatusNotFound || e.Status == http.StatusMethodNotAllowed:
		return fmt.Sprintf("registry %s has no Azure Container Registry token exchange (%s at /oauth2/exchange): is it an ACR login server such as NAME.azurecr.io?", e.Registry, what)
	case e.Status == http.StatusTooManyRequests || e.Status >= 500:
		return fmt.Sprintf("registry %s could not exchange the Entra ID token (%s): try again later", e.Registry, what)
	default:
		return fmt.Sprintf("registry %s: token exchange failed (%s)", e.Registry, what)
	}
}

// Exchange trades an Entra access token for a registry refresh token:
// POST https://REGISTRY/oauth2/exchange with grant_type=access_token, service, tenant
// and access_token. registry is a registry key (host, or host:port other than 443).
func Exchange(ctx context.Context, client *http.Client, registry, tenant, accessToken string) (Refresh, error) {
	client = noRedirects(client, registry)
	form := url.Values{
		"grant_type":   {"access_token"},
		"service":      {registry},
		"tenant":       {tenant},
		"access_token": {accessToken},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+registry+"/oauth2/exchange", strings.NewReader(form.Encode()))
	if err != nil {
		return Refresh{}, fmt.Errorf("registry %s: %w", registry, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		var re *RedirectError
		if errors.As(err, &re) {
			return Refresh{}, re
		}
		// url.Error names the method and URL, never the form.
		return Refresh{}, fmt.Errorf("registry %s unreachable: %w", registry, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Refresh{}, fmt.Errorf("registry %s: reading the exchange answer: %w", registry, err)
	}
	if resp.StatusCode != http.StatusOK {
		code, msg := ParseErrorBody(body)
		return Refresh{}, &ExchangeError{Registry: registry, Tenant: tenant, Status: resp.StatusCode, Code: code,
			Message: redact(msg, accessToken)}
	}
	var ok struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(body, &ok); err != nil || ok.RefreshToken == "" {
		return Refresh{}, fmt.Errorf("registry %s answered the token exchange without a refresh token (is it an Azure Container Registry?)", registry)
	}
	return checkRefresh(ok.RefreshToken, registry, time.Now())
}

// checkRefresh holds a refresh token to the rules of an access token (SPEC §12): it is
// handed to docker as it is, so only JWT/base64url characters, and the exp of its JWT
// — its lifetime, the registry's counterpart of expires_in — between 60 s and 48 h.
func checkRefresh(tok, registry string, now time.Time) (Refresh, error) {
	issuer := "registry " + registry
	exp, hasExp := JWTExpiry(tok)
	t := &tokencache.Token{AccessToken: tok, ExpiresOn: exp}
	if !hasExp {
		if err := tokencache.CheckHandOff(tok, time.Time{}, issuer, now); err != nil {
			return Refresh{}, err
		}
		return Refresh{}, &tokencache.TokenError{Issuer: issuer, Reason: "the refresh token is not a JWT with a numeric exp claim, so its lifetime is unknown"}
	}
	if err := tokencache.CheckToken(t, issuer, now); err != nil {
		return Refresh{}, err
	}
	return Refresh{Token: tok, ExpiresOn: exp}, nil
}

// RedirectError is a redirect answered to the token exchange. It is never followed: a
// 307 would re-post the Entra access token to wherever Location points.
type RedirectError struct {
	Registry string
	Status   int
	Location string // scheme://host/path the answer pointed to (no query)
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("registry %s answered HTTP %d redirecting to %s; entratool never follows redirects on credential requests: check the registry name (the login server itself, e.g. NAME.azurecr.io) and any proxy in between",
		e.Registry, e.Status, e.Location)
}

// noRedirects returns a copy of client (nil: a new one) that refuses every redirect,
// whatever the caller's client would do: the policy belongs to the request, which
// carries a token, not to whoever built the client.
func noRedirects(client *http.Client, registry string) *http.Client {
	var c http.Client
	if client != nil {
		c = *client
	}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		re := &RedirectError{Registry: registry, Location: req.URL.Scheme + "://" + req.URL.Host + req.URL.EscapedPath()}
		if req.Response != nil {
			re.Status = req.Response.StatusCode
		}
		return re
	}
	return &c
}

// ParseErrorBody reads the error of a registry answer: the distribution spec's
// {"errors":[{"code","message"}]} or OAuth's {"error","error_description"}. The
// message is cut to one line of at most 300 bytes, control characters escaped.
func ParseErrorBody(body []byte) (code, msg string) {
	var d struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if json.Unmarshal(body, &d) != nil {
		return "", ""
	}
	if len(d.Errors) > 0 {
		code, msg = d.Errors[0].Code, d.Errors[0].Message
	} else {
		code, msg = d.Error, d.ErrorDescription
	}
	return oneLine(code, 60), oneLine(msg, 300)
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		cut := max
		for cut > 0 && s[cut]&0xC0 == 0x80 {
			cut--
		}
		s = s[:cut] + "…"
	}
	// Escaped after the cut, so that the cut never splits an escape.
	return termtext.Escape(s)
}

// redact keeps a token out of a message, should a registry echo one back.
func redact(msg, secret string) string {
	if secret == "" {
		return msg
	}
	return strings.ReplaceAll(msg, secret, "[redacted]")
}

// JWTExpiry reads the exp claim of a JWT without checking its signature: the helper
// only needs to know how long the registry will honour the token. ok is false when tok
// is not a JWT with a numeric exp.
func JWTExpiry(tok string) (exp time.Time, ok bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || len(parts[1]) > 64<<10 {
		return time.Time{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, false
	}
	var c struct {
		Exp json.Number `json:"exp"`
	}
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.UseNumber()
	if d.Decode(&c) != nil || c.Exp == "" {
		return time.Time{}, false
	}
	f, err := c.Exp.Float64()
	// Beyond year 9999 or before 1970 is not an expiry a registry means.
	if err != nil || f <= 0 || f > 253402300799 {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}
