//go:build !cgo

// Command entratool-keystore-pkcs11, built without cgo: PKCS#11 modules are C
// libraries, so this build can only say how to get a working one.
package main

import (
	"fmt"
	"os"

	"github.com/entratool/entratool/core/version"
)

func main() {
	if version.Requested(os.Args[1:]) {
		fmt.Println(version.Line("entratool-keystore-pkcs11"))
		return
	}
	fmt.Fprintln(os.Stderr, "entratool-keystore-pkcs11 was built with CGO_ENABLED=0 and cannot load PKCS#11 modules: rebuild it with cgo and a C compiler (go build ./plugins/entratool-keystore-pkcs11)")
	os.Exit(1)
}
