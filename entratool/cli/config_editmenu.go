package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
)

// The menu of config edit on a terminal: the seed's "Select: Certificate Path /
// Enter: … / Enter password: ****".

var menuItems = []string{
	"Certificate Path", "Certificate Password", "Client Secret", "Scope", "Client ID",
	"Tenant ID", "Authority Host", "Secret Store", "Done",
}

var errNoAnswer = errors.New("no answer")

// parseMenuChoice reads an answer to the edit menu: its number or its name.
func parseMenuChoice(s string) int {
	s = strings.TrimSpace(s)
	for i, item := range menuItems {
		if s == fmt.Sprint(i+1) || strings.EqualFold(s, item) {
			return i + 1
		}
	}
	return 0
}

// editMenu shows the menu until Done; end of input aborts the whole edit.
func (o *editOptions) editMenu(ctx context.Context, e *editor) error {
	for {
		o.printMenu(e.cur)
		s, err := o.IO.prompt("Select")
		if err != nil {
			return fmt.Errorf("%w; no changes saved", err)
		}
		choice := parseMenuChoice(s)
		if choice == 0 {
			o.warn(fmt.Sprintf("  Answer 1 to %d.", len(menuItems)))
			continue
		}
		if choice == len(menuItems) {
			return nil
		}
		if err := o.menuItem(ctx, e, choice); err != nil {
			var ee *launch.ExitError
			if errors.As(err, &ee) || errors.Is(err, errNoAnswer) {
				return fmt.Errorf("%w; no changes saved", err)
			}
			// A bad answer to one item leaves the others; say why and show the menu again.
			o.warn("✗ " + err.Error())
		}
	}
}

