package prometheus

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/blindspot-dev/blindspot/analyze"
)

// The readers of the large answers: each decodes its endpoint's data as it arrives (see
// decodeAnswer), keeping only what the inventory uses.

// activeTarget is what blindspot uses of an active target (not its discovered labels, which
// are most of the answer with Kubernetes discovery).
type activeTarget struct {
	Labels             map[string]string `json:"labels"`
	ScrapePool         string            `json:"scrapePool"`
	ScrapeURL          string            `json:"scrapeUrl"`
	LastError          string            `json:"lastError"`
	LastScrape         time.Time         `json:"lastScrape"`
	LastScrapeDuration float64           `json:"lastScrapeDuration"`
	Health             string            `json:"health"`
}

// droppedTarget is what counts a dropped target: its pool, or on servers that predate the
// pool (2.x), the job label of its discovered labels.
type droppedTarget struct {
	DiscoveredLabels struct {
		Job string `json:"job"`
	} `json:"discoveredLabels"`
	ScrapePool string `json:"scrapePool"`
}

// readTargets reads the active targets and how many targets each pool dropped: the
// droppedTargetCounts of the answer, or for servers that predate that field, the dropped
// targets counted by their pool (a dropped target that names neither pool nor job is not
// counted).
func readTargets(ctx context.Context, rec *Recorder) ([]analyze.Target, map[string]int, error) {
	var (
		targets []analyze.Target
		counts  map[string]int
		dropped = map[string]int{}
	)
	err := rec.get(ctx, "/api/v1/targets", nil, func(dec *json.Decoder, t json.Token) error {
		return eachField(dec, t, "the targets", func(key string) error {
			switch key {
			case "activeTargets":
				return decodeElements(dec, "the active targets", func(t activeTarget) {
					if t.Labels == nil {
						t.Labels = map[string]string{}
					}
					targets = append(targets, analyze.Target{
						Job:                t.Labels["job"],
						ScrapePool:         t.ScrapePool,
						Instance:           t.Labels["instance"],
						ScrapeURL:          t.ScrapeURL,
						Labels:             t.Labels,
						Health:             analyze.Health(t.Health),
						LastError:          t.LastError,
						LastScrape:         t.LastScrape,
						LastScrapeDuration: time.Duration(t.LastScrapeDuration * float64(time.Second)),
					})
				})
			case "droppedTargets":
				return decodeElements(dec, "the dropped targets", func(t droppedTarget) {
					pool := t.ScrapePool
					if pool == "" {
						pool = t.DiscoveredLabels.Job
					}
					if pool != "" {
						dropped[pool]++
					}
				})
			case "droppedTargetCounts":
				return dec.Decode(&counts)
			}
			return skip(dec)
		})
	})
	if err != nil {
		return nil, nil, err
	}
	if len(counts) > 0 {
		return targets, counts, nil
	}
	return targets, dropped, nil
}

// readRules reads the rule groups and the expressions of their rules.
func readRules(ctx context.Context, rec *Recorder) ([]analyze.RuleGroup, []string, error) {
	var (
		groups []analyze.RuleGroup
		exprs  []string
	)
	err := rec.get(ctx, "/api/v1/rules", nil, func(dec *json.Decoder, t json.Token) error {
		return eachField(dec, t, "the rules", func(key string) error {
			if key != "groups" {
				return skip(dec)
			}
			return decodeElements(dec, "the rule groups", func(g promv1.RuleGroup) {
				group, queries := ruleGroup(g)
				groups = append(groups, group)
				exprs = append(exprs, queries...)
			})
		})
	})
	return groups, exprs, err
}

// readMetricNames reads the values of __name__.
func readMetricNames(ctx context.Context, rec *Recorder) ([]string, error) {
	var names []string
	err := rec.get(ctx, "/api/v1/label/__name__/values", nil, func(dec *json.Decoder, t json.Token) error {
		return eachElement(dec, t, "the label values", func() error {
			var v model.LabelValue
			if err := dec.Decode(&v); err != nil {
				return err
			}
			names = append(names, string(v))
			return nil
		})
	})
	return names, err
}

