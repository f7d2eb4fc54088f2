package loki

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/internal/logql"
)

// Defaults of HistoryOptions.
const (
	// DefaultLookback is the history's default lookback (history.lookback), as for Prometheus.
	DefaultLookback = 7 * 24 * time.Hour
	// DefaultLogSilence is how long a job's streams must have had no line to count as
	// stopped (history.log_silence).
	DefaultLogSilence = time.Hour
)

// maxHistoryPoints bounds the points of one series of the log history's range query: a
// coarse step keeps the answer small (a week at 11 minutes is 917 points per job), far below
// Loki's limit of 11,000.
const maxHistoryPoints = 1000

// maxVolumePoints bounds the points of one job in the index's answer: Loki answers a
// volume_range with one index lookup per step, so the step is coarser than the line
// count's (a week at 51 minutes is 198 points).
const maxVolumePoints = 200

// maxVolumeJobs is the limit of a volume request: the jobs each step may list, far above
// Loki's default of 100, so that none is left out (Loki's volume_max_series, 1,000 by
// default, refuses more).
const maxVolumeJobs = 100000

// historyLabel is the label the log history sums the streams by.
const historyLabel = "job"

// HistoryOptions say what ReadHistory reads.
type HistoryOptions struct {
	// Lookback is how far back to read (DefaultLookback when 0).
	Lookback time.Duration
	// Silence is the stretch at the end without a line that makes a job's streams stopped
	// (DefaultLogSilence when 0).
	Silence time.Duration
	// End is the end of the range: the time of the audit (now when zero).
	End time.Time
}

// HistoryResult is what ReadHistory read: the history when OK, and what to add to the
// source (errors, and a note when the lookback was clipped).
type HistoryResult struct {
	History analyze.LogHistory
	OK      bool
	Errors  []analyze.SourceError
	Notes   []string
}

// addTo records the result in b; the errors and notes go on src.
func (r *HistoryResult) addTo(b *analyze.Builder, src *analyze.Source) {
	if r.OK {
		b.SetLogHistory(r.History)
		b.AddPart(analyze.PartLogHistory)
	}
	src.Errors = append(src.Errors, r.Errors...)
	src.Notes = append(src.Notes, r.Notes...)
}

// ReadHistory reads which jobs' log streams had lines over the lookback, and until when,
// with two requests whatever the number of jobs and streams. It asks Loki's index first
// (Loki ≥ 2.9 with volume_enabled, on by default from 3.0), which answers from the chunks'
// sizes without reading them:
//
//  1. /loki/api/v1/index/volume_range of {job=~".+"} summed by job over the lookback, at a
//     step giving no more than maxVolumePoints points (Loki splits the request into one
//     index lookup per step): the jobs whose chunks the index places in the lookback, their
//     size, and the last step it places some in;
//  2. /loki/api/v1/index/volume of the same selector over the last silence: the jobs whose
//     chunks it places there.
//
// The index knows chunks, not lines: analyze.JobLogHistory says what this means for the
// last step seen. A Loki without the endpoint (before 2.9: 404), with volume disabled (404
// too), or whose index answers no job at all (an index other than TSDB keeps no volume) has
// its lines counted instead, reading every chunk of the lookback:
//
//  1. sum by (job) (count_over_time({job=~".+"} [STEP])) over the lookback at a coarse
//     step (no more than maxHistoryPoints points per job): the lines of each job, and the
//     last step that had some;
//  2. sum by (job) (count_over_time({job=~".+"} [SILENCE])) once, at the end: the lines of
//     the last silence.
//
// Streams without a job label are not read. When Loki refuses the range as longer than its
// max_query_length, the lookback is clipped to that limit, once, and a note says so; a
// query refused for returning more series than max_query_series (or volume_max_series)
// allows is an error of the part, which is then not held.
func ReadHistory(ctx context.Context, c *Client, o HistoryOptions) HistoryResult {
	if o.Lookback <= 0 {
		o.Lookback = DefaultLookback
	}
	if o.Silence <= 0 {
		o.Silence = DefaultLogSilence
	}
	end := o.End
	if end.IsZero() {
		end = time.Now()
	}
	var res HistoryResult
	h := analyze.LogHistory{Requested: o.Lookback, Lookback: o.Lookback, Silence: o.Silence, End: end.UTC()}
	fail := func(what string, err error) HistoryResult {
		res.Errors = append(res.Errors, analyze.SourceError{Part: analyze.PartLogHistory, Err: oneLine(fmt.Sprintf("%s: %s", what, explainLimit(err)))})
		return res
	}

	r := historyReader{c: c, index: true}
	jobs, err := r.read(ctx, &h)
	if limit, ok := queryTooLong(err); ok && limit < h.Lookback {
		h.Lookback = limit
		res.Notes = append(res.Notes, fmt.Sprintf("log history: the lookback of %s is clipped to Loki's max_query_length of %s",
			model.Duration(h.Requested), model.Duration(limit)))
		jobs, err = r.read(ctx, &h)
	}
	if err != nil {
		return fail("reading which jobs' streams had lines", err)
	}
	silence := "reading which jobs' streams had lines in the last " + model.Duration(o.Silence).String()
	if r.index {
		active, err := activeAt(ctx, c, end, o.Silence)
		if err != nil {
			return fail(silence, err)
		}
		for _, j := range jobs {
			j.Active = active[j.Job]
			h.Jobs = append(h.Jobs, j)
		}
	} else {
		recent, err := countAt(ctx, c, end, o.Silence)
		if err != nil {
			return fail(silence, err)
		}
		for _, j := range jobs {
			j.Recent = recent[j.Job]
			h.Jobs = append(h.Jobs, j)
		}
	}
	res.History, res.OK = h, true
	return res
}

