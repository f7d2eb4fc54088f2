package loki_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/analyze/collect/loki"
	"github.com/blindspot-dev/blindspot/internal/logql"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

func newClient(t testing.TB, url string) *loki.Client {
	t.Helper()
	c, err := loki.NewClient(httpconfig.Options{URL: url, Timeout: 10 * time.Second, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClientAgainstLoki1(t *testing.T) {
	t.Parallel()
	l := servers.StartLoki(t, servers.Find(t).Loki)
	now := time.Now()
	l.Push(t,
		servers.LogStream{Labels: map[string]string{"job": "api", "env": "prod"}, Entries: []servers.LogEntry{
			{Time: now.Add(-3 * time.Minute), Line: "GET /orders 200"},
			{Time: now.Add(-2 * time.Minute), Line: "GET /orders 500"},
			{Time: now.Add(-1 * time.Minute), Line: "POST /orders 201"},
		}},
		servers.LogStream{Labels: map[string]string{"job": "worker"}, Entries: []servers.LogEntry{
			{Time: now.Add(-2 * time.Minute), Line: "job done"},
		}},
	)
	c := newClient(t, l.URL)
	ctx := context.Background()
	start, end := now.Add(-time.Hour), now.Add(time.Second)

	t.Run("Labels lists the stream label names (and Loki 1's internal __name__).", func(t *testing.T) {
		got, err := c.Labels(ctx, start, end)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"__name__", "env", "job"}; !slices.Equal(got, want) {
			t.Errorf("labels %q, want %q", got, want)
		}
	})

	t.Run("LabelValues lists a label's values.", func(t *testing.T) {
		got, err := c.LabelValues(ctx, "job", start, end)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"api", "worker"}; !slices.Equal(got, want) {
			t.Errorf("values %q, want %q", got, want)
		}
	})

	t.Run("Series returns the union of the streams matching any selector.", func(t *testing.T) {
		got, err := c.Series(ctx, []string{`{env=~".+"}`, `{job="worker"}`}, start, end)
		if err != nil {
			t.Fatal(err)
		}
		var sels []string
		for _, ls := range got {
			sel, err := logql.StreamSelector(ls)
			if err != nil {
				t.Fatal(err)
			}
			sels = append(sels, sel)
		}
		slices.Sort(sels)
		if want := []string{`{env="prod", job="api"}`, `{job="worker"}`}; !slices.Equal(sels, want) {
			t.Errorf("series %q, want %q", sels, want)
		}
	})

	t.Run("A log query returns lines newest first, no more than the limit.", func(t *testing.T) {
		res, err := c.QueryRange(ctx, loki.RangeQuery{Query: `{job="api"} |~ "orders"`, Start: start, End: end, Limit: 2, Direction: loki.Backward})
		if err != nil {
			t.Fatal(err)
		}
		if res.Type != loki.ResultStreams || len(res.Streams) != 1 {
			t.Fatalf("result %+v", res)
		}
		var lines []string
		for _, e := range res.Streams[0].Entries {
			lines = append(lines, e.Line)
		}
		if want := []string{"POST /orders 201", "GET /orders 500"}; !slices.Equal(lines, want) {
			t.Errorf("lines %q, want %q", lines, want)
		}
		if got := res.Streams[0].Entries[0].Time; got.Sub(now.Add(-time.Minute)).Abs() > time.Millisecond {
			t.Errorf("newest line at %s, pushed at %s", got, now.Add(-time.Minute))
		}
	})

	t.Run("A metric query evaluated once at the end of the window counts per stream.", func(t *testing.T) {
		res, err := c.QueryRange(ctx, loki.RangeQuery{
			Query: `sum by (env, job) (count_over_time({job=~".+"} |~ "orders" [3600s]))`,
			Start: end, End: end.Add(time.Millisecond), Step: time.Hour,
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Type != loki.ResultMatrix || len(res.Matrix) != 1 {
			t.Fatalf("result %+v", res)
		}
		s := res.Matrix[0]
		if s.Labels["job"] != "api" || s.Labels["env"] != "prod" || len(s.Samples) != 1 || s.Samples[0].Value != 3 {
			t.Errorf("series %+v, want one sample of 3 for the api stream", s)
		}
	})

	t.Run("Loki 1 has no volume endpoint: ErrNotSupported.", func(t *testing.T) {
		_, err := c.Volume(ctx, `{job=~".+"}`, start, end, 100)
		if !errors.Is(err, loki.ErrNotSupported) {
			t.Errorf("error %v, want ErrNotSupported", err)
		}
		_, err = c.VolumeRange(ctx, loki.VolumeQuery{Selector: `{job=~".+"}`, Start: start, End: end, Step: time.Minute})
		if !errors.Is(err, loki.ErrNotSupported) {
			t.Errorf("volume_range error %v, want ErrNotSupported", err)
		}
	})

	t.Run("A refused query is one line with the endpoint, the status and Loki's message.", func(t *testing.T) {
		_, err := c.QueryRange(ctx, loki.RangeQuery{Query: `sum by (job) (count_over_time({job="api"}))`, Start: start, End: end})
		var apiErr *loki.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest {
			t.Fatalf("error %v, want an HTTP 400", err)
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "/loki/api/v1/query_range: HTTP 400: ") || !strings.Contains(msg, "parse error at line 1") || strings.Contains(msg, "\n") {
			t.Errorf("error %q", msg)
		}
	})
}

func TestClientAgainstLoki3Shapes(t *testing.T) {
	t.Parallel()
	now := time.Now()
	_, srv := newFakeLoki3(t,
		fakeStream{labels: map[string]string{"service_name": "api", "namespace": "prod"}, entries: []fakeEntry{
			{now.Add(-2 * time.Minute), "GET /orders 200"}, {now.Add(-time.Minute), "GET /orders 200"},
		}},
		fakeStream{labels: map[string]string{"service_name": "worker", "namespace": "prod"}, entries: []fakeEntry{
			{now.Add(-time.Minute), "job done"},
		}},
	)
	c := newClient(t, srv.URL)
	ctx := context.Background()
	start, end := now.Add(-time.Hour), now

	t.Run("Streams carry Loki 3's service_name label.", func(t *testing.T) {
		got, err := c.Series(ctx, []string{`{service_name=~".+"}`}, start, end)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0]["service_name"] != "api" || got[1]["service_name"] != "worker" {
			t.Errorf("series %v", got)
		}
	})

	t.Run("Volume returns bytes per label set of the selector's labels.", func(t *testing.T) {
		got, err := c.Volume(ctx, `{service_name=~".+"}`, start, end, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("volumes %+v", got)
		}
		api := got[0]
		if api.Labels["service_name"] != "api" || len(api.Labels) != 1 || api.Bytes != float64(2*len("GET /orders 200")) {
			t.Errorf("api volume %+v", api)
		}
	})
}

func TestClientVolumeRange(t *testing.T) {
	t.Parallel()
	end := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	f, srv := newFakeLoki3(t,
		fakeStream{labels: map[string]string{"job": "api", "env": "prod"}, entries: []fakeEntry{
			{end.Add(-150 * time.Second), "GET /orders 200"}, {end.Add(-30 * time.Second), "GET /orders 500"},
		}},
		fakeStream{labels: map[string]string{"job": "api", "env": "dev"}, entries: []fakeEntry{{end.Add(-30 * time.Second), "GET /"}}},
		fakeStream{labels: map[string]string{"job": "worker"}, entries: []fakeEntry{{end.Add(-150 * time.Second), "job done"}}},
	)
	c := newClient(t, srv.URL)
	ctx := context.Background()

	t.Run("It sends the documented parameters and reads one series per target label set, each point stamped with its step's end.", func(t *testing.T) {
		got, err := c.VolumeRange(ctx, loki.VolumeQuery{Selector: `{job=~".+", env=~".*"}`, Start: end.Add(-3 * time.Minute), End: end,
			Step: time.Minute, Limit: 1000, TargetLabels: []string{"job"}, AggregateBy: loki.BySeries})
		if err != nil {
			t.Fatal(err)
		}
		stepEnd := func(d time.Duration) time.Time { return end.Add(d - time.Millisecond) }
		want := []loki.Series{
			{Labels: map[string]string{"job": "api"}, Samples: []loki.Sample{
				{Time: stepEnd(-2 * time.Minute), Value: float64(len("GET /orders 200"))},
				{Time: end, Value: float64(len("GET /orders 500") + len("GET /"))}}},
			{Labels: map[string]string{"job": "worker"}, Samples: []loki.Sample{{Time: stepEnd(-2 * time.Minute), Value: float64(len("job done"))}}},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("series %+v, want %+v", got, want)
		}
		f.mu.Lock()
		r := f.requests[len(f.requests)-1]
		f.mu.Unlock()
		q := r.URL.Query()
		if r.URL.Path != "/loki/api/v1/index/volume_range" || q.Get("query") != `{job=~".+", env=~".*"}` || q.Get("step") != "60" ||
			q.Get("limit") != "1000" || q.Get("targetLabels") != "job" || q.Get("aggregateBy") != "series" ||
			q.Get("start") != strconv.FormatInt(end.Add(-3*time.Minute).UnixNano(), 10) || q.Get("end") != strconv.FormatInt(end.UnixNano(), 10) {
			t.Errorf("request %s", r.URL)
		}
	})

	answer := func(t *testing.T, status int, body string) *loki.Client {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			io.WriteString(w, body)
		}))
		t.Cleanup(srv.Close)
		return newClient(t, srv.URL)
	}
	q := loki.VolumeQuery{Selector: `{job=~".+"}`, Start: end.Add(-time.Hour), End: end, Step: time.Hour}

	t.Run("A vector, Loki's answer when no series has more than one point, is read as series of one point.", func(t *testing.T) {
		body := fmt.Sprintf(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"a"},"value":[%d,"2048"]}]}}`, end.Unix())
		got, err := answer(t, http.StatusOK, body).VolumeRange(ctx, q)
		want := []loki.Series{{Labels: map[string]string{"job": "a"}, Samples: []loki.Sample{{Time: end, Value: 2048}}}}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("series %+v, %v; want %+v", got, err, want)
		}
	})

	t.Run("Volume disabled is Loki's 404 not found: ErrNotSupported; other refusals are errors as they are.", func(t *testing.T) {
		if _, err := answer(t, http.StatusNotFound, "not found\n").VolumeRange(ctx, q); !errors.Is(err, loki.ErrNotSupported) {
			t.Errorf("error %v, want ErrNotSupported", err)
		}
		_, err := answer(t, http.StatusBadRequest, "the query hit the max number of series limit (limit: 1000 series)").VolumeRange(ctx, q)
		var apiErr *loki.APIError
		if errors.Is(err, loki.ErrNotSupported) || !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest {
			t.Errorf("error %v, want the HTTP 400", err)
		}
	})

	t.Run("An answer that is not a matrix or a vector, or a point that is not a number, is an error of the endpoint.", func(t *testing.T) {
		for _, body := range []string{
			`{"status":"success","data":{"resultType":"streams","result":[]}}`,
			`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"x"]]}]}}`,
			`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":["1","2"]}]}}`,
		} {
			if _, err := answer(t, http.StatusOK, body).VolumeRange(ctx, q); err == nil || !strings.Contains(err.Error(), "decoding /loki/api/v1/index/volume_range") {
				t.Errorf("%s: error %v", body, err)
			}
		}
	})

	t.Run("A target label that is not a label name is refused before any request.", func(t *testing.T) {
		n := len(f.paths())
		if _, err := c.VolumeRange(ctx, loki.VolumeQuery{Selector: `{job=~".+"}`, Start: end.Add(-time.Hour), End: end, TargetLabels: []string{"job,env"}}); err == nil || len(f.paths()) != n {
			t.Errorf("error %v after %d requests", err, len(f.paths())-n)
		}
	})
}

