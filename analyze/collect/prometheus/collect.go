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
	return api.NewClient(api.Config{Address: o.BaseURL(), RoundTripper: rt})
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
		res, err := api.Targets(ctx)
		if err != nil {
			return nil, err
		}
		dropped, err := droppedCounts(rec)
		if err != nil {
			return nil, err
		}
		return func() { addTargets(b, res, dropped) }, nil
	})
	// job_metrics also asks about the metrics the rules join with, so it waits for the rules
	// (and goes on without those names when the rules cannot be read).
	var (
		ruleExprs []string
		rulesDone = make(chan struct{})
	)
	fetch(analyze.PartRules, func() (func(), error) {
		defer close(rulesDone)
		res, err := api.Rules(ctx, nil)
		if err != nil {
			return nil, err
		}
		ruleExprs = ruleQueries(res)
		return func() { addRules(b, res) }, nil
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
		res, _, _, err := api.LabelValues(ctx, "__name__", nil, time.Time{}, time.Time{})
		if err != nil {
			namesErr = err
			return nil, err
		}
		names = make([]string, len(res))
		for i, v := range res {
			names[i] = string(v)
		}
		return func() { b.AddMetricNames(names) }, nil
	})
	fetch(analyze.PartMetadata, func() (func(), error) {
		defer close(mdDone)
		res, err := api.Metadata(ctx, "", "")
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
		found, err := collectJobMetrics(ctx, api, names, metadata, ruleExprs)
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

// droppedCounts reads droppedTargetCounts, which client_golang's TargetsResult does not
// decode, from the recorded body. Servers that predate the field list every dropped target
// instead; those are counted by their scrapePool, or, where that is missing too (2.x), by
// the job label of their discovered labels. A dropped target with neither names no pool and
// is not counted.
func droppedCounts(rec *Recorder) (map[string]int, error) {
	resp, ok := rec.response(analyze.PartTargets)
	if !ok {
		return nil, nil
	}
	var body struct {
		Data struct {
			DroppedTargetCounts map[string]int `json:"droppedTargetCounts"`
			DroppedTargets      []struct {
				DiscoveredLabels map[string]string `json:"discoveredLabels"`
				ScrapePool       string            `json:"scrapePool"`
			} `json:"droppedTargets"`
		} `json:"data"`
	}
	if err := json.Unmarshal(resp.Body, &body); err != nil {
		return nil, fmt.Errorf("decoding droppedTargetCounts: %w", err)
	}
	if len(body.Data.DroppedTargetCounts) > 0 {
		return body.Data.DroppedTargetCounts, nil
	}
	counts := map[string]int{}
	for _, d := range body.Data.DroppedTargets {
		pool := d.ScrapePool
		if pool == "" {
			pool = d.DiscoveredLabels["job"]
		}
		if pool != "" {
			counts[pool]++
		}
	}
	return counts, nil
}

func addTargets(b *analyze.Builder, res promv1.TargetsResult, dropped map[string]int) {
	for _, t := range res.Active {
		labels := make(map[string]string, len(t.Labels))
		for k, v := range t.Labels {
			labels[string(k)] = string(v)
		}
		b.AddTarget(analyze.Target{
			Job:                labels["job"],
			ScrapePool:         t.ScrapePool,
			Instance:           labels["instance"],
			ScrapeURL:          t.ScrapeURL,
			Labels:             labels,
			Health:             analyze.Health(t.Health),
			LastError:          t.LastError,
			LastScrape:         t.LastScrape,
			LastScrapeDuration: time.Duration(t.LastScrapeDuration * float64(time.Second)),
		})
	}
	for pool, n := range dropped {
		b.SetDropped(pool, n)
	}
}

func addRules(b *analyze.Builder, res promv1.RulesResult) {
	for _, g := range res.Groups {
		group := analyze.RuleGroup{
			Name:     g.Name,
			File:     g.File,
			Interval: time.Duration(g.Interval * float64(time.Second)),
			Language: "promql",
		}
		for _, r := range g.Rules {
			switch r := r.(type) {
			case promv1.AlertingRule:
				group.Rules = append(group.Rules, analyze.NewRule(analyze.Rule{
					Kind:        analyze.RuleAlerting,
					Name:        r.Name,
					Expr:        r.Query,
					For:         time.Duration(r.Duration * float64(time.Second)),
					Labels:      labelMap(r.Labels),
					Annotations: labelMap(r.Annotations),
					Health:      string(r.Health),
					LastError:   r.LastError,
					Group:       g.Name,
					File:        g.File,
				}))
			case promv1.RecordingRule:
				group.Rules = append(group.Rules, analyze.NewRule(analyze.Rule{
					Kind:      analyze.RuleRecording,
					Name:      r.Name,
					Expr:      r.Query,
					Labels:    labelMap(r.Labels),
					Health:    string(r.Health),
					LastError: r.LastError,
					Group:     g.Name,
					File:      g.File,
				}))
			}
		}
		b.AddRuleGroup(group)
	}
}

// ruleQueries are the expressions of every rule, alerting and recording.
func ruleQueries(res promv1.RulesResult) []string {
	var out []string
	for _, g := range res.Groups {
		for _, r := range g.Rules {
			switch r := r.(type) {
			case promv1.AlertingRule:
				out = append(out, r.Query)
			case promv1.RecordingRule:
				out = append(out, r.Query)
			}
		}
	}
	return out
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
