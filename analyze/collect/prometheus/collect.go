// Package prometheus reads a Prometheus-compatible server (or a snapshot of one) through
// client_golang's api/prometheus/v1 and feeds what it finds into an analyze.Builder.
package prometheus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/analyze/collect/promconfig"
)

// NewClient returns an api.Client for a live server with blindspot's transport: auth, TLS,
// headers, per-request timeouts, at most MaxInFlight requests and bounded retries.
func NewClient(o httpconfig.Options) (api.Client, error) {
	rt, err := o.RoundTripper()
	if err != nil {
		return nil, err
	}
	c, err := api.NewClient(api.Config{Address: o.BaseURL(), RoundTripper: rt})
	if err != nil {
		return nil, err
	}
	return &client{Client: c, http: &http.Client{Transport: rt}}, nil
}

// Collect reads every endpoint through rec, adds what it could read to b and returns src with
// the errors and missing parts filled in. It never fails as a whole: a part that could not be
// read is recorded on the source and the rest of the audit goes on.
func Collect(ctx context.Context, rec *Recorder, src analyze.Source, b *analyze.Builder, logger *slog.Logger) analyze.Source {
	api := promv1.NewAPI(rec)
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		results = map[analyze.Part]func(){}
		errs    = map[analyze.Part]error{}
	)
	// Each fetch returns a function that applies its result to the builder, so that the
	// builder is only touched from this goroutine.
	fetch := func(p analyze.Part, f func() (func(), error)) {
		wg.Go(func() {
			start := time.Now()
			apply, err := f()
			logger.Debug("fetched", "source", src.Name, "part", p, "duration", time.Since(start).Round(time.Millisecond), "err", err)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs[p] = err
				return
			}
			results[p] = apply
		})
	}

	fetch(analyze.PartTargets, func() (func(), error) {
		targets, dropped, err := readTargets(ctx, rec)
		if err != nil {
			return nil, err
		}
		return func() { addTargets(b, targets, dropped) }, nil
	})
	// job_metrics also asks about the metrics the rules join with, so it waits for the rules
	// (and goes on without those names when the rules cannot be read).
	var (
		ruleExprs []string
		rulesDone = make(chan struct{})
	)
	fetch(analyze.PartRules, func() (func(), error) {
		defer close(rulesDone)
		groups, exprs, err := readRules(ctx, rec)
		if err != nil {
			return nil, err
		}
		ruleExprs = exprs
		return func() {
			for _, g := range groups {
				b.AddRuleGroup(g)
			}
		}, nil
	})
	fetch(analyze.PartConfig, func() (func(), error) {
		res, err := api.Config(ctx)
		if err != nil {
			return nil, err
		}
		cfg, err := promconfig.Parse([]byte(res.YAML))
		if err != nil {
			return nil, fmt.Errorf("parsing the loaded configuration: %w", err)
		}
		return func() {
			for _, j := range cfg.Jobs {
				b.AddScrapeConfig(j.Name, j.JobLabel, j.SDKinds, j.RelabelRules)
			}
			if cfg.OutOfOrderTimeWindowValid {
				b.SetStorage(src.Name, analyze.Storage{RemoteRead: cfg.RemoteRead, OutOfOrderWindow: cfg.OutOfOrderTimeWindow})
			}
		}, nil
	})
	// job_metrics chooses what to query from the metric names and their metadata, so it
	// starts once both have arrived, while slower endpoints may still be downloading.
	var (
		names             []string
		namesErr          error
		metadata          map[string][]promv1.Metadata
		namesDone, mdDone = make(chan struct{}), make(chan struct{})
	)
	fetch(analyze.PartMetricNames, func() (func(), error) {
		defer close(namesDone)
		res, err := readMetricNames(ctx, rec)
		if err != nil {
			namesErr = err
			return nil, err
		}
		names = res
		return func() { b.AddMetricNames(names) }, nil
	})
	fetch(analyze.PartMetadata, func() (func(), error) {
		defer close(mdDone)
		res, err := readMetadata(ctx, rec)
		if err != nil {
			return nil, err
		}
		metadata = res
		return func() {
			for metric, ms := range res {
				for _, m := range ms {
					b.AddMetadata(metric, []analyze.Metadata{{Type: string(m.Type), Help: m.Help, Unit: m.Unit}})
				}
			}
		}, nil
	})
	fetch(analyze.PartBuildInfo, func() (func(), error) {
		res, err := api.Buildinfo(ctx)
		if err != nil {
			return nil, err
		}
		return func() {
			b.SetBuildInfo(analyze.BuildInfo{Version: res.Version, Revision: res.Revision, GoVersion: res.GoVersion})
			src.Version = res.Version
		}, nil
	})
	fetch(analyze.PartJobMetrics, func() (func(), error) {
		<-namesDone
		<-mdDone
		<-rulesDone
		if namesErr != nil {
			return nil, fmt.Errorf("reading the metric names to query: %w", namesErr)
		}
		// Without metadata (nil), _total names are taken for counters.
		found, err := collectJobMetrics(ctx, rec, names, metadata, ruleExprs)
		if err != nil {
			return nil, err
		}
		return func() {
			for _, jm := range found {
				b.AddJobMetric(jm.job, jm.metric)
			}
		}, nil
	})
	fetch(analyze.PartAlertmanagers, func() (func(), error) {
		res, err := api.AlertManagers(ctx)
		if err != nil {
			return nil, err
		}
		return func() {
			for _, am := range res.Active {
				b.AddAlertmanager(analyze.AlertmanagerTarget{URL: am.URL, Active: true})
			}
			for _, am := range res.Dropped {
				b.AddAlertmanager(analyze.AlertmanagerTarget{URL: am.URL})
			}
		}, nil
	})
	wg.Wait()

	for _, e := range endpoints {
		if apply, ok := results[e.Part]; ok {
			apply()
			b.AddPart(e.Part)
			continue
		}
		err := errs[e.Part]
		if e.Optional && errors.Is(err, errNotRecorded) {
			// A snapshot taken before blindspot read this endpoint.
			src.Missing = append(src.Missing, analyze.MissingPart{Part: e.Part, Reason: fmt.Sprintf("%s is not in the snapshot", e.Path)})
			continue
		}
		if resp, ok := rec.response(e.Part); ok && isMissing(resp.Status) {
			src.Missing = append(src.Missing, analyze.MissingPart{
				Part:   e.Part,
				Reason: fmt.Sprintf("%s is not served (HTTP %d)", e.Path, resp.Status),
			})
			continue
		}
		if e.Part == analyze.PartJobMetrics && slices.ContainsFunc(src.Missing, func(m analyze.MissingPart) bool { return m.Part == analyze.PartMetricNames }) {
			// The queries are built from the metric names (a Thanos Ruler serves neither).
			src.Missing = append(src.Missing, analyze.MissingPart{Part: e.Part, Reason: "needs the metric names, which are not served"})
			continue
		}
		src.Errors = append(src.Errors, analyze.SourceError{Part: e.Part, Err: describe(err)})
	}
	b.AddSource(src)
	return src
}

