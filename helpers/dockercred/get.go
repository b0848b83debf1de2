package dockercred

import (
	"bufio"
	"bytes"
	"io"
	"strings"

	"github.com/docker/docker-credential-helpers/credentials"

	"github.com/entratool/entratool/core/fsutil"
	"github.com/entratool/entratool/core/jsonstr"
)

// get is credentials.HandleCommand's get (credentials.Get, docker-credential-helpers
// v0.9.3) with the answer written by writeCredentials instead of encoding/json: the
// same server URL read from in, the same errors, the same bytes on out
// (TestGetIsCredentialsGet, FuzzGet). encoding/json builds the encoder for Credentials
// by reflection on first use, and a fresh process pays for it on every cache hit:
// about 45K of the hit's 730K instructions (SPEC §11).
func get(helper credentials.Helper, _ credentials.Action, in io.Reader, out io.Writer) error {
	// As credentials.Get reads it: the lines (at most bufio.MaxScanTokenSize each, CR
	// LF or LF, a final CR dropped) joined without separators, then trimmed.
	scanner := bufio.NewScanner(in)
	// The same limit as the default; a first buffer of the hit's size class (SmallBuffer).
	scanner.Buffer(make([]byte, 0, fsutil.SmallBuffer), bufio.MaxScanTokenSize)
	var joined strings.Builder
	for scanner.Scan() {
		joined.Write(scanner.Bytes())
	}
	if err := scanner.Err(); err != nil && err != io.EOF {
		return err
	}
	serverURL := strings.TrimSpace(joined.String())
	if len(serverURL) == 0 {
		return credentials.NewErrCredentialsMissingServerURL()
	}
	username, secret, err := helper.Get(serverURL)
	if err != nil {
		return err
	}
	// credentials.Get ignores a failed write too: the answer is all there is to say.
	_ = writeCredentials(out, &credentials.Credentials{ServerURL: serverURL, Username: username, Secret: secret})
	return nil
}

// writeCredentials writes c as json.NewEncoder(w).Encode(c) does — the fields in
// declaration order under their Go names, HTML-escaped strings, a final newline — in one
// Write (TestWriteCredentialsIsEncodingJSON, FuzzWriteCredentials).
//
// Into a bytes.Buffer (the front collects its answer in one until it knows it has a
// hit) the answer is appended in place: a buffer of its own and the copy into the
// Buffer's would be two more allocations, of two size classes.
func writeCredentials(w io.Writer, c *credentials.Credentials) error {
	size := max(fsutil.SmallBuffer, 48+len(c.ServerURL)+len(c.Username)+len(c.Secret))
	if bb, ok := w.(*bytes.Buffer); ok {
		bb.Grow(size)
		_, err := bb.Write(appendCredentials(bb.AvailableBuffer(), c))
		return err
	}
	_, err := w.Write(appendCredentials(make([]byte, 0, size), c))
	return err
}

func appendCredentials(b []byte, c *credentials.Credentials) []byte {
	b = jsonstr.Append(append(b, `{"ServerURL":`...), c.ServerURL, true)
	b = jsonstr.Append(append(b, `,"Username":`...), c.Username, true)
	b = jsonstr.Append(append(b, `,"Secret":`...), c.Secret, true)
	return append(b, "}\n"...)
}
