package secret

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/entratool/entratool/core/fsutil"
	"github.com/entratool/entratool/core/jsonpos"
)

// File keeps secrets in HOME/secrets.json, a JSON object of key → value, mode 0600 in a
// 0700 directory. It is for machines without a usable keyring; the protection is the
// file mode alone.
type File struct {
	path string
}

// maxFileSize bounds secrets.json; a few hundred secrets fit in far less.
const maxFileSize = 16 << 20

// NewFile returns the file store of an entratool home.
func NewFile(home string) *File { return &File{path: filepath.Join(home, "secrets.json")} }

func (f *File) Name() string { return KindFile }

// Path is the secrets file.
func (f *File) Path() string { return f.path }

// SyntaxError reports a secrets.json that cannot be read; it never quotes the file's
// content, which is secret.
type SyntaxError = jsonpos.SyntaxError

// load reads the file; a missing file is an empty map.
func (f *File) load() (map[string]string, error) {
	if err := fsutil.CheckDir(filepath.Dir(f.path)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return map[string]string{}, nil
		}
		return nil, err
	}
	data, err := fsutil.ReadPrivate(f.path, fsutil.FollowOwnLink, maxFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		if errors.Is(err, fsutil.ErrUntrusted) {
			return nil, err
		}
		return nil, fmt.Errorf("read secrets: %w", err)
	}
	return parseSecrets(f.path, data)
}

func parseSecrets(path string, data []byte) (map[string]string, error) {
	fail := func(at int64, msg string) error {
		line, col := jsonpos.LineCol(data, at)
		return &SyntaxError{Path: path, Line: line, Column: col, Msg: msg}
	}
	// The syntax check first, so that a truncated file reports its end; encoding/json's
	// syntax messages name at most one character, never a value.
	if err := json.Unmarshal(data, new(json.RawMessage)); err != nil {
		var se *json.SyntaxError
		if !errors.As(err, &se) {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		at := se.Offset - 1
		if se.Offset >= int64(len(data)) {
			at = int64(len(data))
		}
		return nil, fail(at, se.Error())
	}
	start := int64(len(data) - len(bytes.TrimLeft(data, " \t\r\n")))
	if data[start] != '{' {
		return nil, fail(start, "the file must be a JSON object of strings, not "+jsonpos.Kind(data[start]))
	}
	// Walk the members to point at the value that is not a string. Only the JSON kind is
	// named: the value itself may be a secret.
	m := map[string]string{}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.Token()
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fail(dec.InputOffset(), err.Error())
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fail(dec.InputOffset(), err.Error())
		}
		at := dec.InputOffset() - int64(len(raw))
		var v string
		if raw[0] != '"' || json.Unmarshal(raw, &v) != nil {
			return nil, fail(at, fmt.Sprintf("the value of %q must be a string, not %s", key, jsonpos.Kind(raw[0])))
		}
		m[key] = v
	}
	return m, nil
}

func (f *File) Get(_ context.Context, key string) (string, error) {
	m, err := f.load()
	if err != nil {
		return "", err
	}
	v, ok := m[key]
	if !ok {
		return "", fmt.Errorf("%w: %s in %s", ErrNotFound, key, f.path)
	}
	return v, nil
}

func (f *File) Set(ctx context.Context, key, value string) error {
	return f.update(ctx, func(m map[string]string) bool {
		m[key] = value
		return true
	})
}

func (f *File) Delete(ctx context.Context, key string) error {
	if _, err := os.Lstat(f.path); errors.Is(err, fs.ErrNotExist) {
		return nil // nothing to delete; do not create the home for it
	}
	return f.update(ctx, func(m map[string]string) bool {
		if _, ok := m[key]; !ok {
			return false
		}
		delete(m, key)
		return true
	})
}

// update changes the map under the lock and writes it atomically; a file that does not
// parse is left untouched.
func (f *File) update(ctx context.Context, change func(map[string]string) bool) error {
	dir := filepath.Dir(f.path)
	if err := fsutil.EnsurePrivateDir(dir); err != nil {
		return err
	}
	unlock, err := fsutil.Lock(ctx, f.path+".lock")
	if err != nil {
		return err
	}
	defer unlock()
	m, err := f.load()
	if err != nil {
		return err
	}
	if !change(m) {
		return nil
	}
	return fsutil.WriteFileAtomic(f.path, marshalSecrets(m), 0o600)
}

func marshalSecrets(m map[string]string) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	b.WriteString("{")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n  ")
		enc.Encode(k)
		b.Truncate(b.Len() - 1)
		b.WriteString(": ")
		enc.Encode(m[k])
		b.Truncate(b.Len() - 1)
	}
	if len(keys) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("}\n")
	return b.Bytes()
}
