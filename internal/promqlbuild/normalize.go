package promqlbuild

import (
	"cmp"
	"slices"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// Normalize prints e in a normal form, so that two expressions that differ only in how they
// were written compare equal as strings: the library's spacing, number and duration notation,
// label matchers sorted, and the labels of by/without and of on/ignoring/group_x sorted.
// Parentheses are kept: they can change what an expression means. e is not changed: the form
// is built on a copy parsed from e's printed text. It returns "" when that text does not parse
// again, which the library never prints.
func Normalize(e parser.Expr) string {
	copied, err := normalParser.ParseExpr(e.String())
	if err != nil {
		return ""
	}
	parser.Inspect(copied, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.VectorSelector:
			slices.SortFunc(n.LabelMatchers, compareMatchers)
		case *parser.AggregateExpr:
			slices.Sort(n.Grouping)
		case *parser.BinaryExpr:
			if n.VectorMatching != nil {
				slices.Sort(n.VectorMatching.MatchingLabels)
				slices.Sort(n.VectorMatching.Include)
			}
		}
		return nil
	})
	return copied.String()
}

// normalParser reads back what the library printed; experimental functions are accepted, as
// blindspot's expression parser accepts them in the rules it reads.
var normalParser = parser.NewParser(parser.Options{EnableExperimentalFunctions: true})

func compareMatchers(a, b *labels.Matcher) int {
	return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Type, b.Type), cmp.Compare(a.Value, b.Value))
}
