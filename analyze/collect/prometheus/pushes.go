package prometheus

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
)

// pushTimeMetric is the Pushgateway's time of a group's last successful push.
const pushTimeMetric = "push_time_seconds"

// minPeriodicPushes is how many pushes a group needs in the range to be judged periodic: two
// intervals to compare at least.
const minPeriodicPushes = 3

// PushGroup is a Pushgateway group (a push_time_seconds series of the range) and how it was
// pushed over the range.
type PushGroup struct {
	Job string
	// Labels are the series' labels, push_time_seconds's name left out: the grouping key and
	// the Pushgateway's target labels.
	Labels model.LabelSet
	// Pushes are the times of the pushes seen in the range (a push is seen when the value
	// changed from one step to the next: the group's first push is not), in order.
	Pushes []time.Time
	// Age is how long before the end of the range the group was last pushed (its
	// push_time_seconds then).
	Age time.Duration
}

// minUnperiodicAge is how long ago a group seen pushed fewer than minPeriodicPushes times
// must have been last pushed to be judged not periodic: a daily batch job pushed for the
// first time an hour ago, or a Prometheus that started an hour ago, cannot tell yet.
const minUnperiodicAge = 24 * time.Hour

// Periodic says whether the group is pushed at regular intervals: at least
// minPeriodicPushes pushes, no interval longer than twice the median one (one missed run
// allowed) and a step. Why says what it is not otherwise.
//
// A group pushed fewer times than that, last pushed less than a day ago, is too young to
// judge: it counts as periodic, and why says so.
func (g PushGroup) Periodic(step time.Duration) (ok bool, why string) {
	switch n := len(g.Pushes); {
	case n < minPeriodicPushes && g.Age < minUnperiodicAge:
		return true, fmt.Sprintf("too early to tell: pushed %d times, last %s ago", n+1, model.Duration(g.Age.Truncate(time.Minute)))
	case n == 0:
		return false, "not pushed again over the lookback"
	case n < minPeriodicPushes:
		return false, fmt.Sprintf("pushed again only %d times over the lookback", n)
	}
	intervals := make([]time.Duration, len(g.Pushes)-1)
	for i := range intervals {
		intervals[i] = g.Pushes[i+1].Sub(g.Pushes[i])
	}
	slices.Sort(intervals)
	// The lower median: of two intervals, the shorter.
	median, longest := intervals[(len(intervals)-1)/2], intervals[len(intervals)-1]
	if longest > 2*median+step {
		return false, fmt.Sprintf("pushed at irregular intervals, from %s to %s", model.Duration(intervals[0].Truncate(time.Second)), model.Duration(longest.Truncate(time.Second)))
	}
	return true, ""
}

// PushHistory reads how every Pushgateway group seen in r was pushed over r: an instant query,
// last_over_time(push_time_seconds[range]), for the groups, and one range query,
//
//	push_time_seconds != push_time_seconds offset step
//
// which answers only at the steps where a group was pushed again, with the push's time.
func PushHistory(ctx context.Context, client api.Client, r BacktestRange) ([]PushGroup, error) {
	api := promv1.NewAPI(client)
	seen := &parser.Call{Func: parser.Functions["last_over_time"], Args: parser.Expressions{
		&parser.MatrixSelector{VectorSelector: nameSelector(pushTimeMetric, 0), Range: r.End.Sub(r.Start)},
	}}
	v, _, _, err := api.Query(ctx, seen.String(), r.End)
	if err != nil {
		return nil, fmt.Errorf("reading the Pushgateway groups: %s", describe(err))
	}
	now, err := vectorOf(v)
	if err != nil {
		return nil, fmt.Errorf("reading the Pushgateway groups: %w", err)
	}
	if len(now) == 0 {
		return nil, nil
	}
	changed := &parser.BinaryExpr{Op: parser.NEQ, LHS: nameSelector(pushTimeMetric, 0), RHS: nameSelector(pushTimeMetric, r.Step),
		VectorMatching: &parser.VectorMatching{Card: parser.CardOneToOne}}
	m, err := queryMatrix(ctx, api, changed.String(), promv1.Range{Start: r.Start, End: r.End, Step: r.Step})
	if err != nil {
		return nil, fmt.Errorf("reading when the Pushgateway groups were pushed: %s", describe(err))
	}
	pushes := map[model.Fingerprint][]time.Time{}
	for _, s := range m {
		key := withoutName(s.Metric).Fingerprint()
		for _, p := range s.Values {
			pushes[key] = append(pushes[key], time.Unix(0, int64(float64(p.Value)*float64(time.Second))).UTC())
		}
	}
	var out []PushGroup
	for _, s := range now {
		ls := withoutName(s.Metric)
		ts := pushes[ls.Fingerprint()]
		slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
		last := time.Unix(0, int64(float64(s.Value)*float64(time.Second)))
		out = append(out, PushGroup{Job: string(ls["job"]), Labels: ls, Pushes: slices.Compact(ts), Age: max(r.End.Sub(last), 0)})
	}
	slices.SortFunc(out, func(a, b PushGroup) int {
		return cmp.Or(cmp.Compare(a.Job, b.Job), cmp.Compare(a.Labels.String(), b.Labels.String()))
	})
	return out, nil
}

func withoutName(m model.Metric) model.LabelSet {
	ls := model.LabelSet(m).Clone()
	delete(ls, model.MetricNameLabel)
	return ls
}
