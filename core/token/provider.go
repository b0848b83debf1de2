package token

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/fsutil"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
	"github.com/entratool/entratool/core/tokencache"
)

// ExpiryWarningWindow is how close to expiry a certificate draws a warning; the fronts
// decide with the same constant (tokencache.ExpiryWarning).
const ExpiryWarningWindow = tokencache.ExpiryWarningWindow

// Options are what a Provider needs from its process.
type Options struct {
	Home     string
	CacheDir string // "" → ENTRATOOL_CACHE_DIR, else Home/cache
	Getenv   func(string) string
	Margin   time.Duration
	// HTTPClient for the authority; nil → NewHTTPClient with the metadata disk cache.
	HTTPClient *http.Client
	Logger     *slog.Logger // debug log; nil → none
	// Warn receives one-line warnings for stderr; nil drops them, and then the day's
	// certificate expiry warning is not used up either (a silent command).
	Warn func(msg string)
	// Prompt asks the user for a missing secret (kind is secret.CertificatePassword or
	// secret.ClientSecret). Nil means never prompt, as for helpers run by git or kubectl.
	Prompt func(ctx context.Context, p *profile.Profile, kind string) (string, error)
	// KeyStore opens plugin-backed keys (profiles with certificateStore); nil → refused.
	KeyStore KeyStore
	// Secrets replaces the profile's secret store (config rotate tests a new password
	// before storing it); nil → the store the profile and environment choose.
	Secrets secret.Store
	Now     func() time.Time
}

// KeyStore signs client assertions with keys that never leave their store.
type KeyStore interface {
	// Credential returns an MSAL credential for the profile's key, the certificate it
	// signs for (its expiry is remembered for the daily warning, SPEC §13), and a release
	// function the caller runs when the token request is done.
	Credential(ctx context.Context, p *profile.Profile, pin string) (confidential.Credential, *x509.Certificate, func(), error)
}

// Provider is the token pipeline for one profile: cache → single flight → retries →
// Entra. The certificate, the secret store and the key-store plugin are touched only on
// a cache miss.
type Provider struct {
	p     *profile.Profile
	o     Options
	cache *Cache

	memoWarn sync.Once // the certificate's thumbprint could not be remembered
	// warnExpiry: the caller gave Options.Warn, so the day's certificate warning is
	// shown (and used up) by this provider's tokens.
	warnExpiry bool
}

