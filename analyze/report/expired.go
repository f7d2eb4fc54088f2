package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/blindspot-dev/blindspot/analyze/checks"
)

// ExpiredException is an ignore entry whose expiry date has passed. It no longer suppresses
// anything: the findings it matches are reported again, and the entry itself is listed so that
// someone renews it (with a new date and reason) or removes it.
type ExpiredException struct {
	Check   string            `json:"check"`
	Subject map[string]string `json:"subject"`
	Reason  string            `json:"reason"`
	// Expires is the last day the entry held, as configured (YYYY-MM-DD).
	Expires string `json:"expires"`
	// Findings are the IDs of the reported findings the entry matches.
	Findings []string `json:"findings"`
}

func expiredExceptions(in []checks.Expired) []ExpiredException {
	var out []ExpiredException
	for _, e := range in {
		subject := e.Ignore.Subject
		if subject == nil {
			subject = map[string]string{}
		}
		out = append(out, ExpiredException{
			Check:   e.Ignore.Check,
			Subject: subject,
			Reason:  e.Ignore.Reason,
			// checks.Ignore.Expires is the first day the entry no longer holds.
			Expires:  e.Ignore.Expires.AddDate(0, 0, -1).Format(time.DateOnly),
			Findings: e.Findings,
		})
	}
	return out
}

// expired writes the text section of expired exceptions, nothing when there are none.
func (p *printer) expired(es []ExpiredException) {
	if len(es) == 0 {
		return
	}
	p.line("")
	p.line("Expired exceptions (renew or remove them):")
	for _, e := range es {
		p.line("  %s %s expired after %s (%s); matches %d findings", e.Check, clean(subjectString(e.Subject)), e.Expires, clean(e.Reason), len(e.Findings))
	}
}

// expiredTable writes the Markdown section of expired exceptions, nothing when there are none.
func (p *printer) expiredTable(es []ExpiredException) {
	if len(es) == 0 {
		return
	}
	p.line("### Expired exceptions")
	p.line("")
	p.table("check", "subject", "reason", "expired after", "findings it matches")
	for _, e := range es {
		p.row("`"+strings.ReplaceAll(e.Check, "`", "")+"`", mdEscape(subjectString(e.Subject)), mdEscape(e.Reason), e.Expires, fmt.Sprint(len(e.Findings)))
	}
	p.line("")
}
