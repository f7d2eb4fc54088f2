package fsutil

import (
	"fmt"
	"os"
)

// AppendFile appends data to path, creating it with perm when missing. It appends rather than
// replaces: a file that collects what several writers add (a CI job summary) keeps theirs.
func AppendFile(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, perm)
	if err != nil {
		return err
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
