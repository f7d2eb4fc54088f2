// Package links checks that the runbook links of the alerting rules resolve: each distinct
// link is fetched once, a few at a time, with a short timeout, and what it answered becomes
// the runbook links part of the inventory (analyze.PartRunbookLinks). No link is ever kept,
// logged or returned with its credentials.
package links

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/internal/redact"
	"github.com/blindspot-dev/blindspot/internal/weblink"
)

// Defaults of Options.
const (
	DefaultConcurrency = 8
	DefaultTimeout     = 5 * time.Second
)

// maxRedirects bounds the redirects followed from one link.
const maxRedirects = 10

// maxBody bounds what is read of an answer's body: only the status counts, and reading a
// little lets the connection be reused.
const maxBody = 4 << 10

// Skip reasons (analyze.RunbookLink.Skipped).
const (
	SkippedRelative  = "a relative link, and generate.runbook_base_url is not set"
	SkippedTemplated = "a templated link: its address depends on the alert's labels"
)

// Options say how the links are fetched.
type Options struct {
	// Annotation is the annotation holding the runbook link (runbook_url when empty).
	Annotation string
	// BaseURL resolves relative links (generate.runbook_base_url): the base, a slash and the
	// link, as generate writes them. Without it relative links are not fetched.
	BaseURL string
	// Concurrency bounds the links fetched at once (DefaultConcurrency when 0).
	Concurrency int
	// Timeout bounds the fetching of one link, redirects included (DefaultTimeout when 0).
	Timeout time.Duration
	// Transport makes the requests; nil means a plain one, without the servers' credentials.
	Transport http.RoundTripper
}

// Annotations returns the distinct runbook links of the alerting rules of inv: the trimmed
// values of the annotation, sorted.
func Annotations(inv *analyze.Inventory, annotation string) []string {
	annotation = cmp.Or(annotation, "runbook_url")
	var out []string
	for _, r := range inv.Rules() {
		if r.Kind != analyze.RuleAlerting {
			continue
		}
		if v := strings.TrimSpace(r.Annotations[annotation]); v != "" {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Collect checks the runbook links of inv's alerting rules and records what they answered in
// inv. An inventory without rules is left alone.
func Collect(ctx context.Context, inv *analyze.Inventory, o Options) {
	if !inv.Has(analyze.PartRules) {
		return
	}
	inv.SetRunbookLinks(Check(ctx, Annotations(inv, o.Annotation), o))
}

// Check fetches each distinct link once (links with the same redacted form count as one)
// and says what it answered, sorted by Link. Values that are not web links (weblink.Safe)
// are left out; relative links without a base URL and templated links are listed as skipped.
func Check(ctx context.Context, links []string, o Options) []analyze.RunbookLink {
	o.Concurrency = cmp.Or(o.Concurrency, DefaultConcurrency)
	o.Timeout = cmp.Or(o.Timeout, DefaultTimeout)
	client := &http.Client{Transport: o.Transport, CheckRedirect: func(_ *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("more than %d redirects", maxRedirects)
		}
		return nil
	}}
	if client.Transport == nil {
		client.Transport = &http.Transport{
			DialContext:         (&net.Dialer{Timeout: o.Timeout}).DialContext,
			TLSHandshakeTimeout: o.Timeout,
			MaxIdleConnsPerHost: o.Concurrency,
			IdleConnTimeout:     30 * time.Second,
		}
	}

	seen := map[string]bool{}
	var out []analyze.RunbookLink
	var fetch []int // indexes into out of the links to fetch
	var targets []string
	for _, l := range links {
		l = strings.TrimSpace(l)
		key := analyze.RunbookLinkKey(l)
		if seen[key] {
			continue
		}
		seen[key] = true
		if _, ok := weblink.Safe(l); !ok && !templated(l) {
			continue
		}
		entry := analyze.RunbookLink{Link: key}
		target, skipped := resolve(l, o.BaseURL)
		if skipped != "" {
			entry.Skipped = skipped
			out = append(out, entry)
			continue
		}
		entry.URL = redact.URL(target)
		out = append(out, entry)
		fetch = append(fetch, len(out)-1)
		targets = append(targets, target)
	}

	sem := make(chan struct{}, o.Concurrency)
	var wg sync.WaitGroup
	for i, at := range fetch {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			out[at].Err = "not fetched: " + ctx.Err().Error()
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			out[at].Status, out[at].Err = get(ctx, client, targets[i], o.Timeout)
		})
	}
	wg.Wait()
	slices.SortFunc(out, func(a, b analyze.RunbookLink) int { return strings.Compare(a.Link, b.Link) })
	return out
}

// templated reports whether a link is a Go template, expanded with the alert's labels.
func templated(link string) bool { return strings.Contains(link, "{{") }

// resolve returns the absolute address of a link, or why it is not fetched.
func resolve(link, base string) (string, string) {
	if templated(link) {
		return "", SkippedTemplated
	}
	u, err := url.Parse(link)
	switch {
	case err != nil:
		return "", "not a URL"
	case u.Scheme != "":
		return link, ""
	case strings.HasPrefix(link, "//"):
		return "https:" + link, ""
	case base == "":
		return "", SkippedRelative
	}
	return strings.TrimSuffix(base, "/") + "/" + strings.TrimPrefix(link, "/"), ""
}

// get fetches target with HEAD, then GET when HEAD is refused (405, 501), and returns the
// last status after redirects, or why there was no answer.
func get(ctx context.Context, client *http.Client, target string, timeout time.Duration) (int, string) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	status, err := request(ctx, client, http.MethodHead, target)
	if err == nil && (status == http.StatusMethodNotAllowed || status == http.StatusNotImplemented) {
		status, err = request(ctx, client, http.MethodGet, target)
	}
	if err != nil {
		return 0, describe(err, timeout)
	}
	return status, ""
}

func request(ctx context.Context, client *http.Client, method, target string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("User-Agent", "blindspot (runbook link check)")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	return resp.StatusCode, nil
}

// describe says in a few words why a link gave no answer, never quoting its URL.
func describe(err error, timeout time.Duration) string {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return fmt.Sprintf("the host name %s does not resolve", dnsErr.Name)
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("the host name %s could not be resolved: %s", dnsErr.Name, dnsErr.Err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return fmt.Sprintf("no answer within %s", timeout)
	}
	return redact.Text(err.Error())
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