// NewProvider wires the pipeline for p.
func NewProvider(p *profile.Profile, o Options) *Provider {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.CacheDir == "" {
		o.CacheDir = CacheDir(o.Home, o.Getenv)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	warnExpiry := o.Warn != nil
	if !warnExpiry {
		o.Warn = func(string) {}
	}
	c := tokencache.Open(o.Home, o.Getenv)
	c.Dir, c.Now = o.CacheDir, o.Now
	if o.Margin != 0 {
		c.Margin = o.Margin
	}
	return &Provider{p: p, o: o, cache: c, warnExpiry: warnExpiry}
}

// Cache exposes the provider's cache (for helpers that cache derived values, such as
// ACR refresh tokens, under the same rules).
func (pr *Provider) Cache() *Cache { return pr.cache }

// Profile returns the profile the provider serves.
func (pr *Provider) Profile() *profile.Profile { return pr.p }

// Scope returns override, else the profile's scope, else Microsoft Graph.
func (pr *Provider) Scope(override string) string { return pr.p.TokenScope(override) }

// Token returns a token for scope, from the cache when it has more than the margin left.
func (pr *Provider) Token(ctx context.Context, scope string, force bool) (*Token, error) {
	t, _, err := pr.TokenWithCredential(ctx, scope, force)
	return t, err
}

// TokenWithCredential is Token, with the credential ID (tokencache.CredentialID's form)
// the token is cached under: for a certificate file, the thumbprint of the certificate
// actually loaded when its thumbprint was not remembered. Values derived from the token
// (ACR refresh tokens) are keyed by it, so that a new certificate never reuses them.
// A token, from the cache or from Entra, comes with the day's certificate expiry warning
// when one is due (SPEC §13: once a day per profile, across every binary).
func (pr *Provider) TokenWithCredential(ctx context.Context, scope string, force bool) (*Token, string, error) {
	var loaded *credential
	credID, err := pr.credentialID(ctx, &loaded)
	if err != nil {
		return nil, "", err
	}
	t, err := pr.token(ctx, scope, force, credID, &loaded)
	if err != nil {
		return nil, "", err
	}
	pr.expiryWarning(loaded)
	return t, credID, nil
}

// expiryWarning gives the day's certificate warning, if due, through Options.Warn.
// loaded is the credential this call opened (nil on a hit): its certificate is what the
// decision uses, so that the warning does not depend on the memo having been written.
func (pr *Provider) expiryWarning(loaded *credential) {
	if !pr.warnExpiry {
		return
	}
	var known tokencache.CertInfo
	if loaded != nil {
		known = loaded.cert
	}
	if w := tokencache.ExpiryWarningOf(pr.p, known, pr.o.CacheDir, pr.o.Now()); w != "" {
		pr.o.Warn("warning: " + w)
	}
}

// token is Token for the credential credID names; *loaded is that credential when
// credentialID had to open it, else nil until a cache miss opens it.
func (pr *Provider) token(ctx context.Context, scope string, force bool, credID string, loaded **credential) (*Token, error) {
	key := pr.key(scope, credID)
	if !force {
		if t, ok := pr.cache.Get(key); ok {
			pr.debug("token from cache", "profile", pr.p.Name, "scope", scope, "credential", credID, "expiresOn", t.ExpiresOn.UTC().Format(time.RFC3339))
			return t, nil
		}
	}
	pr.debug("cache miss", "profile", pr.p.Name, "scope", scope, "credential", credID, "force", force)
	return pr.cache.Fetch(ctx, key, force, func(ctx context.Context) (*Token, error) {
		// Inside the key's lock: of N processes that missed, one loads the credential
		// (and, for a federated profile, fetches the external token) and asks.
		var t *Token
		var err error
		if pr.p.Method() == profile.MethodManagedIdentity {
			t, err = pr.managedIdentityToken(ctx, scope)
		} else {
			t, err = pr.entraToken(ctx, scope, loaded)
		}
		if t != nil {
			t.TenantID, t.ClientID = key.TenantID, key.ClientID
		}
		return t, err
	}, pr.o.Warn)
}

// retryLog reports a retry in the debug log.
func (pr *Provider) retryLog(what string) func(attempt int, wait time.Duration, err error) {
	return func(attempt int, wait time.Duration, err error) {
		pr.debug("retrying "+what, "attempt", attempt, "wait", wait, "error", err.Error())
	}
}

// entraToken asks the profile's authority with its credential (certificate, secret or
// federated token); *loaded is the credential when credentialID opened it already.
func (pr *Provider) entraToken(ctx context.Context, scope string, loaded **credential) (*Token, error) {
	pr.debug("requesting a token", "authority", pr.p.Authority(), "tenant", pr.p.TenantID, "client", pr.p.ClientID, "method", pr.p.Method())
	if *loaded == nil {
		c, err := pr.loadCredential(ctx)
		if err != nil {
			return nil, err
		}
		*loaded = c
	}
	if (*loaded).release != nil {
		defer (*loaded).release()
	}
	src := Retrying{
		Source: &EntraSource{
			Authority:  pr.p.Authority(),
			TenantID:   pr.p.TenantID,
			ClientID:   pr.p.ClientID,
			Credential: (*loaded).cred,
			SendX5C:    pr.p.SendX5C,
			HTTPClient: pr.httpClient(),
		},
		Log: pr.retryLog("token request"),
	}
	t, err := src.Token(ctx, scope)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && !isPermanent(err) {
		var ee *EntraError
		if !errors.As(err, &ee) {
			// "context deadline exceeded" tells the user nothing; say who did not answer.
			err = fmt.Errorf("no answer from %s within the timeout (raise --timeout, or check the authority host and any proxy): %w", pr.p.Authority(), context.DeadlineExceeded)
		}
	}
	var ee *EntraError
	if errors.As(err, &ee) {
		pr.debug("entra error", "code", ee.Code, "ids", ee.DebugIDs())
		ee.Hint = strings.ReplaceAll(ee.Hint, "PROFILE", pr.p.Name)
		if x := (*loaded).external; x != nil {
			if h := x.hint(ee.Code); h != "" {
				ee.Hint = h
			}
		}
	}
	return t, err
}

// managedIdentityToken asks the machine's managed identity endpoint (SPEC §14).
func (pr *Provider) managedIdentityToken(ctx context.Context, scope string) (*Token, error) {
	pr.debug("requesting a managed identity token", "clientId", pr.p.ManagedIdentityClientID)
	client := pr.o.HTTPClient
	if client == nil {
		client = managedIdentityHTTPClient(HTTPOptions{Logger: pr.o.Logger, Now: pr.o.Now})
	}
	src := Retrying{
		Source: &ManagedIdentitySource{ClientID: pr.p.ManagedIdentityClientID, HTTPClient: client},
		Log:    pr.retryLog("managed identity request"),
	}
	t, err := src.Token(ctx, scope)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && !isPermanent(err) {
		var me *ManagedIdentityError
		if !errors.As(err, &me) {
			err = fmt.Errorf("no answer from the managed identity endpoint within the timeout (raise --timeout): %w", err)
		}
	}
	return t, err
}

// Forget drops the cached token for scope (git's erase, a rejected token).
func (pr *Provider) Forget(ctx context.Context, scope string) error {
	var loaded *credential
	credID, err := pr.credentialID(ctx, &loaded)
	if err != nil {
		// Without the credential id only a sweep by profile identity is possible.
		_, derr := pr.ForgetAll()
		return derr
	}
	return pr.cache.Delete(pr.key(scope, credID))
}

// ForgetAll drops every cached token of this profile's app (any scope or credential),
// and what was derived from them (ACR refresh tokens).
func (pr *Provider) ForgetAll() (int, error) {
	return pr.cache.DeleteMatching(func(k Key) bool { return k.OfApp(pr.p) })
}

func (pr *Provider) key(scope, credID string) Key { return tokencache.KeyFor(pr.p, scope, credID) }

func (pr *Provider) httpClient() *http.Client {
	if pr.o.HTTPClient != nil {
		return pr.o.HTTPClient
	}
	return NewHTTPClient(HTTPOptions{CacheDir: pr.o.CacheDir, Logger: pr.o.Logger, Now: pr.o.Now})
}

func (pr *Provider) debug(msg string, args ...any) {
	if pr.o.Logger != nil {
		pr.o.Logger.Debug(msg, args...)
	}
}

// credential is a loaded key, ready for MSAL.
type credential struct {
	cred     confidential.Credential
	release  func()
	cert     tokencache.CertInfo // its certificate; zero for other methods
	external *ExternalToken      // a federated profile's token source, for hints
}

// credentialID names the key material without loading it when possible: plugin keys by
// their configured thumbprint, files by a thumbprint remembered against the file's
// identity (size, mtime, inode), so a cache hit never opens the PFX or the keyring.
// On a miss the certificate is loaded and kept in *loaded for the token request.
func (pr *Provider) credentialID(ctx context.Context, loaded **credential) (string, error) {
	if id, ok := tokencache.CredentialID(pr.p, pr.o.CacheDir); ok {
		return id, nil
	}
	c, err := pr.loadFile(ctx)
	if err != nil {
		return "", err
	}
	*loaded = c
	return "x5t:" + profile.NormThumbprint(c.cert.Thumbprint), nil
}

// certInfo is what is remembered of leaf; thumbprint is the name its profile knows it by.
func certInfo(leaf *x509.Certificate, thumbprint string) tokencache.CertInfo {
	subject := leaf.Subject.String()
	if leaf.Subject.CommonName != "" {
		subject = "CN=" + leaf.Subject.CommonName
	}
	return tokencache.CertInfo{Thumbprint: thumbprint, NotAfter: leaf.NotAfter, Subject: subject}
}

// rememberFile stores what a miss learnt of the profile's certificate file — its
// thumbprint, which names the cache key, and its expiry, which the fronts warn about —
// against the file's identity, so that hits need not open it. A memo that says the same
// already is left alone; an older one (no expiry) is rewritten.
func (pr *Provider) rememberFile(c tokencache.CertInfo) {
	m := tokencache.CertMemo{Dir: tokencache.MemoDir(pr.o.CacheDir)}
	if old, ok := m.Lookup(pr.p.CertificatePath); ok && old.Same(c) {
		return
	}
	if err := m.Store(pr.p.CertificatePath, c); err != nil {
		// The key is still the loaded certificate's thumbprint; only the saving is lost.
		pr.memoWarn.Do(func() {
			pr.o.Warn(fmt.Sprintf("warning: could not remember the thumbprint of %s (%v); every use opens the certificate until the cache directory is writable", pr.p.CertificatePath, err))
		})
	}
}

// rememberKey stores a key-store certificate's expiry under the thumbprint its profile
// names, for the fronts' hits, which never start the plugin. Failing only costs the
// warning on hits; the engine still warns on misses from the certificate it read.
func (pr *Provider) rememberKey(c tokencache.CertInfo) {
	m := tokencache.CertMemo{Dir: tokencache.MemoDir(pr.o.CacheDir)}
	if old, ok := m.LookupKey(c.Thumbprint); ok && old.Same(c) {
		return
	}
	if err := m.StoreKey(c); err != nil {
		pr.debug("could not remember the key-store certificate", "thumbprint", c.Thumbprint, "error", err.Error())
	}
}

func (pr *Provider) loadCredential(ctx context.Context) (*credential, error) {
	p := pr.p
	switch p.Method() {
	case profile.MethodSecret:
		s, err := pr.secret(ctx, secret.ClientSecret)
		if err != nil {
			return nil, err
		}
		if s == "" {
			if p.FromEnvironment {
				return nil, fmt.Errorf("profile %q: %s is empty", p.Name, profile.EnvAzureClientSecret)
			}
			return nil, fmt.Errorf("no client secret for profile %q: run `entratool config edit -p %s` (Client Secret), or set ENTRATOOL_SECRET_STORE=env and ENTRATOOL_CLIENT_SECRET", p.Name, p.Name)
		}
		cred, err := confidential.NewCredFromSecret(s)
		if err != nil {
			return nil, err
		}
		return &credential{cred: cred}, nil
	case profile.MethodFederated:
		x := &ExternalToken{Profile: p, Getenv: pr.o.Getenv, HTTPClient: pr.externalHTTPClient(), Log: pr.retryLog("ID token request")}
		return &credential{cred: x.Credential(), external: x}, nil
	case profile.MethodCertificate:
	default:
		return nil, fmt.Errorf("profile %q: authMethod %q has no client credential", p.Name, p.Method())
	}
	if p.CertificateStore != "" {
		if pr.o.KeyStore == nil {
			return nil, fmt.Errorf("profile %q uses key store %q, which this program cannot open", p.Name, p.CertificateStore)
		}
		pin, err := pr.secret(ctx, secret.CertificatePassword)
		if err != nil {
			return nil, err
		}
		cred, leaf, release, err := pr.o.KeyStore.Credential(ctx, p, pin)
		if err != nil {
			return nil, err
		}
		info := certInfo(leaf, profile.NormThumbprint(p.CertificateThumbprint))
		pr.rememberKey(info)
		return &credential{cred: cred, release: release, cert: info}, nil
	}
	return pr.loadFile(ctx)
}

// externalHTTPClient is the client for a CI's ID token endpoint: the caller's, else a
// new one (no redirects, no metadata cache: it is not an authority).
func (pr *Provider) externalHTTPClient() *http.Client {
	if pr.o.HTTPClient != nil {
		return pr.o.HTTPClient
	}
	return NewHTTPClient(HTTPOptions{Logger: pr.o.Logger, Now: pr.o.Now})
}

// loadFile opens the profile's certificate file with its stored password (prompting
// when allowed), refuses expired certificates before any network call, and remembers
// the certificate (rememberFile).
func (pr *Provider) loadFile(ctx context.Context) (*credential, error) {
	p := pr.p
	pw, err := pr.secretOptional(ctx, secret.CertificatePassword)
	if err != nil {
		return nil, err
	}
	if err := pr.checkHomeCert(p.CertificatePath); err != nil {
		return nil, err
	}
	fc, err := cert.Load(ctx, p.CertificatePath, pw)
	if errors.Is(err, cert.ErrBadPassword) && pr.o.Prompt != nil && !p.FromEnvironment {
		if pw, err = pr.o.Prompt(ctx, p, secret.CertificatePassword); err != nil {
			return nil, err
		}
		fc, err = cert.Load(ctx, p.CertificatePath, pw)
	}
	if err != nil {
		switch {
		case p.FromEnvironment && (errors.Is(err, cert.ErrPasswordRequired) || errors.Is(err, cert.ErrBadPassword)):
			return nil, fmt.Errorf("%w (profile %q: the password is %s)", err, p.Name, profile.EnvAzureCertPassword)
		case errors.Is(err, cert.ErrPasswordRequired) && secret.Choose(p.SecretStore, pr.o.Getenv) == secret.KindEnv:
			return nil, fmt.Errorf("%w (profile %q uses the env secret store: set %s)", err, p.Name, secret.EnvCertPassword)
		case errors.Is(err, cert.ErrPasswordRequired):
			return nil, fmt.Errorf("%w (profile %q has none stored: set it with `entratool config edit -p %s --certificate-password-stdin`, or run with ENTRATOOL_SECRET_STORE=env and %s set)",
				err, p.Name, p.Name, secret.EnvCertPassword)
		case errors.Is(err, cert.ErrBadPassword):
			return nil, fmt.Errorf("%w (profile %q: update it with `entratool config edit -p %s`, Certificate Password)", err, p.Name, p.Name)
		}
		return nil, err
	}
	if w := cert.PermissionWarning(p.CertificatePath); w != "" {
		pr.o.Warn(w)
	}
	if err := cert.CheckValidity(fc.Leaf, pr.o.Now()); err != nil {
		return nil, err
	}
	// Near expiry it works: the warning is the day's (expiryWarning), not every miss's.
	info := certInfo(fc.Leaf, cert.ThumbprintSHA1(fc.Leaf))
	pr.rememberFile(info)
	key, ok := fc.Key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w in %s", cert.ErrUnsupportedKey, p.CertificatePath)
	}
	cred, err := confidential.NewCredFromCert(fc.Chain, key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.CertificatePath, err)
	}
	return &credential{cred: cred, cert: info}, nil
}

