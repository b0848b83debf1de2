package e2e

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/keystore/softhsmtest"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/internal/testbin"
)

// installPlugin copies a key-store plugin built from pkg (internal/testbin) into the
// world's $ENTRATOOL_HOME/plugins as entratool-keystore-<name>: binDir holds only the
// top-level binaries.
func (w *world) installPlugin(name, pkg string) string {
	w.t.Helper()
	return testbin.Install(w.t, pkg, filepath.Join(w.home, "plugins", "entratool-keystore-"+name))
}

// hsmWorld is a world with a SoftHSM2 token holding the app's key and certificate, the
// pkcs11 plugin installed, the certificate registered with the emulator, and profile
// "hsm" made with `config create --certificate-store pkcs11 …`.
func hsmWorld(t *testing.T, extra ...string) (*world, *softhsmtest.Token) {
	t.Helper()
	softhsmtest.Module(t)
	softhsmtest.RequireCgo(t)
	w := newWorld(t)
	tok := softhsmtest.New(t, softhsmtest.Options{Label: "entra-e2e", Subject: "CN=hsm-e2e"})
	w.env["SOFTHSM2_CONF"] = tok.Conf
	w.installPlugin("pkcs11", "./plugins/entratool-keystore-pkcs11")
	w.register(tok.Cert)
	args := append([]string{"config", "create", "--name", "hsm", "--client-id", clientID, "--tenant-id", tenantID,
		"--authority-host", w.emu.URL, "--scope", graph,
		"--certificate-store", "pkcs11", "--thumbprint", cert.ThumbprintSHA1(tok.Cert),
		"--store-option", "module=" + tok.Module, "--store-option", "tokenLabel=" + tok.Label,
		"--certificate-password-stdin"}, extra...)
	w.mustRun(tok.PIN, "entratool", args...)
	return w, tok
}

// SoftHSM2 → pkcs11 plugin → PS256 assertion → emulator token: the emulator verified
// the assertion's signature against the registered certificate before issuing it.
func TestKeyStorePKCS11Token(t *testing.T) {
	w, tok := hsmWorld(t)
	p := w.profile("hsm")
	if p.CertificatePath != "" || p.CertificateStore != "pkcs11" || p.CertificateStoreOptions["tokenLabel"] != tok.Label {
		t.Fatalf("profile = %+v", p)
	}

	out := w.mustRun("", "entratool", "get-token", "-p", "hsm")
	cl := w.claims(out, "https://graph.microsoft.com")
	if cl.AppID != clientID || cl.TenantID != tenantID {
		t.Fatalf("claims = %+v", cl)
	}
	if c := w.emu.Counts(); c.TokenIssued != 1 {
		t.Fatalf("emulator counts after the first token: %+v", c)
	}

	// A cache hit never starts the plugin: it still answers with the plugin removed.
	plugin := filepath.Join(w.home, "plugins", "entratool-keystore-pkcs11")
	if err := os.Rename(plugin, plugin+".away"); err != nil {
		t.Fatal(err)
	}
	again := w.mustRun("", "entratool", "get-token", "-p", "hsm")
	if again != out {
		t.Error("second get-token did not come from the cache")
	}
	if c := w.emu.Counts(); c.Token != 1 {
		t.Errorf("a cache hit made a token request: %+v", c)
	}
	// A miss without the plugin says where it looked.
	_, errOut, code := w.run("", "entratool", "get-token", "-p", "hsm", "--force-refresh")
	want := `key-store plugin "pkcs11" not found: no entratool-keystore-pkcs11 in ` + binDir + ", " + filepath.Join(w.home, "plugins") + " or on PATH"
	if code != 1 || !strings.Contains(errOut, want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("missing plugin: exit %d, stderr %q", code, errOut)
	}
	if err := os.Rename(plugin+".away", plugin); err != nil {
		t.Fatal(err)
	}

	// keystore list and cert info see what the token holds.
	list := w.mustRun("", "entratool", "keystore", "list", "-p", "hsm")
	if !strings.Contains(list, "CN=hsm-e2e") || !strings.Contains(list, cert.ThumbprintSHA1(tok.Cert)) {
		t.Errorf("keystore list -p hsm:\n%s", list)
	}
	list = w.mustRun(tok.PIN, "entratool", "keystore", "list", "--store", "pkcs11", "--store-option", "module="+tok.Module,
		"--store-option", "tokenLabel="+tok.Label, "--pin-stdin")
	if !strings.Contains(list, "CN=hsm-e2e") || !strings.Contains(list, cert.ThumbprintSHA1(tok.Cert)) {
		t.Errorf("keystore list --store pkcs11:\n%s", list)
	}
	info := w.mustRun("", "entratool", "cert", "info", "-p", "hsm")
	if !strings.Contains(info, "CN=hsm-e2e") || !strings.Contains(info, cert.ThumbprintSHA256(tok.Cert)) {
		t.Errorf("cert info -p hsm:\n%s", info)
	}
}

