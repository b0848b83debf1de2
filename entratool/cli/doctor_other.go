//go:build !unix

package cli

import "os"

// dirWritable: Windows guards directories with ACLs, which os.FileInfo does not show;
// a directory the user cannot write to fails the commands that write there instead.
func dirWritable(string, os.FileInfo) error { return nil }
