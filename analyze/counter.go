package analyze

import "strings"

// IsCounter reports whether a series name is a counter, given the types the metadata API
// reports for a metric name (nil when it has none). Metadata decides when it knows the
// metric, under the series name (text format) or, for name_total, under the family name the
// OpenMetrics format uses. Without metadata (pushed without # TYPE, federated,
// remote-written, or a server whose metadata could not be read) the _total suffix decides, by
// convention. The collector chooses the candidate business metrics with it, and the coverage
// analysis tells them from the other names it asked about.
func IsCounter(name string, typesOf func(metric string) []string) bool {
	family, total := strings.CutSuffix(name, "_total")
	known := false
	check := func(types []string) bool {
		for _, t := range types {
			switch t {
			case "counter":
				return true
			case "unknown", "":
			default:
				known = true
			}
		}
		return false
	}
	if check(typesOf(name)) || (total && check(typesOf(family))) {
		return true
	}
	return total && !known
}

// MetadataTypes returns the types the inventory's metadata reports for a metric name.
func (inv *Inventory) MetadataTypes(metric string) []string {
	var out []string
	for _, m := range inv.Metadata[metric] {
		out = append(out, m.Type)
	}
	return out
}
