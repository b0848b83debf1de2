package main

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/windows"

	"github.com/entratool/entratool/core/keystore"
)

// Written for Windows and compiled on Linux with GOOS=windows (go vet, go test -c); it
// has not been run on Windows. See docs/keystore.md.
func TestParse(t *testing.T) {
	w, err := parse(keystore.Request{})
	if err != nil || w.String() != `CurrentUser\My` || w.flags != windows.CERT_SYSTEM_STORE_CURRENT_USER {
		t.Errorf("default = %+v, %v", w, err)
	}
	w, err = parse(keystore.Request{Location: "localmachine", Options: map[string]string{"store": "WebHosting"}})
	if err != nil || w.String() != `LocalMachine\WebHosting` || w.flags != windows.CERT_SYSTEM_STORE_LOCAL_MACHINE {
		t.Errorf("LocalMachine = %+v, %v", w, err)
	}
	for _, r := range []keystore.Request{{Location: "Elsewhere"}, {Options: map[string]string{"module": "x"}}} {
		if _, err := parse(r); !errors.Is(err, keystore.ErrBadOptions) {
			t.Errorf("parse(%+v) = %v", r, err)
		}
	}
}

func TestExplain(t *testing.T) {
	w := &where{location: "CurrentUser", name: "My"}
	for code, kind := range map[uint32]error{nteSilentContext: keystore.ErrBadPIN, scardWrongPIN: keystore.ErrBadPIN,
		scardPINLocked: keystore.ErrPINLocked, nteBadKeyset: keystore.ErrNotFound, nteNotSupported: keystore.ErrUnsupported} {
		err := explain(windows.Errno(code), w, "AB")
		if !errors.Is(err, kind) || !strings.Contains(err.Error(), "AB") {
			t.Errorf("explain(0x%08X) = %v, want %v", code, err, kind)
		}
	}
}

// On Windows with a certificate in CurrentUser\My this lists it; it asserts only what
// any store satisfies, as the test machine's store is unknown.
func TestListCurrentUser(t *testing.T) {
	items, err := newStore().List(t.Context(), keystore.Request{})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if len(it.Certificate) == 0 || it.KeyRef != `CurrentUser\My` {
			t.Errorf("item = %+v", it)
		}
	}
}
