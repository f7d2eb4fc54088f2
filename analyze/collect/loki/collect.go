package loki

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/secrets"
	"github.com/blindspot-dev/blindspot/internal/logql"
	"github.com/blindspot-dev/blindspot/rulesets"
)

// Defaults of Options.
const (
	DefaultWindow     = time.Hour
	DefaultLimit      = 100
	DefaultMaxQueries = 50
)

// seriesBatch is how many label names one /series request asks about, so that its URL stays
// short whatever the number of labels.
const seriesBatch = 16

// Options bound what is read from Loki.
type Options struct {
	// Window is how far back streams and lines are read. Zero means DefaultWindow.
	Window time.Duration
	// Limit is the number of lines sampled per stream with secret-keyword hits. Zero means
	// DefaultLimit.
	Limit int
	// MaxQueries bounds the sample queries, one per stream with hits, most hits first. Zero
	// means DefaultMaxQueries.
	MaxQueries int
	// End is the end of the window; zero means now. Tests pin it.
	End time.Time
	// Progress, when set, is called as sampled streams complete (done of total), so that a
	// long scan can show progress on a terminal.
	Progress func(done, total int)
}

// WithDefaults returns o with zero values replaced by the defaults.
func (o Options) WithDefaults() Options {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.Limit <= 0 {
		o.Limit = DefaultLimit
	}
	if o.MaxQueries <= 0 {
		o.MaxQueries = DefaultMaxQueries
	}
	return o
}

// Result is what was read from a Loki, ready to be added to a builder. It holds masked
// examples only, never a raw line, so it may be stored in a snapshot as it is.
type Result struct {
	Logs analyze.Logs
	// Parts were read. PartLogSecrets is present with an error when some streams with hits
	// could not be sampled: the secrets found in the others are real and are reported.
	Parts  []analyze.Part
	Errors []analyze.SourceError
	Notes  []string
	// History is what was read of the log history (ReadHistory); nil when it was not read.
	History *HistoryResult
}

// AddTo adds the result to b under src and returns src with the errors and notes filled in.
func (r *Result) AddTo(b *analyze.Builder, src analyze.Source) analyze.Source {
	src.Errors = append(src.Errors, r.Errors...)
	src.Notes = append(src.Notes, r.Notes...)
	if len(r.Parts) > 0 {
		b.SetLogs(r.Logs)
	}
	for _, p := range r.Parts {
		b.AddPart(p)
	}
	if r.History != nil {
		r.History.addTo(b, &src)
	}
	b.AddSource(src)
	return src
}

// Collect reads Loki (see Read) and adds what it found to b. It never fails as a whole: what
// could not be read is an error on the returned source.
func Collect(ctx context.Context, c *Client, o Options, patterns []rulesets.SecretPattern, b *analyze.Builder, src analyze.Source, logger *slog.Logger) analyze.Source {
	return Read(ctx, c, o, patterns, logger).AddTo(b, src)
}

// stream is a stream seen in the window.
type stream struct {
	labels   map[string]string
	selector string
}

// Read lists the streams of the window and scans their lines for secrets, with a number of
// queries that does not grow with the number of streams except for the bounded sampling:
//
//  1. /labels, then /series with {<name>=~".+"} for every label name (one request per
//     seriesBatch names): the streams of the window.
//  2. Per covering selector (a label every stream of a group carries; one selector when some
//     label such as job or service_name is on every stream) two metric queries:
//     sum by (<all stream labels>) (count_over_time({sel} [window])) for the line counts,
//     and the same with the patterns' keyword line filter for the secret hits (spelt without
//     case-insensitive literals, which old Lokis mishandle: see portableLineFilter).
//  3. For at most MaxQueries streams with hits, most hits first, one log query on the
//     stream's exact selector with the line filter, limited to Limit lines, whose lines are
//     classified by the patterns' regular expressions and then dropped.
//
// Raw lines are never logged, kept or returned: a SecretHit holds a masked example.
func Read(ctx context.Context, c *Client, o Options, patterns []rulesets.SecretPattern, logger *slog.Logger) *Result {
	o = o.WithDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	end := o.End
	if end.IsZero() {
		end = time.Now()
	}
	r := &Result{Logs: analyze.Logs{Window: o.Window}}
	q := &reader{c: c, o: o, start: end.Add(-o.Window), end: end, logger: logger}

	streams, names, err := q.streams(ctx, r)
	if err != nil {
		// The same message on both parts, so that the report says it once.
		err = fmt.Errorf("listing streams: %w", err)
		r.fail(analyze.PartLogStreams, err)
		r.fail(analyze.PartLogSecrets, err)
		return r
	}
	covering := cover(streams)
	filter, filterErr := portableLineFilter(secrets.LineFilter(patterns))
	if filterErr != nil {
		filter = "" // reported below, once the streams are in
	}

	var (
		wg                  sync.WaitGroup
		entries, hits       map[string]counted
		entriesErr, hitsErr error
	)
	wg.Go(func() { entries, entriesErr = q.countByStream(ctx, "lines", names, covering, "") })
	if filter != "" {
		wg.Go(func() { hits, hitsErr = q.countByStream(ctx, "secret keywords", names, covering, filter) })
	}
	wg.Wait()

	for _, s := range streams {
		n := int64(-1)
		if entriesErr == nil {
			n = entries[s.selector].n // a stream indexed in the window may have no line in it
		}
		r.Logs.Streams = append(r.Logs.Streams, analyze.LogStream{Labels: s.labels, Selector: s.selector, Entries: n})
	}
	if entriesErr != nil {
		r.Notes = append(r.Notes, "line counts per stream are unknown: "+oneLine(entriesErr.Error()))
	}
	r.Parts = append(r.Parts, analyze.PartLogStreams)

	switch {
	case filterErr != nil:
		r.fail(analyze.PartLogSecrets, filterErr)
		return r
	case filter == "":
		r.Notes = append(r.Notes, "no secret patterns: log lines were not scanned")
		return r
	case hitsErr != nil:
		r.fail(analyze.PartLogSecrets, fmt.Errorf("counting lines with secret keywords: %w", hitsErr))
		return r
	}
	r.Logs.Secrets, err = q.sample(ctx, r, hits, filter, patterns)
	r.Parts = append(r.Parts, analyze.PartLogSecrets)
	if err != nil {
		r.fail(analyze.PartLogSecrets, err)
	}
	return r
}

