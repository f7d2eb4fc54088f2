package fsutil

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Size limits of the files blindspot reads. A rule file, a dashboard or a Prometheus
// configuration is at most a few megabytes even in a large estate; a snapshot answer holds
// a whole API answer (the targets of 10,000 targets, the metadata of 100,000 metric names),
// which is tens of megabytes there. The limits stop a mistaken path (a log, a disk image, a
// device) from exhausting memory, not a real file from being read.
const (
	MaxInputFile    = 64 << 20
	MaxSnapshotFile = 1 << 30
)

// ErrNotRegular is the error of a path that is not a regular file (after symbolic links are
// followed): a device, a named pipe or a socket could never end or never answer.
var ErrNotRegular = errors.New("not a regular file")

// TooLargeError is the error of a file larger than the limit it is read with.
type TooLargeError struct {
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("larger than the %s limit", Size(e.Limit))
}

// ReadFile reads the regular file at path, at most limit bytes. A symbolic link to a regular
// file is read; anything else, and a file larger than limit, is an *fs.PathError whose Err
// says why (ErrNotRegular wrapped with the kind of file, or a *TooLargeError), so that callers
// that print "path: reason" keep one line.
func ReadFile(path string, limit int64) ([]byte, error) {
	return ReadFileFS(osFS{}, path, limit)
}

// ReadFileFS is ReadFile for a file of fsys.
func ReadFileFS(fsys fs.FS, name string, limit int64) ([]byte, error) {
	fail := func(err error) ([]byte, error) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	// Stat first: opening a named pipe for reading blocks until a writer comes.
	info, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, err
	}
	if err := regular(info, limit); err != nil {
		return fail(err)
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The file may have been replaced between Stat and Open.
	if info, err = f.Stat(); err != nil {
		return nil, err
	}
	if err := regular(info, limit); err != nil {
		return fail(err)
	}
	// A file that grows while it is read stops at the limit too.
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return fail(&TooLargeError{Limit: limit})
	}
	return data, nil
}

func regular(info fs.FileInfo, limit int64) error {
	mode := info.Mode()
	if !mode.IsRegular() {
		return fmt.Errorf("%w (%s)", ErrNotRegular, kind(mode))
	}
	if info.Size() > limit {
		return &TooLargeError{Limit: limit}
	}
	return nil
}

func kind(mode fs.FileMode) string {
	switch {
	case mode.IsDir():
		return "a directory"
	case mode&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case mode&fs.ModeSocket != 0:
		return "a socket"
	case mode&fs.ModeCharDevice != 0:
		return "a character device"
	case mode&fs.ModeDevice != 0:
		return "a device"
	default:
		return "mode " + mode.Type().String()
	}
}

// Size renders a byte count the way the limits are documented: "64 MiB".
func Size(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// osFS opens paths as the os package does (relative to the working directory, absolute
// paths as they are), which os.DirFS cannot.
type osFS struct{}

func (osFS) Open(name string) (fs.File, error)     { return os.Open(name) }
func (osFS) Stat(name string) (fs.FileInfo, error) { return os.Stat(name) }
