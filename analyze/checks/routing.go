package checks

import (
	"slices"
	"strings"

	"github.com/blindspot-dev/blindspot/analyze/routing"
)

// receiverList names receivers for a message, with their integration kinds.
func receiverList(t *routing.Tree, names []string) string {
	parts := make([]string, 0, len(names))
	for _, n := range names {
		kinds := t.Kinds(n)
		if len(kinds) == 0 {
			parts = append(parts, n+" (no integration)")
			continue
		}
		parts = append(parts, n+" ("+strings.Join(kinds, ", ")+")")
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