func (r *Result) fail(p analyze.Part, err error) {
	r.Errors = append(r.Errors, analyze.SourceError{Part: p, Err: oneLine(err.Error())})
}

// reader holds what every query of one Read shares.
type reader struct {
	c          *Client
	o          Options
	start, end time.Time
	logger     *slog.Logger
}

// streams lists the streams of the window and the sorted names of their labels.
func (q *reader) streams(ctx context.Context, r *Result) ([]stream, []string, error) {
	all, err := q.c.Labels(ctx, q.start, q.end)
	if err != nil {
		return nil, nil, err
	}
	var names, invalid []string
	for _, n := range all {
		switch {
		case strings.HasPrefix(n, "__"):
			// Internal labels: Loki 1.x lists __name__, which no stream carries.
		case logql.ValidLabelName(n) != nil:
			invalid = append(invalid, n)
		default:
			names = append(names, n)
		}
	}
	slices.Sort(names)
	seen := map[string]bool{}
	var streams []stream
	for batch := range slices.Chunk(names, seriesBatch) {
		selectors := make([]string, len(batch))
		for i, n := range batch {
			selectors[i] = logql.HasLabel(n)
		}
		start := time.Now()
		series, err := q.c.Series(ctx, selectors, q.start, q.end)
		q.logger.Debug("loki series", "labels", len(batch), "streams", len(series), "duration", since(start), "err", err)
		if err != nil {
			return nil, nil, err
		}
		for _, labels := range series {
			sel, err := logql.StreamSelector(labels)
			if err != nil {
				invalid = append(invalid, slices.Sorted(maps.Keys(labels))...)
				continue
			}
			if !seen[sel] {
				seen[sel] = true
				streams = append(streams, stream{labels: labels, selector: sel})
			}
		}
	}
	if len(invalid) > 0 {
		slices.Sort(invalid)
		r.Notes = append(r.Notes, fmt.Sprintf("skipped streams with label names LogQL cannot select on: %s", strings.Join(slices.Compact(invalid), ", ")))
	}
	// The metric queries group by every label a stream carries, so that each result series
	// is exactly one stream.
	var carried []string
	for _, s := range streams {
		for n := range s.labels {
			carried = append(carried, n)
		}
	}
	slices.Sort(carried)
	return streams, slices.Compact(carried), nil
}

// cover picks label names such that every stream carries one of them, greedily: the label on
// the most streams not yet covered first. Usually one label (job, service_name) covers all.
func cover(streams []stream) []string {
	uncovered := slices.Clone(streams)
	var chosen []string
	for len(uncovered) > 0 {
		count := map[string]int{}
		for _, s := range uncovered {
			for n := range s.labels {
				count[n]++
			}
		}
		best := ""
		for n, c := range count {
			if best == "" || c > count[best] || c == count[best] && n < best {
				best = n
			}
		}
		if best == "" {
			break // streams without labels do not exist in Loki
		}
		chosen = append(chosen, best)
		uncovered = slices.DeleteFunc(uncovered, func(s stream) bool { _, ok := s.labels[best]; return ok })
	}
	return chosen
}

// counted is a stream's count from a metric query.
type counted struct {
	labels map[string]string
	n      int64
}

