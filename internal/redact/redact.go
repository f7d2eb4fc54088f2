// Package redact removes credentials from URLs and from text that may quote URLs, before
// they reach a report, a generated file, a snapshot or a terminal. It is the one place that
// decides what a credential in a URL looks like.
package redact

import (
	"log/slog"
	"net/url"
	"regexp"
	"strings"
)

// Mask replaces a credential that is kept in place (a query parameter's value), the same
// mask net/url uses for a password in URL.Redacted.
const Mask = "xxxxx"

// Unparseable replaces a URL that cannot be parsed: it might hold a password the parser
// could not isolate, so it is never echoed.
const Unparseable = "<unparseable url>"

// sensitiveParams are query parameters that carry a credential (compared in lower case,
// after removing "-" and "_"): OAuth access tokens, API keys, signed-URL signatures.
var sensitiveParams = []string{
	"accesstoken", "token", "apikey", "key", "password", "passwd", "pass", "pwd", "secret",
	"clientsecret", "signature", "sig", "xamzsignature", "xamzcredential", "xamzsecuritytoken",
	"auth", "authorization", "credential", "credentials", "sessiontoken", "idtoken",
	"refreshtoken", "privatetoken", "code",
}

// SensitiveParam reports whether a query parameter name usually carries a credential.
func SensitiveParam(name string) bool {
	n := strings.ToLower(strings.NewReplacer("-", "", "_", "", ".", "").Replace(name))
	for _, s := range sensitiveParams {
		if n == s {
			return true
		}
	}
	// token, secret, password, signature anywhere in the name (auth_token, db_password).
	for _, s := range []string{"token", "secret", "password", "signature", "apikey"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// URL returns u without user information and with the value of every sensitive query
// parameter replaced by xxxxx (and without a trailing "?" or "#"), for logs, reports,
// generated files and snapshots. An unparseable URL becomes "<unparseable url>".
func URL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return Unparseable
	}
	p.User = nil
	p.ForceQuery = false
	p.RawQuery = query(p.RawQuery)
	return p.String()
}

// query redacts the values of sensitive parameters of a raw query, keeping the order and
// the encoding of everything else.
func query(raw string) string {
	if raw == "" {
		return raw
	}
	parts := strings.Split(raw, "&")
	for i, part := range parts {
		name, _, hasValue := strings.Cut(part, "=")
		decoded, err := url.QueryUnescape(name)
		if err != nil {
			decoded = name
		}
		if hasValue && SensitiveParam(decoded) {
			parts[i] = name + "=" + Mask
		}
	}
	return strings.Join(parts, "&")
}

// urlInText finds URLs with a scheme in free text (an error message, a log line).
var urlInText = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>` + "`" + `]+`)

// Text returns s with every URL in it redacted as URL does (an unparseable one replaced).
func Text(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	return urlInText.ReplaceAllStringFunc(s, func(m string) string {
		// Punctuation that ends a sentence or closes a quote is not part of the URL.
		trail := ""
		for len(m) > 0 && strings.ContainsRune(".,;:)]}", rune(m[len(m)-1])) {
			trail = m[len(m)-1:] + trail
			m = m[:len(m)-1]
		}
		return URL(m) + trail
	})
}

// Attr redacts every URL in a log attribute's text (Text), for slog.HandlerOptions.ReplaceAttr:
// an error from a client quotes the URL it requested, query string included.
func Attr(_ []string, a slog.Attr) slog.Attr {
	switch v := a.Value.Any().(type) {
	case string:
		a.Value = slog.StringValue(Text(v))
	case error:
		a.Value = slog.StringValue(Text(v.Error()))
	}
	return a
}
