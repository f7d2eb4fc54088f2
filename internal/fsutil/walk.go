package fsutil

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ReadFiles reads the files of paths, each a file or a directory whose files FilesUnder lists,
// a file reached twice once, up to MaxInputFile bytes each, and passes each content to use in
// that order. pathErr turns a failure on a path into the caller's error; the first error, of
// the file system or of use, stops the reading.
func ReadFiles(paths, exts []string, pathErr func(path string, err error) error, use func(path string, content []byte) error) error {
	seen := map[string]bool{}
	for _, path := range paths {
		info, err := os.Stat(path)
		if err != nil {
			return pathErr(path, err)
		}
		files := []string{path}
		if info.IsDir() {
			if files, err = FilesUnder(path, exts, pathErr); err != nil {
				return err
			}
		}
		for _, f := range files {
			if seen[filepath.Clean(f)] {
				continue
			}
			seen[filepath.Clean(f)] = true
			content, err := ReadFile(f, MaxInputFile)
			if err != nil {
				return pathErr(f, err)
			}
			if err := use(f, content); err != nil {
				return err
			}
		}
	}
	return nil
}

// FilesUnder lists, in lexical order, the regular files below dir whose extension (compared
// without case) is one of exts. Hidden directories are skipped, so that a Kubernetes ConfigMap
// mount (..data and its dated twin) is not read twice; a symlink to a file counts, a symlink
// to a directory is not followed. pathErr turns a failure on a path into the caller's error.
func FilesUnder(dir string, exts []string, pathErr func(path string, err error) error) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return pathErr(path, err)
		}
		if d.IsDir() {
			if path != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !slices.Contains(exts, strings.ToLower(filepath.Ext(d.Name()))) {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			info, err := os.Stat(path)
			if err != nil {
				return pathErr(path, err)
			}
			if info.IsDir() {
				return nil
			}
		} else if !d.Type().IsRegular() {
			return nil
		}
		files = append(files, path)
		return nil
	})
	return files, err
}
