// Command relpack writes `make dist`'s archives and packaging manifests so that the
// same inputs give the same bytes (scripts/dist.sh):
//
//	relpack tar -mtime EPOCH -o OUT.tar.gz DIR   DIR (its name the top directory) as a tar.gz
//	relpack zip -mtime EPOCH -o OUT.zip DIR      the same as a zip
//	relpack gzip -d DIR FILE...                  each FILE gzipped, with no name and no time, into DIR
//	relpack spdx LICENSE                         the license's SPDX identifier
//	relpack manifests -version V -tag T -dist DIST -out DIR [-repo OWNER/NAME] [-license FILE]
//	                                              Homebrew formula, Scoop manifest and winget
//	                                              manifests for the archives in DIST
//
// Archives hold their entries in byte order of their names, with one fixed time, owner
// and group 0 and no user or group names, directories 0755, and files 0755 when their
// owner may execute them, else 0644: nothing of the machine or the checkout leaks in.
package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: relpack tar|zip|gzip|spdx|manifests …")
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "tar", "zip":
		err = archiveCmd(cmd, args)
	case "gzip":
		err = gzipCmd(args)
	case "manifests":
		err = manifestsCmd(args)
	case "spdx":
		err = spdxCmd(args)
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "relpack %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// entry is one file or directory of an archive.
type entry struct {
	name string // slash-separated, relative to the archive's root
	src  string // on disk
	dir  bool
	mode int64
}

// collect lists dir and everything below it, named with dir's base name first, sorted
// by name. Anything but a regular file or a directory is refused.
func collect(dir string) ([]entry, error) {
	dir = filepath.Clean(dir)
	top := filepath.Base(dir)
	var es []entry
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		name := path.Join(top, filepath.ToSlash(rel))
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case info.IsDir():
			es = append(es, entry{name: name + "/", src: p, dir: true, mode: 0o755})
		case info.Mode().IsRegular():
			mode := int64(0o644)
			if info.Mode()&0o100 != 0 {
				mode = 0o755
			}
			es = append(es, entry{name: name, src: p, mode: mode})
		default:
			return fmt.Errorf("%s: not a regular file or directory", p)
		}
		return nil
	})
	slices.SortFunc(es, func(a, b entry) int {
		switch {
		case a.name < b.name:
			return -1
		case a.name > b.name:
			return 1
		}
		return 0
	})
	return es, err
}

func archiveCmd(kind string, args []string) error {
	fs := flag.NewFlagSet(kind, flag.ContinueOnError)
	out := fs.String("o", "", "output file")
	mtime := fs.Int64("mtime", -1, "every entry's time, in seconds since 1970 (SOURCE_DATE_EPOCH)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || *mtime < 0 || fs.NArg() != 1 {
		return fmt.Errorf("usage: relpack %s -mtime EPOCH -o OUT DIR", kind)
	}
	es, err := collect(fs.Arg(0))
	if err != nil {
		return err
	}
	t := time.Unix(*mtime, 0).UTC()
	var buf bytes.Buffer
	if kind == "tar" {
		err = writeTarGz(&buf, es, t)
	} else {
		err = writeZip(&buf, es, t)
	}
	if err != nil {
		return err
	}
	return os.WriteFile(*out, buf.Bytes(), 0o644)
}

func writeTarGz(w io.Writer, es []entry, t time.Time) error {
	// No name, no time, no OS byte from the machine: the zero Header writes OS 255
	// ("unknown") and MTIME 0.
	zw, err := gzip.NewWriterLevel(w, gzip.DefaultCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	for _, e := range es {
		h := &tar.Header{Name: e.name, Mode: e.mode, ModTime: t, Format: tar.FormatUSTAR}
		var data []byte
		if e.dir {
			h.Typeflag = tar.TypeDir
		} else {
			if data, err = os.ReadFile(e.src); err != nil {
				return err
			}
			h.Typeflag, h.Size = tar.TypeReg, int64(len(data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("%s: %w", e.name, err)
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

func writeZip(w io.Writer, es []entry, t time.Time) error {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.DefaultCompression)
	})
	for _, e := range es {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: t}
		mode := fs.FileMode(e.mode)
		if e.dir {
			mode |= fs.ModeDir
			h.Method = zip.Store
		}
		h.SetMode(mode) // unix permissions, so that unzip restores the executable bit
		f, err := zw.CreateHeader(h)
		if err != nil {
			return fmt.Errorf("%s: %w", e.name, err)
		}
		if e.dir {
			continue
		}
		data, err := os.ReadFile(e.src)
		if err != nil {
			return err
		}
		if _, err := f.Write(data); err != nil {
			return err
		}
	}
	return zw.Close()
}

func gzipCmd(args []string) error {
	fs := flag.NewFlagSet("gzip", flag.ContinueOnError)
	out := fs.String("d", "", "output directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() == 0 {
		return errors.New("usage: relpack gzip -d DIR FILE...")
	}
	for _, f := range fs.Args() {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if err != nil {
			return err
		}
		if _, err := zw.Write(data); err != nil {
			return err
		}
		if err := zw.Close(); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(*out, filepath.Base(f)+".gz"), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// parseEpoch reads SOURCE_DATE_EPOCH-style seconds.
func parseEpoch(s string) (time.Time, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not seconds since 1970", s)
	}
	return time.Unix(n, 0).UTC(), nil
}

func spdxCmd(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: relpack spdx LICENSE")
	}
	text, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	fmt.Println(spdx(string(text)))
	return nil
}
