package prometheus

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/blindspot-dev/blindspot/analyze"
)

// upQuery selects every up series: one per target that was scraped recently.
const upQuery = "up"

// TargetsFromUp derives the targets of a server without a targets API (Mimir, Cortex) from
// the up series: the job and instance labels, healthy when the last value is 1.
func TargetsFromUp(ctx context.Context, client api.Client) ([]analyze.Target, error) {
	vec, err := queryVector(ctx, promv1.NewAPI(client), upQuery)
	if err != nil {
		return nil, fmt.Errorf("querying %s for the jobs: %s", upQuery, describe(err))
	}
	out := make([]analyze.Target, 0, len(vec))
	for _, s := range vec {
		labels := make(map[string]string, len(s.Metric))
		for k, val := range s.Metric {
			if k != model.MetricNameLabel {
				labels[string(k)] = string(val)
			}
		}
		health := analyze.HealthDown
		if s.Value == 1 {
			health = analyze.HealthUp
		}
		out = append(out, analyze.Target{
			Job:        labels["job"],
			ScrapePool: labels["job"],
			Instance:   labels["instance"],
			Labels:     labels,
			Health:     health,
		})
	}
	return out, nil
}

// storeStatus is one entry of Thanos Query's /api/v1/stores, as Thanos v0.42 serves it.
type storeStatus struct {
	Name      string              `json:"name"`
	LastCheck time.Time           `json:"lastCheck"`
	LastError *string             `json:"lastError"`
	LabelSets []map[string]string `json:"labelSets"`
}

// Stores reads the store endpoints of a Thanos Query and returns one error message per
// unhealthy store, naming it and its external labels, notes listing the healthy ones, and
// the external label sets of every store.
// Thanos warns about a failing store for a few seconds only and then silently answers with
// less data, so this is the only way to know the answers are incomplete.
func Stores(ctx context.Context, client api.Client) (unhealthy, notes []string, labels [][]map[string]string, err error) {
	var data map[string][]storeStatus
	if err := getData(ctx, client, "/api/v1/stores", nil, &data); err != nil {
		return nil, nil, nil, fmt.Errorf("reading the Thanos stores: %w", err)
	}
	var healthy []string
	for kind, stores := range data {
		for _, s := range stores {
			labels = append(labels, s.LabelSets)
			what := fmt.Sprintf("%s store %s%s", kind, s.Name, labelSets(s.LabelSets))
			if s.LastError != nil && *s.LastError != "" {
				unhealthy = append(unhealthy, fmt.Sprintf("%s is unhealthy: %s", what, oneLine(*s.LastError)))
				continue
			}
			healthy = append(healthy, what)
		}
	}
	slices.Sort(unhealthy)
	slices.Sort(healthy)
	if len(healthy) > 0 {
		notes = append(notes, "healthy stores: "+strings.Join(healthy, ", "))
	}
	return unhealthy, notes, labels, nil
}

// labelSets renders the external labels of a store: " {cluster=\"a\"}".
func labelSets(sets []map[string]string) string {
	var out []string
	for _, set := range sets {
		out = append(out, model.LabelSet(toLabelSet(set)).String())
	}
	if len(out) == 0 {
		return ""
	}
	return " " + strings.Join(out, " ")
}

func toLabelSet(m map[string]string) model.LabelSet {
	ls := make(model.LabelSet, len(m))
	for k, v := range m {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls
}