// countByStream runs one metric query per covering label and returns the count of each stream
// at the end of the window, by selector: all lines, or with lineFilter those that pass it.
func (q *reader) countByStream(ctx context.Context, what string, names, covering []string, lineFilter string) (map[string]counted, error) {
	counts := map[string]counted{}
	for _, label := range covering {
		query := countByStream(names, logQuery(logql.HasLabel(label), lineFilter), q.o.Window)
		start := time.Now()
		// One evaluation at the end of the window; Loki refuses start == end.
		res, err := q.c.QueryRange(ctx, RangeQuery{Query: query, Start: q.end, End: q.end.Add(time.Millisecond), Step: q.o.Window})
		q.logger.Debug("loki metric query", "counting", what, "query", query, "duration", since(start), "err", err)
		if err != nil {
			return nil, err
		}
		if res.Type != ResultMatrix {
			return nil, fmt.Errorf("%s: a metric query answered with %s", query, res.Type)
		}
		for _, s := range res.Matrix {
			if len(s.Samples) == 0 {
				continue
			}
			sel, err := logql.StreamSelector(s.Labels)
			if err != nil {
				continue
			}
			counts[sel] = counted{labels: s.Labels, n: int64(s.Samples[len(s.Samples)-1].Value)}
		}
	}
	return counts, nil
}

// sample reads up to Limit matching lines of the streams with the most hits, at most
// MaxQueries of them, and classifies the lines. A stream with hits that is not among the
// listed ones (it started after /series answered) is sampled all the same.
func (q *reader) sample(ctx context.Context, r *Result, hits map[string]counted, filter string, patterns []rulesets.SecretPattern) ([]analyze.SecretHit, error) {
	type candidate struct {
		selector string
		labels   map[string]string
		hits     int64
	}
	var candidates []candidate
	for sel, c := range hits {
		if c.n > 0 {
			candidates = append(candidates, candidate{sel, c.labels, c.n})
		}
	}
	slices.SortFunc(candidates, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(b.hits, a.hits), cmp.Compare(a.selector, b.selector))
	})
	if len(candidates) > q.o.MaxQueries {
		r.Notes = append(r.Notes, fmt.Sprintf("%d streams have lines with secret keywords; the %d with the most were sampled (logs.max_queries)", len(candidates), q.o.MaxQueries))
		candidates = candidates[:q.o.MaxQueries]
	}

	var (
		mu     sync.Mutex
		wg     sync.WaitGroup
		found  []analyze.SecretHit
		failed []string
		done   int
	)
	for _, cand := range candidates {
		// The transport keeps at most MaxInFlight of these on the wire.
		wg.Go(func() {
			hitsOf, err := q.classify(ctx, cand.selector, filter, cand.hits, patterns)
			mu.Lock()
			defer mu.Unlock()
			done++
			if q.o.Progress != nil {
				q.o.Progress(done, len(candidates))
			}
			if err != nil {
				failed = append(failed, oneLine(err.Error()))
				return
			}
			for _, h := range hitsOf {
				h.Labels = cand.labels
				found = append(found, h)
			}
		})
	}
	wg.Wait()
	slices.SortFunc(found, func(a, b analyze.SecretHit) int {
		return cmp.Or(cmp.Compare(a.Stream, b.Stream), cmp.Compare(a.Pattern, b.Pattern))
	})
	if len(failed) > 0 {
		slices.Sort(failed)
		return found, fmt.Errorf("sampling %d of %d streams with secret keywords failed: %s", len(failed), len(candidates), failed[0])
	}
	return found, nil
}

// classify samples one stream and turns the classified lines into hits. The lines live only
// inside this function.
//
// Count is exact when the sample holds every keyword line of the window. Otherwise, when the
// sample shows a single pattern, every keyword line is taken for it (the metric count);
// with several patterns each gets the number of sample lines that match it, a lower bound.
func (q *reader) classify(ctx context.Context, selector, filter string, keywordLines int64, patterns []rulesets.SecretPattern) ([]analyze.SecretHit, error) {
	start := time.Now()
	res, err := q.c.QueryRange(ctx, RangeQuery{
		Query: logQuery(selector, filter), Start: q.start, End: q.end, Limit: q.o.Limit, Direction: Backward,
	})
	if err != nil {
		q.logger.Debug("loki sample query", "stream", selector, "duration", since(start), "err", err)
		return nil, err
	}
	if res.Type != ResultStreams {
		return nil, fmt.Errorf("sampling %s: a log query answered with %s", selector, res.Type)
	}
	var lines []string
	for _, s := range res.Streams {
		for _, e := range s.Entries {
			lines = append(lines, e.Line)
		}
	}
	classified := secrets.Classify(lines, patterns)
	complete := int64(len(lines)) >= keywordLines
	q.logger.Debug("loki sample query", "stream", selector, "lines", len(lines), "patterns", len(classified), "duration", since(start))
	clear(lines)

	var out []analyze.SecretHit
	for id, c := range classified {
		n := int64(c.Count)
		if !complete && len(classified) == 1 {
			n = keywordLines
		}
		out = append(out, analyze.SecretHit{Stream: selector, Pattern: id, Count: n, Example: c.Example})
	}
	return out, nil
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }
