package keystore

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/entratool/entratool/core/version"
)

// Serve runs a key-store plugin: it answers the host's calls with s until the host
// closes the connection, then closes s if it is an io.Closer. A plugin's main is
//
//	func main() { keystore.Serve(&myStore{}) }
//
// Run by hand, without the host's handshake, the executable says it is a plugin and
// exits 1 — except for --version, answered with the line every entratool binary prints
// (the host starts a plugin with no arguments, so the flag can only come from a person).
func Serve(s Store) {
	if version.Requested(os.Args[1:]) {
		name := strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe")
		fmt.Println(version.Line(name))
		return
	}
	done := make(chan struct{})
	defer close(done)
	go exitWithParent(done)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: handshake(),
		Plugins:         plugin.PluginSet{pluginName: &grpcPlugin{impl: s}},
		GRPCServer:      plugin.DefaultGRPCServer,
		// JSON on stderr is how go-plugin carries a plugin's log lines to the host.
		Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Info, Output: os.Stderr, JSONFormat: true}),
	})
	if c, ok := s.(io.Closer); ok {
		c.Close()
	}
}

// exitWithParent ends the plugin when the host dies without closing it (killed, or
// crashed), so a store session is not held open by an orphan. On Unix an orphan is
// re-parented, which changes its parent pid; elsewhere this never fires.
func exitWithParent(done <-chan struct{}) {
	parent := os.Getppid()
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			if os.Getppid() != parent {
				os.Exit(3)
			}
		}
	}
}
