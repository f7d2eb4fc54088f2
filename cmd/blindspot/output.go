package main

import (
	"bufio"
	"fmt"
	"io"

	"github.com/blindspot-dev/blindspot/internal/fsutil"
)

// writeOutput renders to path (atomically, see fsutil.WriteAtomic) or, when path is empty, to
// stdout, as the renderer produces it: a large report is never held in memory whole. A
// rendering error leaves path as it was.
func (a *app) writeOutput(path, what string, render func(io.Writer) error) error {
	var renderErr error
	write := func(w io.Writer) error {
		renderErr = render(w)
		return renderErr
	}
	if path == "" {
		bw := bufio.NewWriterSize(a.stdout, 64<<10)
		if err := write(bw); err != nil {
			return fmt.Errorf("rendering %s: %w", what, err)
		}
		return bw.Flush()
	}
	err := fsutil.WriteAtomic(path, 0o644, write)
	switch {
	case renderErr != nil:
		return fmt.Errorf("rendering %s: %w", what, renderErr)
	case err != nil:
		return usageError(err)
	}
	return nil
}