// With sendX5C the assertion carries the chain; the emulator checks that its first
// certificate is the one the thumbprint names.
func TestKeyStorePKCS11SendX5C(t *testing.T) {
	w, _ := hsmWorld(t, "--send-x5c")
	if !w.profile("hsm").SendX5C {
		t.Fatal("profile lacks sendX5C")
	}
	out := w.mustRun("", "entratool", "get-token", "-p", "hsm", "-o", "json")
	if !strings.Contains(out, `"accessToken"`) {
		t.Fatalf("get-token -o json: %s", out)
	}
}

func TestKeyStorePKCS11WrongPIN(t *testing.T) {
	w, tok := hsmWorld(t)
	w.mustRun("000000", "entratool", "config", "edit", "-p", "hsm", "--certificate-password-stdin")
	_, errOut, code := w.run("", "entratool", "get-token", "-p", "hsm")
	want := `entratool: key store "pkcs11": the PIN for token "` + tok.Label + `" was refused (CKR_PIN_INCORRECT); profile "hsm" keeps the PIN as its certificate password: update it with ` + "`entratool config edit -p hsm`"
	if code != 1 || !strings.HasPrefix(errOut, want) {
		t.Errorf("wrong PIN: exit %d\n got %q\nwant prefix %q", code, errOut, want)
	}
	if strings.Count(strings.TrimSpace(errOut), "\n") != 0 || strings.Contains(errOut, "000000") {
		t.Errorf("wrong PIN: not one line, or the PIN leaked: %q", errOut)
	}
	if c := w.emu.Counts(); c.Token != 0 {
		t.Errorf("a refused PIN still reached the authority: %+v", c)
	}
}

// A plugin that dies or hangs mid-call gives one line within the timeout, and leaves
// no process behind.
func TestKeyStorePluginCrashAndHang(t *testing.T) {
	w := newWorld(t)
	cf := w.newCert("fake-app", "")
	w.register(cf.leaf)
	bin := w.installPlugin("fake", "./core/keystore/internal/fakeplugin")
	w.env["ENTRATOOL_PLUGIN_TIMEOUT"] = "2s"
	for _, tc := range []struct {
		name, opt, want string
		max             time.Duration
	}{
		{"ok", "", "", 10 * time.Second},
		{"crash", "crash=Sign", "exited during Sign (it said: fakeplugin: simulated crash in Sign)", 10 * time.Second},
		{"hang", "hang=Sign", "did not answer Sign within 2s (ENTRATOOL_PLUGIN_TIMEOUT); it was stopped", 10 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := map[string]string{"pem": cf.pem}
			if k, v, ok := strings.Cut(tc.opt, "="); ok {
				opts[k] = v
			}
			w.saveProfile(&profile.Profile{Name: "fake-" + tc.name, UseCertificate: true, Scope: graph, CertificateStore: "fake",
				CertificateThumbprint: cert.ThumbprintSHA1(cf.leaf), CertificateStoreOptions: opts}, "")
			start := time.Now()
			out, errOut, code := w.run("", "entratool", "get-token", "-p", "fake-"+tc.name, "--force-refresh")
			took := time.Since(start)
			if tc.want == "" {
				if code != 0 {
					t.Fatalf("exit %d: %s", code, errOut)
				}
				w.claims(out, "https://graph.microsoft.com")
				return
			}
			if code != 1 || !strings.Contains(errOut, tc.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Errorf("exit %d, stderr %q; want one line with %q", code, errOut, tc.want)
			}
			if took > tc.max {
				t.Errorf("took %v", took)
			}
			if n := running(bin); n > 0 {
				t.Errorf("%d plugin process(es) still running after entratool exited", n)
			}
		})
	}
}

// running counts live processes of executable path (Linux /proc; elsewhere 0). A plugin
// killed just before entratool exited may take the kernel a moment to reap: the count
// is taken again until it is zero, for up to 5 s.
func running(path string) int {
	if runtime.GOOS != "linux" {
		return 0
	}
	count := func() int {
		n := 0
		dirs, _ := filepath.Glob("/proc/[0-9]*/exe")
		for _, d := range dirs {
			if target, err := os.Readlink(d); err == nil && target == path {
				n++
			}
		}
		return n
	}
	n := count()
	for deadline := time.Now().Add(5 * time.Second); n > 0 && time.Now().Before(deadline); n = count() {
		time.Sleep(10 * time.Millisecond)
	}
	return n
}