// readMetadata reads the metadata of every metric.
func readMetadata(ctx context.Context, rec *Recorder) (map[string][]promv1.Metadata, error) {
	metadata := map[string][]promv1.Metadata{}
	err := rec.get(ctx, "/api/v1/metadata", nil, func(dec *json.Decoder, t json.Token) error {
		return eachField(dec, t, "the metadata", func(metric string) error {
			var ms []promv1.Metadata
			if err := dec.Decode(&ms); err != nil {
				return err
			}
			metadata[metric] = ms
			return nil
		})
	})
	return metadata, err
}

// jobName is what a group by (job, __name__) query answers for one series.
type jobName struct{ job, name string }

// readJobNames runs an instant query at the server's own now and reads the job and
// __name__ labels of each sample of its vector. An answer that is not a vector is an error
// naming the endpoint, as queryVector makes it.
func readJobNames(ctx context.Context, rec *Recorder, q string) ([]jobName, error) {
	var (
		out        []jobName
		resultType string
		hasResult  bool
	)
	err := rec.post(ctx, "/api/v1/query", url.Values{"query": {q}}, func(dec *json.Decoder, t json.Token) error {
		return eachField(dec, t, "a query result", func(key string) error {
			switch key {
			case "resultType":
				return dec.Decode(&resultType)
			case "result":
				if resultType != "" && resultType != model.ValVector.String() {
					return skip(dec)
				}
				hasResult = true
				return decodeElements(dec, "a vector", func(s struct {
					Metric struct {
						Job  string `json:"job"`
						Name string `json:"__name__"`
					} `json:"metric"`
				}) {
					out = append(out, jobName{job: s.Metric.Job, name: s.Metric.Name})
				})
			}
			return skip(dec)
		})
	})
	if err != nil {
		return nil, queryError(err)
	}
	switch {
	case resultType == model.ValVector.String() && hasResult:
		return out, nil
	case resultType == model.ValMatrix.String(), resultType == model.ValScalar.String(), resultType == model.ValString.String():
		return nil, fmt.Errorf("/api/v1/query answered with a %s, not a vector", resultType)
	case resultType == "" || resultType == model.ValVector.String():
		return nil, fmt.Errorf("/api/v1/query answered with no result")
	}
	return nil, fmt.Errorf("/api/v1/query answered with a body that cannot be read: unexpected value type %q", resultType)
}

// ruleGroup converts a group of the rules answer, returning the expressions of its rules too.
func ruleGroup(g promv1.RuleGroup) (analyze.RuleGroup, []string) {
	group := analyze.RuleGroup{
		Name:     g.Name,
		File:     g.File,
		Interval: time.Duration(g.Interval * float64(time.Second)),
		Language: "promql",
	}
	var exprs []string
	for _, r := range g.Rules {
		var rule analyze.Rule
		switch r := r.(type) {
		case promv1.AlertingRule:
			rule = analyze.Rule{
				Kind:        analyze.RuleAlerting,
				Name:        r.Name,
				Expr:        r.Query,
				For:         time.Duration(r.Duration * float64(time.Second)),
				Labels:      labelMap(r.Labels),
				Annotations: labelMap(r.Annotations),
				Health:      string(r.Health),
				LastError:   r.LastError,
			}
		case promv1.RecordingRule:
			rule = analyze.Rule{
				Kind:      analyze.RuleRecording,
				Name:      r.Name,
				Expr:      r.Query,
				Labels:    labelMap(r.Labels),
				Health:    string(r.Health),
				LastError: r.LastError,
			}
		default:
			continue
		}
		rule.Group, rule.File = g.Name, g.File
		exprs = append(exprs, rule.Expr)
		group.Rules = append(group.Rules, analyze.NewRule(rule))
	}
	return group, exprs
}