// historyReader reads the jobs of the lookback from Loki's index while index holds, and
// counts their lines once the index turned out not to answer.
type historyReader struct {
	c     *Client
	index bool
}

// read returns the jobs whose streams had data over h's lookback, setting its start and step.
func (r *historyReader) read(ctx context.Context, h *analyze.LogHistory) ([]analyze.JobLogHistory, error) {
	if r.index {
		jobs, err := readVolumes(ctx, r.c, h)
		if (err != nil && !errors.Is(err, ErrNotSupported)) || len(jobs) > 0 {
			return jobs, err
		}
		r.index = false
	}
	return readLines(ctx, r.c, h)
}

// historyStep is the step of the range query over lookback: whole minutes, coarse enough that
// no job has more than maxHistoryPoints points.
func historyStep(lookback time.Duration) time.Duration { return stepOf(lookback, maxHistoryPoints) }

// stepOf is a step of whole minutes over lookback giving no more than points points.
func stepOf(lookback time.Duration, points int) time.Duration {
	step := (lookback + time.Duration(points) - 1) / time.Duration(points)
	step = (step + time.Minute - 1) / time.Minute * time.Minute
	return max(step, time.Minute)
}

// readVolumes asks Loki's index for the size of each job's chunks step by step over h's
// lookback, setting its start and step, and returns the jobs it places in some step, with
// their size and last step.
func readVolumes(ctx context.Context, c *Client, h *analyze.LogHistory) ([]analyze.JobLogHistory, error) {
	h.Step = stepOf(h.Lookback, maxVolumePoints)
	h.Start = h.End.Add(-h.Lookback)
	series, err := c.VolumeRange(ctx, VolumeQuery{
		Selector: logql.HasLabel(historyLabel), Start: h.Start, End: h.End, Step: h.Step,
		Limit: maxVolumeJobs, TargetLabels: []string{historyLabel}, AggregateBy: BySeries,
	})
	if err != nil {
		return nil, err
	}
	byJob := map[string]*analyze.JobLogHistory{}
	for _, s := range series {
		job := s.Labels[historyLabel]
		if job == "" {
			continue
		}
		j := byJob[job]
		if j == nil {
			j = &analyze.JobLogHistory{Job: job, Indexed: true}
			byJob[job] = j
		}
		// The index lists a job in a step only when it gives it at least one entry: a
		// point of 0 bytes is a chunk too small to weigh a KiB, not an empty step.
		for _, p := range s.Samples {
			if p.Value < 0 || math.IsNaN(p.Value) {
				continue
			}
			j.Bytes += int64(p.Value)
			if p.Time.After(j.LastLine) {
				j.LastLine = p.Time
			}
		}
	}
	return sortedJobs(byJob, func(j *analyze.JobLogHistory) bool { return !j.LastLine.IsZero() }), nil
}

// activeAt returns the jobs whose chunks Loki's index places in the window ending at end.
func activeAt(ctx context.Context, c *Client, end time.Time, window time.Duration) (map[string]bool, error) {
	vols, err := c.Volume(ctx, logql.HasLabel(historyLabel), end.Add(-window), end, maxVolumeJobs)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, v := range vols {
		if job := v.Labels[historyLabel]; job != "" && v.Bytes >= 0 {
			out[job] = true
		}
	}
	return out, nil
}

