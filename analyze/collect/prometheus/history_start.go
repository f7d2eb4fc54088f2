package prometheus

import (
	"context"
	"math"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/blindspot-dev/blindspot/analyze"
)

// dataStartOf is the time of the oldest sample the server's queries can read, from its TSDB,
// less the out-of-order window of its configuration (storage: samples that much older than a
// series' newest may still be appended). The oldest sample is the server's
// prometheus_tsdb_lowest_timestamp (its oldest block's start, or its head's without blocks)
// from /api/v1/status/self_metrics (Prometheus 3.12 and later), or else the oldest of its
// blocks' (/api/v1/status/tsdb/blocks, 3.6 and later) and its head's (/api/v1/status/tsdb).
// It is zero when that cannot be known: no storage (the configuration was not read), a server
// that reads remote storage too (remote_read: its data may be older), a Prometheus before 3.6,
// a server that is not one Prometheus TSDB (Thanos, Mimir and VictoriaMetrics answer neither
// as Prometheus does), or an answer that makes no sense.
func dataStartOf(ctx context.Context, client api.Client, storage *analyze.Storage) time.Time {
	if storage == nil || storage.RemoteRead || storage.OutOfOrderWindow < 0 {
		return time.Time{}
	}
	oldest, ok := lowestTimestamp(ctx, client)
	if !ok {
		if oldest, ok = oldestBlockOrHead(ctx, promv1.NewAPI(client)); !ok {
			return time.Time{}
		}
	}
	return time.UnixMilli(oldest).Add(-storage.OutOfOrderWindow).UTC()
}

// lowestTimestamp is the server's prometheus_tsdb_lowest_timestamp (milliseconds), from
// /api/v1/status/self_metrics (the server's own metric families as protobuf JSON); false when
// the server does not answer it.
func lowestTimestamp(ctx context.Context, client api.Client) (int64, bool) {
	const name = "prometheus_tsdb_lowest_timestamp"
	var families []struct {
		Name   string `json:"name"`
		Metric []struct {
			Gauge *struct {
				Value float64 `json:"value"`
			} `json:"gauge"`
		} `json:"metric"`
	}
	if getData(ctx, client, "/api/v1/status/self_metrics", url.Values{"metric_name_pattern": {name}}, &families) != nil ||
		len(families) != 1 || families[0].Name != name || len(families[0].Metric) != 1 || families[0].Metric[0].Gauge == nil {
		return 0, false
	}
	// An empty TSDB says math.MaxInt64.
	v := families[0].Metric[0].Gauge.Value
	if v <= 0 || v >= math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// oldestBlockOrHead is the oldest of the server's blocks' and head's starts (milliseconds),
// from /api/v1/status/tsdb/blocks and /api/v1/status/tsdb; false when the server does not
// answer both, or holds nothing.
func oldestBlockOrHead(ctx context.Context, api promv1.API) (int64, bool) {
	var (
		wg            sync.WaitGroup
		blocks        promv1.TSDBBlocksResult
		status        promv1.TSDBResult
		bErr, tsdbErr error
	)
	wg.Go(func() { blocks, bErr = api.TSDBBlocks(ctx) })
	wg.Go(func() { status, tsdbErr = api.TSDB(ctx, promv1.WithLimit(1)) })
	wg.Wait()
	if bErr != nil || tsdbErr != nil {
		return 0, false
	}
	// An empty head says math.MaxInt64.
	oldest := int64(math.MaxInt64)
	if head := status.HeadStats; head.MinTime > 0 && head.MinTime <= head.MaxTime {
		oldest = int64(head.MinTime)
	}
	for _, b := range blocks.Blocks {
		if b.MinTime <= 0 || b.MinTime > b.MaxTime {
			return 0, false
		}
		oldest = min(oldest, b.MinTime)
	}
	return oldest, oldest != math.MaxInt64
}

// fromDataStart is an API whose range queries start no earlier than needed to read from
// start: at the last step of their range at or before it. A step before start reads only
// times before it (a range query's step reads its own time and what precedes it), where the
// server holds nothing, and the history's queries answer nothing there. The other steps are
// the same steps and answer the same: a young server is not asked about the days before it.
type fromDataStart struct {
	promv1.API
	start time.Time
}

func (a fromDataStart) QueryRange(ctx context.Context, query string, r promv1.Range, opts ...promv1.Option) (model.Value, promv1.Warnings, promv1.Infos, error) {
	if from := a.start; r.Step > 0 && r.Start.Before(from) {
		if from.After(r.End) {
			from = r.End
		}
		r.Start = r.Start.Add(from.Sub(r.Start).Truncate(r.Step))
	}
	return a.API.QueryRange(ctx, query, r, opts...)
}

// comparesNothing says whether a query comparing each step of r with the step before it
// (`x > x offset step`) answers nothing on a server whose data starts at start (zero: not
// known), because even its last step's offset reads only the times before start.
func comparesNothing(r promv1.Range, start time.Time) bool {
	return !start.IsZero() && r.End.Add(-r.Step).Before(start)
}
