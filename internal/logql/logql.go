// Package logql writes the parts of LogQL that both the Loki collector and the generators
// need: valid label names and exact stream selectors. Values are quoted, never pasted, so no
// label value can change a selector's meaning.
package logql

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ValidLabelName checks a label name against Loki's rule (Prometheus' legacy names):
// [a-zA-Z_][a-zA-Z0-9_]*. Only valid names are written into LogQL.
func ValidLabelName(name string) error {
	if name == "" {
		return fmt.Errorf("invalid label name %q: empty", name)
	}
	for i, r := range name {
		ok := r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || i > 0 && '0' <= r && r <= '9'
		if !ok {
			return fmt.Errorf("invalid label name %q", name)
		}
	}
	return nil
}

// matcher is one label matcher of a stream selector.
type matcher struct {
	name, op, value string
}

func (m matcher) String() string {
	// LogQL string literals are Go string literals, so strconv.Quote escapes any value.
	return m.name + m.op + strconv.Quote(m.value)
}

// selectorOf builds a stream selector. Names must have been validated.
func selectorOf(ms ...matcher) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.String()
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// StreamSelector is the exact selector of a stream, labels sorted by name:
// {env="prod", job="api"}. It fails on a label name that is not valid.
func StreamSelector(labels map[string]string) (string, error) {
	names := make([]string, 0, len(labels))
	for n := range labels {
		if err := ValidLabelName(n); err != nil {
			return "", err
		}
		names = append(names, n)
	}
	slices.Sort(names)
	ms := make([]matcher, len(names))
	for i, n := range names {
		ms[i] = matcher{n, "=", labels[n]}
	}
	return selectorOf(ms...), nil
}

// HasLabel selects every stream that carries the label: {name=~".+"}. Loki refuses selectors
// that match the empty string only, which this one does not. The name must be valid.
func HasLabel(name string) string {
	return selectorOf(matcher{name, "=~", ".+"})
}
