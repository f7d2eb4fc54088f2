package collect

import (
	"slices"

	"github.com/blindspot-dev/blindspot/analyze"
)

// historyAskable reports whether the history of a Prometheus source is worth asking: not when
// reading every part of it failed (a server answering every request with an error, say), whose
// history would fail the same way and only repeat the error.
func historyAskable(src analyze.Source) bool {
	for _, p := range analyze.AllPrometheusParts {
		if !slices.ContainsFunc(src.Errors, func(e analyze.SourceError) bool { return e.Part == p }) {
			return true
		}
	}
	return false
}