// checkHomeCert applies the trust rules (SPEC §12) to a certificate kept in the home's
// certs directory, which entratool made private: a file there that another user owns
// or can write was not put there by the user. Certificates elsewhere draw only the
// ssh-style warning for loose modes.
func (pr *Provider) checkHomeCert(path string) error {
	certs := filepath.Join(pr.o.Home, "certs")
	abs, err := filepath.Abs(path)
	if err != nil || pr.o.Home == "" {
		return nil
	}
	if rel, err := filepath.Rel(certs, abs); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil
	}
	if err := fsutil.CheckDir(certs); err != nil {
		return err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil // Load reports a missing file in its own words
	}
	return fsutil.CheckFile(path, fi)
}

// secretOptional returns the stored secret, or "" when none is stored (a PFX may have
// no password).
func (pr *Provider) secretOptional(ctx context.Context, kind string) (string, error) {
	if pr.p.FromEnvironment {
		// The env profile's secrets are the Azure SDKs' variables, never stored.
		if kind == secret.ClientSecret {
			return pr.o.Getenv(profile.EnvAzureClientSecret), nil
		}
		return pr.o.Getenv(profile.EnvAzureCertPassword), nil
	}
	store := pr.o.Secrets
	if store == nil {
		var err error
		if store, err = secret.Open(secret.Choose(pr.p.SecretStore, pr.o.Getenv), pr.o.Home, pr.o.Getenv); err != nil {
			return "", err
		}
	}
	v, err := store.Get(ctx, secret.Key(pr.p.Name, kind))
	switch {
	case errors.Is(err, secret.ErrNotFound):
		return "", nil
	case errors.Is(err, secret.ErrKeyringUnreachable):
		// The way out is config edit (get-token has no --secret-store) or the env store.
		return "", fmt.Errorf("profile %q keeps its %s in the keyring, which cannot be used now: %w; "+
			"move it with `entratool config edit -p %s --secret-store file %s`, or run with ENTRATOOL_SECRET_STORE=env and %s set",
			pr.p.Name, secret.Words(kind), err, pr.p.Name, stdinFlag(kind), secret.EnvVar(kind))
	}
	return v, err
}

// stdinFlag is config edit's flag that takes a secret of kind.
func stdinFlag(kind string) string {
	if kind == secret.ClientSecret {
		return "--client-secret-stdin"
	}
	return "--certificate-password-stdin"
}

// secret returns the stored secret, prompting when it is missing and prompting is allowed.
func (pr *Provider) secret(ctx context.Context, kind string) (string, error) {
	v, err := pr.secretOptional(ctx, kind)
	if err != nil || v != "" {
		return v, err
	}
	if pr.o.Prompt != nil && !pr.p.FromEnvironment {
		return pr.o.Prompt(ctx, pr.p, kind)
	}
	return "", nil
}
