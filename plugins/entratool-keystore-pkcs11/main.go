//go:build cgo

// Command entratool-keystore-pkcs11 is entratool's key-store plugin for PKCS#11 tokens
// and HSMs (SoftHSM2, YubiHSM, Thales Luna, CloudHSM, smart cards, …). entratool starts
// it when a profile with "certificateStore": "pkcs11" needs a new token; run by hand it
// only says that it is a plugin, or with --version its version. See docs/keystore.md.
package main

import (
	"fmt"
	"os"

	"github.com/entratool/entratool/core/keystore"
	"github.com/entratool/entratool/core/version"
)

func main() {
	// The host starts a plugin without arguments; a person asking for the version gets
	// the line every entratool binary prints instead of go-plugin's "not meant to be
	// executed directly".
	if version.Requested(os.Args[1:]) {
		fmt.Println(version.Line("entratool-keystore-pkcs11"))
		return
	}
	keystore.Serve(newStore())
}
