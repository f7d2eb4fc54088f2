// Package weblink decides which values read from a monitored system may become links in what
// blindspot writes (reports, dashboards, runbooks). A rule's runbook_url or a dashboard link is
// written by whoever can change the rules; copied as a link into an HTML report or a Grafana
// dashboard, a javascript: or data: URL would run in the reader's browser.
package weblink

import (
	"html"
	"net/url"
	"strings"
)

// Safe returns s without surrounding whitespace and true when it may be a link: an absolute
// http or https URL with a host, or a relative reference (a path such as runbooks/X.md or
// /d/uid, with no scheme). Anything else is refused: other schemes whatever their case
// (javascript:, data:, vbscript:, file:), and values a browser would read differently from
// net/url (control characters, inner whitespace, backslashes), which is how a scheme is
// disguised.
func Safe(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsFunc(s, unsafeRune) {
		return "", false
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return "", false
	case u.Scheme == "":
		// A relative reference; "//host/p" keeps the page's scheme, http or https. Markdown
		// and HTML decode character references in a link ("&#106;avascript:",
		// "javascript&colon;"), so a relative link must hold none.
		if html.UnescapeString(s) == s {
			return s, true
		}
	case u.Scheme == "http" || u.Scheme == "https":
		if u.Host != "" {
			return s, true
		}
	}
	return "", false
}

// Absolute returns s when it is a safe absolute http or https URL, else "": where a value is
// not meant as a link (a detail of a finding), only a full web address becomes one.
func Absolute(s string) string {
	v, ok := Safe(s)
	if !ok {
		return ""
	}
	if u, err := url.Parse(v); err != nil || u.Scheme == "" {
		return ""
	}
	return v
}

// unsafeRune tells the characters a link may not hold: browsers drop tabs and newlines inside a
// URL ("java\tscript:") and read a backslash as a slash ("/\evil.example").
func unsafeRune(r rune) bool {
	return r < 0x20 || r == 0x7f || r == ' ' || r == '\\' || r == '\u00a0' || r == '\u2028' || r == '\u2029'
}