func (o *editOptions) printMenu(p *profile.Profile) {
	cur := map[int]string{
		1: p.CertificatePath,
		4: p.Scope,
		5: p.ClientID,
		6: p.TenantID,
		7: p.Authority(),
		8: secret.Choose(p.SecretStore, o.App.Getenv),
	}
	if p.Method() == profile.MethodSecret {
		cur[3] = "in use"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Profile '%s':\n", p.Name)
	for i, item := range menuItems {
		if v := cur[i+1]; v != "" {
			fmt.Fprintf(&b, "%d. %s (%s)\n", i+1, item, v)
		} else {
			fmt.Fprintf(&b, "%d. %s\n", i+1, item)
		}
	}
	fmt.Fprint(o.IO.Err, b.String())
}

// promptOrAbort prompts; end of input aborts the whole edit.
func (o *editOptions) promptOrAbort(label string, secretInput bool) (string, error) {
	var s string
	var err error
	if secretInput {
		s, err = o.IO.promptSecret(label)
	} else {
		s, err = o.IO.prompt(label)
	}
	if err != nil {
		return "", fmt.Errorf("%w: %v", errNoAnswer, err)
	}
	if !secretInput {
		s = strings.TrimSpace(s)
	}
	return s, nil
}

// menuItem asks for the new value of one item and records it; an empty answer changes
// nothing.
func (o *editOptions) menuItem(ctx context.Context, e *editor, choice int) error {
	switch menuItems[choice-1] {
	case "Certificate Path":
		if err := o.menuStoreUsable(ctx, e, secret.CertificatePassword); err != nil {
			return err
		}
		return o.menuCertificatePath(e)
	case "Certificate Password":
		if msg := noCertificate(e.cur); msg != "" {
			return fmt.Errorf("%s: choose Certificate Path to switch to a certificate", msg)
		}
		if err := o.menuStoreUsable(ctx, e, secret.CertificatePassword); err != nil {
			return err
		}
		return o.menuCertificatePassword(e)
	case "Client Secret":
		if err := o.menuStoreUsable(ctx, e, secret.ClientSecret); err != nil {
			return err
		}
		s, err := o.promptOrAbort("Client secret", true)
		if err != nil || s == "" {
			return err
		}
		e.useClientSecret(s)
	case "Scope":
		s, err := o.promptOrAbort("Scope", false)
		if err != nil || s == "" {
			return err
		}
		if err := profile.CheckScope(s); err != nil {
			return err
		}
		o.checkScope(s)
		e.apply(func(p *profile.Profile) { p.Scope = s })
	case "Client ID":
		return o.menuIdentity(e, "Client ID", checkClientID, func(p *profile.Profile, s string) { p.ClientID = s })
	case "Tenant ID":
		return o.menuIdentity(e, "Tenant ID", checkTenantID, func(p *profile.Profile, s string) { p.TenantID = s })
	case "Authority Host":
		return o.menuAuthorityHost(e)
	case "Secret Store":
		return o.menuSecretStore(e)
	}
	return nil
}

// menuCertificatePath switches to a certificate file, opened with its password first.
func (o *editOptions) menuCertificatePath(e *editor) error {
	path, err := o.promptOrAbort("Certificate path", false)
	if err != nil || path == "" {
		return err
	}
	abs, err := absPath(path)
	if err != nil {
		return err
	}
	pw, err := o.promptOrAbort("Certificate password", true)
	if err != nil {
		return err
	}
	c, err := o.openCert(abs, pw)
	if err != nil {
		return err
	}
	o.warn(fmt.Sprintf("  %s, thumbprint %s, valid until %s", c.Leaf.Subject, cert.ThumbprintSHA1(c.Leaf), c.Leaf.NotAfter.UTC().Format(time.DateOnly)))
	e.useCertFile(abs, pw)
	return nil
}

func (o *editOptions) menuCertificatePassword(e *editor) error {
	pw, err := o.promptOrAbort("Certificate password", true)
	if err != nil {
		return err
	}
	return o.setCertPassword(e, pw)
}

// menuStoreUsable makes sure, before a secret is typed, that the profile's store can
// keep it: an unreachable keyring is replaced by the store the user picks (see
// storeUsable), recorded like the Secret Store item.
func (o *editOptions) menuStoreUsable(ctx context.Context, e *editor, kind string) error {
	use, err := o.storeUsable(ctx, e.cur, kind, o.App.Getenv("ENTRATOOL_SECRET_STORE") != "")
	var ee *launch.ExitError
	switch {
	case errors.As(err, &ee) && ee.Code == ExitFailure:
		return ee.Err // the keyring was chosen by ENTRATOOL_SECRET_STORE: the menu says why and goes on
	case err != nil:
		return fmt.Errorf("%w: %v", errNoAnswer, err)
	case use == "":
		return nil
	}
	e.apply(func(p *profile.Profile) { p.SecretStore = use })
	return nil
}

// menuIdentity changes the client ID or the tenant ID (label), checked with check and
// recorded with set.
func (o *editOptions) menuIdentity(e *editor, label string, check func(string) error, set func(*profile.Profile, string)) error {
	s, err := o.promptOrAbort(label, false)
	if err != nil || s == "" {
		return err
	}
	if err := check(s); err != nil {
		return err
	}
	e.apply(func(p *profile.Profile) { set(p, s) })
	e.forget = true
	return nil
}

// menuAuthorityHost takes a URL or the name of a national cloud.
func (o *editOptions) menuAuthorityHost(e *editor) error {
	s, err := o.promptOrAbort("Authority host (URL, or public, usgov, china)", false)
	if err != nil || s == "" {
		return err
	}
	probe := e.cur.Clone()
	set := func(p *profile.Profile) { p.AuthorityHost, p.Cloud = s, "" }
	switch s {
	case "public", "usgov", "china":
		set = func(p *profile.Profile) { p.Cloud, p.AuthorityHost = s, "" }
	}
	set(probe)
	if err := probe.Validate(); err != nil {
		return err
	}
	e.apply(set)
	e.forget = true
	return nil
}

func (o *editOptions) menuSecretStore(e *editor) error {
	s, err := o.promptOrAbort("Secret store (keyring, file, env)", false)
	if err != nil || s == "" {
		return err
	}
	switch s {
	case secret.KindKeyring, secret.KindFile, secret.KindEnv:
	default:
		return fmt.Errorf("secret store %q: use keyring, file or env", s)
	}
	o.noteStoreOverride(s)
	e.apply(func(p *profile.Profile) { p.SecretStore = s })
	return nil
}
