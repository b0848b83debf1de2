package testkit

import (
	"net"
	"testing"
)

// ClosedAddr is a 127.0.0.1 host:port nobody listens on: bound, then released, so that
// a connection to it is refused.
func ClosedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
