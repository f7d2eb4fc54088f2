package fsutil

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

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