// isMissing tells an endpoint the server does not have (Thanos and Mimir lack targets and
// config) from a failure to read it.
func isMissing(status int) bool {
	return status == http.StatusNotFound || status == http.StatusMethodNotAllowed || status == http.StatusNotImplemented
}

// describe flattens an error to one line, adding the detail client_golang keeps apart.
func describe(err error) string {
	if err == nil {
		return "unknown error"
	}
	var apiErr *promv1.Error
	if errors.As(err, &apiErr) {
		msg := apiErr.Msg
		if d := detail(apiErr.Detail); d != "" {
			msg += ": " + d
		}
		return oneLine(msg)
	}
	// The request URL differs per endpoint; without it the same failure reads the same for
	// every part, and the report can say it once.
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return oneLine(urlErr.Err.Error())
	}
	return oneLine(err.Error())
}

// detail extracts the server's message from an error body: the "error" field of a Prometheus
// API error, or the body itself when it is short text.
func detail(body string) string {
	var apiBody struct {
		Error string `json:"error"`
	}
	if json.Unmarshal([]byte(body), &apiBody) == nil && apiBody.Error != "" {
		return apiBody.Error
	}
	body = strings.TrimSpace(body)
	if len(body) > 200 || strings.ContainsAny(body, "<{") {
		return "" // HTML error pages and truncated JSON say nothing one line can hold
	}
	return body
}

func oneLine(s string) string {
	const maxLen = 300
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '\n' || r == '\r' || r == '\t' {
			r = ' '
		}
		out = append(out, r)
	}
	if len(out) > maxLen {
		out = append(out[:maxLen], '…')
	}
	return string(out)
}

func addTargets(b *analyze.Builder, targets []analyze.Target, dropped map[string]int) {
	for _, t := range targets {
		b.AddTarget(t)
	}
	for pool, n := range dropped {
		b.SetDropped(pool, n)
	}
}

func labelMap[M ~map[K]V, K, V ~string](m M) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[string(k)] = string(v)
	}
	return out
}
