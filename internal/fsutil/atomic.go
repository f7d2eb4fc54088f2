// Package fsutil writes files so that a reader never sees a half-written one.
package fsutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteFileAtomic writes data to path so that path holds either the old or the new content,
// never a mix, and never replaces what path is with something else:
//
//   - a new path or a regular file is replaced atomically: the data goes to a temporary file in
//     the same directory, which is then renamed over path;
//   - a symlink to a regular file keeps the link: its target is replaced atomically (in the
//     target's directory);
//   - a device, a FIFO, or a symlink to one (-o /dev/stdout, -o /dev/null) is written
//     through, as a shell redirection would; a FIFO blocks until a reader opens it;
//   - a directory, or a symlink whose target does not exist, is refused.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	linfo, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return replace(path, path, data, perm)
	case err != nil:
		return fmt.Errorf("writing %s: %w", path, err)
	case linfo.Mode().IsRegular():
		return replace(path, path, data, perm)
	case linfo.IsDir():
		return fmt.Errorf("writing %s: it is a directory", path)
	case linfo.Mode()&fs.ModeSymlink == 0:
		return writeThrough(path, data, 0)
	}

	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("writing %s: it is a symlink whose target does not exist", path)
	case err != nil:
		return fmt.Errorf("writing %s: %w", path, err)
	case info.IsDir():
		return fmt.Errorf("writing %s: it is a symlink to a directory", path)
	case !info.Mode().IsRegular():
		return writeThrough(path, data, 0)
	}
	target, err := filepath.EvalSymlinks(path)
	if err == nil {
		if tinfo, terr := os.Stat(target); terr == nil && os.SameFile(info, tinfo) {
			return replace(path, target, data, perm)
		}
	}
	// A link the kernel follows but whose text names no path leading to the same file (a
	// /proc/self/fd entry of a deleted file): write through it rather than guess.
	return writeThrough(path, data, os.O_TRUNC)
}

// replace writes data to a temporary file next to target and renames it over target. path is
// what the user named, for messages.
func replace(path, target string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(target)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(target)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), perm); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// writeThrough opens what path is and writes data into it, without creating or replacing it.
func writeThrough(path string, data []byte, flag int) error {
	f, err := os.OpenFile(path, os.O_WRONLY|flag, 0)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
