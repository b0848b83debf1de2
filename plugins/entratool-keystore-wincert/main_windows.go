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

import "github.com/entratool/entratool/core/keystore"

func main() { keystore.Serve(newStore()) }