func TestClientCredentialsAndTenant(t *testing.T) {
	t.Parallel()
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("rpc error: code = Unavailable desc = all ingesters down\n"))
	}))
	t.Cleanup(srv.Close)
	url := strings.Replace(srv.URL, "http://", "http://loki-user:pa55w0rd@", 1)
	c, err := loki.NewClient(httpconfig.Options{URL: url, Headers: map[string]string{"X-Scope-OrgID": "team-a"}, Attempts: 2, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}

	_, err = c.Labels(context.Background(), time.Now().Add(-time.Hour), time.Now())
	if err == nil {
		t.Fatal("no error from an HTTP 500")
	}
	if user, pass, ok := got.BasicAuth(); !ok || user != "loki-user" || pass != "pa55w0rd" {
		t.Errorf("basic auth %q %q %v", user, pass, ok)
	}
	if tenant := got.Header.Get("X-Scope-OrgID"); tenant != "team-a" {
		t.Errorf("X-Scope-OrgID %q", tenant)
	}
	if want := "/loki/api/v1/labels: HTTP 500: rpc error: code = Unavailable desc = all ingesters down"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if strings.Contains(c.URL(), "pa55w0rd") || strings.Contains(err.Error(), "pa55w0rd") {
		t.Errorf("the password leaked: url %q, error %q", c.URL(), err)
	}
}
