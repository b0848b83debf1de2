// Package version carries the build's version, stamped by the Makefile with -ldflags.
package version

// Version is overwritten at link time (-X); "dev" marks a plain `go build`.
var Version = "dev"
