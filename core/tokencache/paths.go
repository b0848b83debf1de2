package tokencache

import (
	"encoding/binary"
	"encoding/hex"
	"math/bits"
	"path/filepath"
)

// A cache hit names four directories and two files under the cache directory. These
// build each name with one allocation, where filepath.Join would make the hex digest,
// the file name and the joined path as three strings and then pass over the whole path
// again to clean it. They give exactly what filepath.Join gives (TestJoinElemIsJoin).

// joinElem is filepath.Join(dir, elem) for elem a single path element this package
// chose (a directory or file name: no separator, not "." or ".."). When dir is already
// clean, Join would only insert the separator; any other dir (empty, a root or volume
// name, or one Clean would change — as ENTRATOOL_CACHE_DIR may be) goes through Join.
func joinElem(dir, elem string) string {
	if !plainDir(dir) {
		return filepath.Join(dir, elem)
	}
	return dir + string(filepath.Separator) + elem
}

// digestPath is joinElem(dir, hex(d)+ext), with the hex spelt on the stack.
func digestPath(dir string, d *[16]byte, ext string) string {
	var hx [32]byte
	hex.Encode(hx[:], d[:])
	if !plainDir(dir) {
		return filepath.Join(dir, string(hx[:])+ext)
	}
	return dir + string(filepath.Separator) + string(hx[:]) + ext
}

// plainDir reports whether dir+separator+elem is already what filepath.Join returns:
// dir is non-empty, not "." (which Join drops), clean (filepath.Clean returns a clean path itself, without
// allocating), and not a root or bare volume name, which Join does not give a second
// separator.
func plainDir(dir string) bool {
	return dir != "" && dir != "." && filepath.Clean(dir) == dir && dir[len(dir)-1] != filepath.Separator &&
		len(filepath.VolumeName(dir)) < len(dir)
}

// fnv128a is hash/fnv's FNV-128a as a value with a string writer: through hash.Hash
// every string written is copied to a []byte on the heap, and the hash itself escapes
// — eight allocations to name one token file (TestFNV128aIsHashFNV).
type fnv128a [2]uint64

func newFNV128a() fnv128a { return fnv128a{0x6c62272e07bb0142, 0x62b821756295c58d} }

func (s *fnv128a) writeString(data string) {
	const primeLower, primeShift = 0x13b, 24
	for i := 0; i < len(data); i++ {
		s[1] ^= uint64(data[i])
		s0, s1 := bits.Mul64(primeLower, s[1])
		s0 += s[1]<<primeShift + primeLower*s[0]
		s[0], s[1] = s0, s1
	}
}

func (s *fnv128a) sum() (d [16]byte) {
	binary.BigEndian.PutUint64(d[:8], s[0])
	binary.BigEndian.PutUint64(d[8:], s[1])
	return d
}
