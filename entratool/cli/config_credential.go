package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
)

// The credential steps config create and config edit share: asking for a certificate,
// a key-store certificate, a PIN or a client secret, and storing the secret.

// askCertificate gets a certificate path and its password and opens the certificate
// with them. When it may prompt, a missing file or a wrong password is asked again
// (three tries); otherwise it is the error. oldPassword, when set, is tried when no
// password is given (an edit that only moves the file).
func (e configEnv) askCertificate(path string, pwStdin bool, store secret.Store, oldPassword string) (string, string, error) {
	pathFromFlag := path != ""
	var pw string
	var pwGiven bool
	if pwStdin {
		s, err := readSecretStdin(e.IO.In)
		if err != nil {
			return "", "", fmt.Errorf("read the certificate password from stdin: %w", err)
		}
		pw, pwGiven = s, true
	}
	tty := e.IO.CanPrompt
	for try := 1; ; try++ {
		if path == "" {
			s, err := e.IO.need("", "certificate", "Certificate path")
			if err != nil {
				return "", "", err
			}
			path = s
		}
		abs, err := absPath(path)
		if err != nil {
			return "", "", err
		}
		if !pwGiven && tty {
			if pw, err = e.IO.promptSecret("Certificate password"); err != nil {
				return "", "", err
			}
		} else if !pwGiven {
			pw = oldPassword
			if pw == "" && store.Name() == secret.KindEnv {
				pw = e.App.Getenv(secret.EnvCertPassword)
			}
		}
		_, err = e.openCert(abs, pw)
		switch {
		case err == nil:
			return abs, pw, nil
		case try < 3 && tty && errors.Is(err, cert.ErrNotFound) && !pathFromFlag:
			e.warn("  " + err.Error())
			path = ""
			continue
		case try < 3 && tty && errors.Is(err, cert.ErrBadPassword) && !pwGiven:
			e.warn("  " + err.Error())
			continue
		case errors.Is(err, cert.ErrBadPassword) && !pwGiven && !tty:
			return "", "", usageErr("%v: pass the password with --certificate-password-stdin", err)
		}
		return "", "", err
	}
}

// askKeyStore fills in a key-store certificate: the plugin cannot be asked here, so the
// thumbprint is taken as given and checked at the first token request.
func (e configEnv) askKeyStore(f *profileFlags, p *profile.Profile) error {
	tp, err := e.IO.ask(f.thumbprint, "thumbprint", "Certificate thumbprint", checkThumbprint)
	if err != nil {
		return err
	}
	opts, err := f.storeOptionMap()
	if err != nil {
		return err
	}
	p.SetMethod(profile.MethodCertificate)
	p.CertificatePath = ""
	p.CertificateStore, p.CertificateThumbprint = f.certStore, profile.NormThumbprint(tp)
	// An edit that names only what changes keeps the rest.
	if f.storeLocation != "" {
		p.CertificateStoreLocation = f.storeLocation
	}
	if opts != nil {
		p.CertificateStoreOptions = opts
	}
	return nil
}

// askPIN gets a key store's PIN, kept in the certificate-password slot; none is fine
// (a store may need none, or the env store supplies it).
func (e configEnv) askPIN(fromStdin bool) (string, error) {
	switch {
	case fromStdin:
		s, err := readSecretStdin(e.IO.In)
		if err != nil {
			return "", fmt.Errorf("read the PIN from stdin: %w", err)
		}
		return s, nil
	case e.IO.CanPrompt:
		return e.IO.promptSecret("Certificate password")
	}
	return "", nil
}

// askClientSecret reads the client secret from stdin or the terminal. With the env store
// and neither, ENTRATOOL_CLIENT_SECRET is used at token time.
func (e configEnv) askClientSecret(fromStdin bool, store secret.Store) (string, error) {
	switch {
	case fromStdin:
		s, err := readSecretStdin(e.IO.In)
		if err != nil {
			return "", fmt.Errorf("read the client secret from stdin: %w", err)
		}
		if s == "" {
			return "", usageErr("--client-secret-stdin: stdin was empty")
		}
		return s, nil
	case e.IO.CanPrompt:
		for {
			s, err := e.IO.promptSecret("Client secret")
			if err != nil {
				return "", err
			}
			if s != "" {
				return s, nil
			}
		}
	case store.Name() == secret.KindEnv:
		return "", nil
	}
	return "", usageErr("missing --client-secret-stdin (stdin is not a terminal, so entratool cannot prompt for the client secret)")
}

// saveSecrets puts values into the store ("" deletes). The env store stores nothing: a
// value that differs from its variable draws a reminder instead.
func (e configEnv) saveSecrets(ctx context.Context, store secret.Store, name string, values map[string]string) error {
	for _, kind := range secretKinds() {
		v, ok := values[kind]
		if !ok {
			continue
		}
		if store.Name() == secret.KindEnv {
			envName := secret.EnvVar(kind)
			if v != "" && e.App.Getenv(envName) != v {
				e.warn(fmt.Sprintf("note: the env secret store keeps nothing: export %s when using profile '%s'", envName, name))
			}
			continue
		}
		key := secret.Key(name, kind)
		if v == "" {
			// A leftover from an earlier profile of the same name must not be used.
			if err := store.Delete(ctx, key); err != nil {
				e.App.debugf("delete stale secret", "key", key, "error", err.Error())
			}
			continue
		}
		if err := store.Set(ctx, key, v); err != nil {
			return fmt.Errorf("could not store the %s in the %s store: %w (choose another with --secret-store file or env)",
				secret.Words(kind), store.Name(), err)
		}
	}
	return nil
}
