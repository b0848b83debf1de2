package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/entratool/entratool/emulator"
)

// localIssuer names the emulator's own OIDC issuer in --federated and --config, whose
// URL is known only once it listens.
const localIssuer = "local"

// addFederated adds the --federated credentials.
func (s *appSet) addFederated(specs []string) error {
	for _, spec := range specs {
		tenant, client, rest, err := parseSpec(spec)
		if err == nil {
			var issuer, subject string
			if issuer, subject, err = parseFederated(rest); err == nil {
				a := s.get(tenant, client)
				a.FederatedCredentials = append(a.FederatedCredentials, emulator.FederatedCredential{Issuer: issuer, Subject: subject})
				continue
			}
		}
		return usagef("--federated %q: %v (want TENANT:CLIENT:ISSUER:SUBJECT, ISSUER an https URL or \"local\")", spec, err)
	}
	return nil
}

// parseFederated splits ISSUER:SUBJECT, where both may hold colons: the issuer is
// "local", or an https URL whose authority may carry a port and whose path has no
// colon; the subject (repo:o/r:ref:…, system:serviceaccount:ns:sa) is the rest.
func parseFederated(rest string) (issuer, subject string, err error) {
	if sub, ok := strings.CutPrefix(rest, localIssuer+":"); ok {
		issuer, subject = localIssuer, sub
	} else {
		after, ok := strings.CutPrefix(rest, "https://")
		if !ok {
			return "", "", errors.New("the issuer is neither an https URL nor \"local\"")
		}
		end := strings.IndexAny(after, ":/")
		if end >= 0 && after[end] == ':' {
			// A port: digits, then the path or the subject separator.
			digits := 0
			for end+1+digits < len(after) && after[end+1+digits] >= '0' && after[end+1+digits] <= '9' {
				digits++
			}
			if digits > 0 && end+1+digits < len(after) && (after[end+1+digits] == '/' || after[end+1+digits] == ':') {
				end += 1 + digits
			}
		}
		if end < 0 {
			return "", "", errors.New("no subject after the issuer")
		}
		if after[end] == '/' {
			if i := strings.IndexByte(after[end:], ':'); i >= 0 {
				end += i
			} else {
				return "", "", errors.New("no subject after the issuer")
			}
		}
		issuer, subject = "https://"+after[:end], after[end+1:]
	}
	if err := checkFederated(issuer, subject, nil); err != nil {
		return "", "", err
	}
	return issuer, subject, nil
}

// checkFederated refuses what RegisterApp would panic on.
func checkFederated(issuer, subject string, audiences []string) error {
	if issuer != localIssuer {
		u, err := url.Parse(issuer)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return fmt.Errorf("issuer %q is neither an https URL nor \"local\"", issuer)
		}
	}
	if subject == "" {
		return errors.New("empty subject")
	}
	for _, a := range audiences {
		if a == "" {
			return errors.New("empty audience")
		}
	}
	return nil
}

// ciSetup is the CI ID-token endpoints and managed identities the flags ask for.
type ciSetup struct {
	githubSubject, githubToken string
	githubAnnounce             bool // the request token was made up here
	azdoConns                  map[string]string
	azdoToken                  string
	azdoAnnounce               bool
	identities                 []emulator.ManagedIdentity
	identityHeader             string
}

// parseCI reads the CI and managed identity flags. Tokens named by --…-env come from the
// environment; others are made up.
func parseCI(f cmdFlags, regs []*emulator.App, lookupEnv func(string) (string, bool)) (ciSetup, error) {
	var ci ciSetup
	fromEnv := func(flagName, name string) (string, error) {
		v, ok := lookupEnv(name)
		if !ok || v == "" {
			return "", usagef("--%s: environment variable %s is not set or empty", flagName, name)
		}
		return v, nil
	}
	var err error
	if f.githubSubject != "" {
		ci.githubSubject = f.githubSubject
		if f.githubTokenEnv != "" {
			if ci.githubToken, err = fromEnv("github-request-token-env", f.githubTokenEnv); err != nil {
				return ci, err
			}
		} else {
			ci.githubToken, ci.githubAnnounce = randomToken(), true
		}
	} else if f.githubTokenEnv != "" {
		return ci, usagef("--github-request-token-env needs --github-actions")
	}
	if len(f.azurePipelines) > 0 {
		ci.azdoConns = map[string]string{}
		for _, spec := range f.azurePipelines {
			id, sub, ok := strings.Cut(spec, "=")
			if !ok || strings.TrimSpace(id) == "" || strings.TrimSpace(sub) == "" {
				return ci, usagef("--azure-pipelines %q: want CONNECTION_ID=SUBJECT", spec)
			}
			ci.azdoConns[id] = sub
		}
		if f.azdoTokenEnv != "" {
			if ci.azdoToken, err = fromEnv("azdo-access-token-env", f.azdoTokenEnv); err != nil {
				return ci, err
			}
		} else {
			ci.azdoToken, ci.azdoAnnounce = randomToken(), true
		}
	} else if f.azdoTokenEnv != "" {
		return ci, usagef("--azdo-access-token-env needs --azure-pipelines")
	}
	if len(f.managedIDs) == 0 {
		if f.identityHeader != "" {
			return ci, usagef("--identity-header needs --managed-identity")
		}
		return ci, nil
	}
	system := false
	for _, spec := range f.managedIDs {
		tenant, id, hasTenant := strings.Cut(spec, ":")
		if !hasTenant {
			tenant, id = "", spec
			if len(regs) == 0 {
				return ci, usagef("--managed-identity %q: no tenant: give TENANT:%s or register an app", spec, spec)
			}
			tenant = regs[0].TenantID
		}
		if strings.TrimSpace(tenant) == "" || strings.TrimSpace(id) == "" {
			return ci, usagef("--managed-identity %q: want [TENANT:]CLIENT_ID or [TENANT:]system", spec)
		}
		mi := emulator.ManagedIdentity{TenantID: tenant, ClientID: id}
		if strings.EqualFold(id, "system") {
			if system {
				return ci, usagef("--managed-identity %q: a resource has one system-assigned identity", spec)
			}
			system = true
			mi = emulator.ManagedIdentity{TenantID: tenant, System: true}
		}
		ci.identities = append(ci.identities, mi)
	}
	ci.identityHeader = f.identityHeader
	if ci.identityHeader == "" {
		ci.identityHeader = randomToken()
	}
	return ci, nil
}

// configure sets the endpoints up on e and notes them in ready.
func (ci ciSetup) configure(e *emulator.Emulator, ready *Ready) {
	if ci.githubSubject != "" {
		ready.GitHubTokenURL = e.GitHubActions(ci.githubToken, ci.githubSubject)
		if ci.githubAnnounce {
			ready.GitHubRequestToken = ci.githubToken
		}
	}
	if ci.azdoConns != nil {
		ready.AzDOOIDCURI = e.AzurePipelines(ci.azdoToken, ci.azdoConns)
		if ci.azdoAnnounce {
			ready.AzDOAccessToken = ci.azdoToken
		}
	}
	if len(ci.identities) > 0 {
		ready.IdentityEndpoint = e.ManagedIdentity(ci.identityHeader, ci.identities...)
		ready.IdentityHeader = ci.identityHeader
		for _, mi := range e.ManagedIdentities() {
			ready.ManagedIdentities = append(ready.ManagedIdentities, ReadyMIdent{TenantID: mi.TenantID, ClientID: mi.ClientID, System: mi.System})
		}
	}
}

// randomToken makes a bearer token for a CI endpoint or identity header.
func randomToken() string {
	var b [24]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
