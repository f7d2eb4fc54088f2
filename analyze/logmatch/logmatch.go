// Package logmatch maps Prometheus jobs to the Loki streams that hold their logs.
//
// A pair names target labels and the stream labels that must carry the same values. Pairs are
// tried in order; the first one under which some stream matches a job decides, and is
// reported (--verbose, finding details) so that a surprising match can be explained. The
// defaults:
//
//	job → job               Promtail static configs, Alloy with a job label
//	job → service_name      Loki 3 sets service_name from the service
//	job → app               Kubernetes app labels
//	job → container         Docker and Kubernetes container names
//	namespace+pod → namespace+pod   Kubernetes targets and pod logs
//
// Promtail's Kubernetes configs set the stream's job label to "<namespace>/<app>": under a job
// pair, such a stream also matches a job named <app> (or the whole "<namespace>/<app>").
package logmatch

import (
	"strings"

	"github.com/blindspot-dev/blindspot/analyze"
)

// Pair maps target labels to stream labels, position by position.
type Pair struct {
	Target []string
	Stream []string
}

// String names the pair as the documentation does: "job→service_name".
func (p Pair) String() string {
	return strings.Join(p.Target, "+") + "→" + strings.Join(p.Stream, "+")
}

// DefaultPairs are tried when none are configured.
var DefaultPairs = []Pair{
	{Target: []string{"job"}, Stream: []string{"job"}},
	{Target: []string{"job"}, Stream: []string{"service_name"}},
	{Target: []string{"job"}, Stream: []string{"app"}},
	{Target: []string{"job"}, Stream: []string{"container"}},
	{Target: []string{"namespace", "pod"}, Stream: []string{"namespace", "pod"}},
}

// Match is the outcome for one job.
type Match struct {
	Job string
	// Pair is the pair that matched; zero when no stream matched.
	Pair Pair
	// Streams are the selectors of the matching streams.
	Streams []string
}

// Matched reports whether some stream holds the job's logs.
func (m Match) Matched() bool { return len(m.Streams) > 0 }

// Job finds the streams of a job. The job's targets give the label values; a job without
// targets is judged on its name alone.
func Job(inv *analyze.Inventory, job string, pairs []Pair) Match {
	if len(pairs) == 0 {
		pairs = DefaultPairs
	}
	targets := inv.TargetsOf(job)
	labelSets := make([]map[string]string, 0, len(targets)+1)
	for _, t := range targets {
		labelSets = append(labelSets, t.Labels)
	}
	if len(labelSets) == 0 {
		labelSets = append(labelSets, map[string]string{"job": job})
	}
	for _, p := range pairs {
		var streams []string
		for _, s := range inv.Logs.Streams {
			if matches(p, labelSets, s.Labels) {
				streams = append(streams, s.Selector)
			}
		}
		if len(streams) > 0 {
			return Match{Job: job, Pair: p, Streams: streams}
		}
	}
	return Match{Job: job}
}

// Index maps every stream selector to the job whose logs it holds (first job wins).
func Index(inv *analyze.Inventory, pairs []Pair) map[string]string {
	out := map[string]string{}
	for _, j := range inv.Jobs {
		for _, s := range Job(inv, j.Name, pairs).Streams {
			if _, ok := out[s]; !ok {
				out[s] = j.Name
			}
		}
	}
	return out
}

func matches(p Pair, targets []map[string]string, stream map[string]string) bool {
	if len(p.Target) != len(p.Stream) || len(p.Target) == 0 {
		return false
	}
	for _, t := range targets {
		if pairMatches(p, t, stream) {
			return true
		}
	}
	return false
}

func pairMatches(p Pair, target, stream map[string]string) bool {
	for i := range p.Target {
		tv, ok := target[p.Target[i]]
		if !ok || tv == "" {
			return false
		}
		sv, ok := stream[p.Stream[i]]
		if !ok {
			return false
		}
		if sv == tv {
			continue
		}
		// Promtail's Kubernetes job label: "<namespace>/<app>".
		if p.Stream[i] == "job" && strings.Contains(sv, "/") && sv[strings.LastIndex(sv, "/")+1:] == tv {
			continue
		}
		return false
	}
	return true
}
