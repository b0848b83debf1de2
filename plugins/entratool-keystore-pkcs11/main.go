//go:build cgo

// Command entratool-keystore-pkcs11 is entratool's key-store plugin for PKCS#11 tokens
// and HSMs (SoftHSM2, YubiHSM, Thales Luna, CloudHSM, smart cards, …). entratool starts
// it when a profile with "certificateStore": "pkcs11" needs a new token; run by hand it
// only says that it is a plugin, or with --version its version. See docs/keystore.md.
package main

import "github.com/entratool/entratool/core/keystore"

func main() { keystore.Serve(newStore()) }
