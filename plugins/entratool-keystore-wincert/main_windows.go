// Command entratool-keystore-wincert is entratool's key-store plugin for the Windows
// certificate store: the certificate is found by thumbprint in CurrentUser\My or
// LocalMachine\My (or another store named by the store option), and its private key
// signs through CNG (NCryptSignHash) without ever being exported. Keys held by the
// legacy CryptoAPI providers only are refused: re-import them with a CNG provider
// (certutil -csp "Microsoft Software Key Storage Provider" -importpfx …).
//
// It builds only for Windows (the whole package is GOOS=windows); see docs/keystore.md
// for what was and was not run.
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
		fmt.Println(version.Line("entratool-keystore-wincert"))
		return
	}
	keystore.Serve(newStore())
}
