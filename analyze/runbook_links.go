package analyze

import (
	"cmp"
	"slices"
	"strings"

	"github.com/blindspot-dev/blindspot/internal/redact"
)

// PartRunbookLinks is whether the runbook links of the alerting rules answer: every distinct
// link fetched once.
const PartRunbookLinks Part = "runbook_links"

// RunbookLink is what one distinct runbook link answered. It never holds a credential: Link
// and URL are redacted (redact.URL).
type RunbookLink struct {
	// Link is the annotation's value, redacted (RunbookLinkKey): the key rules look it up by.
	Link string
	// URL is the absolute address fetched, redacted: Link itself, or a relative Link
	// resolved against generate.runbook_base_url. Empty when the link was not fetched.
	URL string
	// Status is the HTTP status of the last answer, after redirects; 0 without an answer.
	Status int
	// Err is why no answer came (a name that does not resolve, a refused connection, a
	// timeout, too many redirects); empty with an answer.
	Err string
	// Skipped says why the link was not fetched (a relative link without a base URL, a
	// templated one); empty when it was.
	Skipped string
}

// Broken reports whether the link was fetched and did not resolve: no answer, or a 4xx or
// 5xx after redirects.
func (l RunbookLink) Broken() bool {
	return l.Skipped == "" && (l.Err != "" || l.Status >= 400)
}

// RunbookLinkKey is how an annotation's value is keyed among the runbook links: trimmed and
// redacted, so that no credential is ever kept or compared in clear.
func RunbookLinkKey(annotation string) string {
	return redact.URL(strings.TrimSpace(annotation))
}

// RunbookLink returns what the runbook link annotation answered; false when it was not
// checked.
func (inv *Inventory) RunbookLink(annotation string) (RunbookLink, bool) {
	key := RunbookLinkKey(annotation)
	i, ok := slices.BinarySearchFunc(inv.RunbookLinks, key, func(l RunbookLink, k string) int { return strings.Compare(l.Link, k) })
	if !ok {
		return RunbookLink{}, false
	}
	return inv.RunbookLinks[i], true
}

// SetRunbookLinks records what the runbook links of an inventory already built answered.
func (inv *Inventory) SetRunbookLinks(links []RunbookLink) {
	inv.RunbookLinks = sortedRunbookLinks(links)
	if !inv.Has(PartRunbookLinks) {
		inv.Parts = append(inv.Parts, PartRunbookLinks)
	}
}

func sortedRunbookLinks(links []RunbookLink) []RunbookLink {
	out := slices.Clone(links)
	slices.SortFunc(out, func(a, c RunbookLink) int { return cmp.Compare(a.Link, c.Link) })
	return slices.CompactFunc(out, func(a, c RunbookLink) bool { return a.Link == c.Link })
}