// sortedJobs are the jobs of byJob that keep holds for, sorted by name.
func sortedJobs(byJob map[string]*analyze.JobLogHistory, keep func(*analyze.JobLogHistory) bool) []analyze.JobLogHistory {
	var out []analyze.JobLogHistory
	for _, j := range byJob {
		if keep(j) {
			out = append(out, *j)
		}
	}
	slices.SortFunc(out, func(a, b analyze.JobLogHistory) int { return strings.Compare(a.Job, b.Job) })
	return out
}

// readLines runs the range query over h's lookback, setting its start and step, and returns
// the jobs whose streams had lines, with their count and last step.
func readLines(ctx context.Context, c *Client, h *analyze.LogHistory) ([]analyze.JobLogHistory, error) {
	h.Step = historyStep(h.Lookback)
	// The first step's window reaches one step before Start: a max_query_length counts it.
	h.Start = h.End.Add(-h.Lookback + h.Step)
	query := countByStream([]string{historyLabel}, logql.HasLabel(historyLabel), h.Step)
	res, err := c.QueryRange(ctx, RangeQuery{Query: query, Start: h.Start, End: h.End, Step: h.Step})
	if err != nil {
		return nil, err
	}
	if res.Type != ResultMatrix {
		return nil, fmt.Errorf("%s: a metric query answered with %s", query, res.Type)
	}
	byJob := map[string]*analyze.JobLogHistory{}
	for _, s := range res.Matrix {
		job := s.Labels[historyLabel]
		if job == "" {
			continue
		}
		j := byJob[job]
		if j == nil {
			j = &analyze.JobLogHistory{Job: job}
			byJob[job] = j
		}
		for _, p := range s.Samples {
			if p.Value <= 0 {
				continue
			}
			j.Lines += int64(p.Value)
			if p.Time.After(j.LastLine) {
				j.LastLine = p.Time
			}
		}
	}
	return sortedJobs(byJob, func(j *analyze.JobLogHistory) bool { return j.Lines > 0 }), nil
}

// countAt counts each job's lines in the window ending at end, with one evaluation.
func countAt(ctx context.Context, c *Client, end time.Time, window time.Duration) (map[string]int64, error) {
	query := countByStream([]string{historyLabel}, logql.HasLabel(historyLabel), window)
	// Loki refuses start == end.
	res, err := c.QueryRange(ctx, RangeQuery{Query: query, Start: end, End: end.Add(time.Millisecond), Step: window})
	if err != nil {
		return nil, err
	}
	if res.Type != ResultMatrix {
		return nil, fmt.Errorf("%s: a metric query answered with %s", query, res.Type)
	}
	out := map[string]int64{}
	for _, s := range res.Matrix {
		if n := len(s.Samples); n > 0 && s.Labels[historyLabel] != "" {
			out[s.Labels[historyLabel]] += int64(s.Samples[n-1].Value)
		}
	}
	return out, nil
}

// queryTooLongMsg is Loki's answer to a range longer than its max_query_length (Loki 1.x to
// 3.x: "the query time range exceeds the limit (query length: 168h0m0s, limit: 24h0m0s)").
var queryTooLongMsg = regexp.MustCompile(`exceeds the limit \(query length: [^,]+, limit: ([0-9a-zµ.]+)\)`)

// queryTooLong returns the limit of a refusal for a range longer than max_query_length.
func queryTooLong(err error) (time.Duration, bool) {
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest {
		return 0, false
	}
	m := queryTooLongMsg.FindStringSubmatch(apiErr.Msg)
	if m == nil {
		return 0, false
	}
	d, err := time.ParseDuration(m[1])
	if err != nil {
		if md, merr := model.ParseDuration(m[1]); merr == nil {
			d, err = time.Duration(md), nil
		}
	}
	return d, err == nil && d > 0
}

// explainLimit names the Loki limit behind a refusal the user can raise.
func explainLimit(err error) string {
	msg := err.Error()
	if strings.Contains(msg, "maximum number of series") || strings.Contains(msg, "maximum of series") {
		return "more job label values than Loki's max_query_series allows (raise limits_config.max_query_series): " + msg
	}
	// Loki's volume answer past volume_max_series (pkg/storage/stores/index/seriesvolume).
	if strings.Contains(msg, "hit the max number of series limit") {
		return "more job label values than Loki's volume_max_series allows (raise limits_config.volume_max_series): " + msg
	}
	return msg
}
