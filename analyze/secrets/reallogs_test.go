package secrets_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze/secrets"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

// lokiS3Secret is a fake secret Loki is configured with. Loki prints its configuration at
// start (-log-config-reverse-order), this secret included: the one secret the servers' own
// logs are expected to hold.
const lokiS3Secret = "s8Stqcbnr3yBdGBLEPH1qhT61qtc4xatws8pFAKE"

// TestRealLogs runs the servers blindspot audits, makes them log the way an audit does (Loki
// is fed the other servers' logs and queried like the collector queries it), and counts what
// the patterns find in every line they wrote.
func TestRealLogs(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus 2 and 3, node exporters, Pushgateways and Loki")
	}
	t.Parallel()
	ps := patterns(t)
	filter := secrets.LineFilter(ps)

	bins := servers.Find(t)
	procs := map[string]*servers.Process{}
	for name, bin := range map[string]string{"prometheus3": bins.Prometheus3, "prometheus2": bins.Prometheus2} {
		s := servers.StartScenario(t, bin)
		procs[name] = s.Prometheus
		procs[name+"-pushgateway"] = s.Pushgateway
		procs[name+"-node-exporter"] = s.NodeExporter
		// Each reload logs the configuration's loading and the rule manager's restart.
		for range 10 {
			post(t, s.PrometheusURL+"/-/reload", "", nil)
		}
	}
	loki := startLoki(t, bins.Loki)
	procs["loki"] = loki.process

	t.Run("Loki accepts the line filter and passes every positive sample through it, in any case.", func(t *testing.T) {
		// Loki rewrites the filter into substring tests; (?i)(secret|sk_live_|…) lost lines
		// here (see LineFilter).
		var lines []string
		for _, p := range ps {
			for _, l := range p.Positive {
				lines = append(lines, l, strings.ToUpper(l))
			}
		}
		loki.push(t, map[string]string{"job": "secret-samples"}, lines)
		got := loki.lines(t, `{job="secret-samples"} `+filter)
		for _, l := range lines {
			if !slices.Contains(got, l) {
				t.Errorf("Loki did not return\n  %s", l)
			}
		}
		// The collector's count query (metric query, filter inside a range aggregation).
		loki.query(t, "/loki/api/v1/query", url.Values{"query": {`sum by (job) (count_over_time({job=~".+"} ` + filter + ` [1h]))`}})
	})

	// What an audit asks a Loki: streams, line counts, keyword counts, and samples per stream.
	names := slices.Sorted(maps.Keys(procs))
	for round := range 4 {
		for _, name := range names {
			if name == "loki" {
				continue
			}
			loki.push(t, map[string]string{"job": name, "round": strconv.Itoa(round)}, readLines(t, procs[name].LogPath))
		}
		loki.query(t, "/loki/api/v1/series", url.Values{"match": {`{job=~".+"}`}})
		loki.query(t, "/loki/api/v1/labels", nil)
		for _, name := range names {
			sel := fmt.Sprintf(`{job=%q}`, name)
			loki.query(t, "/loki/api/v1/query", url.Values{"query": {`sum by (job, round) (count_over_time(` + sel + ` [1h]))`}})
			loki.query(t, "/loki/api/v1/query", url.Values{"query": {`sum by (job, round) (count_over_time(` + sel + ` ` + filter + ` [1h]))`}})
			loki.lines(t, sel+" "+filter)
		}
	}

	t.Run("The servers' logs hold no secret but the S3 secret Loki was configured with.", func(t *testing.T) {
		total, keywordLines, matches := 0, 0, map[string]int{}
		var report []string
		for _, name := range names {
			lines := readLines(t, procs[name].LogPath)
			total += len(lines)
			report = append(report, fmt.Sprintf("%s %d", name, len(lines)))
			for _, line := range lines {
				if hasKeyword(line, ps) {
					keywordLines++
				}
				for _, m := range secrets.Scan(line, ps) {
					matches[m.Pattern]++
					expected := name == "loki" && m.Pattern == "aws-secret-access-key" && line[m.Start:m.End] == lokiS3Secret
					if !expected {
						t.Errorf("%s: %s matches\n  %s", name, m.Pattern, secrets.Mask(line, ps))
					}
				}
			}
		}
		t.Logf("%d lines scanned (%s), %d of them with a keyword; matches per pattern: %v", total, strings.Join(report, ", "), keywordLines, matches)
		if matches["aws-secret-access-key"] != 1 {
			t.Errorf("the S3 secret Loki printed was found %d times, want 1", matches["aws-secret-access-key"])
		}
		if total < 2000 {
			t.Errorf("only %d lines: too few to say anything about false positives", total)
		}
	})
}

// lokiServer is a Loki 1.6.1 started by startLoki.
type lokiServer struct {
	url     string
	process *servers.Process
	// next is the timestamp of the next pushed entry: Loki 1.x rejects entries older than the
	// last of their stream.
	next time.Time
}

// startLoki starts Loki with debug logging and its configuration printed at start, which is
// how its log gets long and varied; servers.StartLoki runs a quiet one.
func startLoki(t *testing.T, bin string) *lokiServer {
	t.Helper()
	dir := t.TempDir()
	addr := "127.0.0.1:" + strconv.Itoa(servers.FreePort(t))
	// The schema starts yesterday: from an older date, the table manager creates (and logs)
	// one index table per week since.
	config := fmt.Sprintf(`auth_enabled: false
server:
  http_listen_address: 127.0.0.1
  http_listen_port: %d
  grpc_listen_address: 127.0.0.1
  grpc_listen_port: %d
  log_level: debug
ingester:
  lifecycler:
    address: 127.0.0.1
    ring:
      kvstore:
        store: inmemory
      replication_factor: 1
    final_sleep: 0s
    join_after: 0s
    min_ready_duration: 0s
  max_transfer_retries: 0
schema_config:
  configs:
    - from: %s
      store: boltdb
      object_store: filesystem
      schema: v11
      index:
        prefix: index_
        period: 168h
storage_config:
  boltdb:
    directory: %s
  filesystem:
    directory: %s
  aws:
    s3: s3://FAKEACCESSKEY:FAKEs3cretFAKE@eu-west-1/chunks
    secret_access_key: %s
limits_config:
  enforce_metric_name: false
  reject_old_samples: false
`, portOf(t, addr), servers.FreePort(t), time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly),
		filepath.Join(dir, "index"), filepath.Join(dir, "chunks"), lokiS3Secret)
	configFile := filepath.Join(dir, "loki.yaml")
	if err := os.WriteFile(configFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	p := servers.StartProcess(t, "loki", bin, "-config.file="+configFile, "-log-config-reverse-order")
	l := &lokiServer{url: "http://" + addr, process: p, next: time.Now()}
	p.WaitReady(t, l.url+"/ready")
	return l
}

func portOf(t testing.TB, addr string) int {
	t.Helper()
	_, port, _ := strings.Cut(addr, ":")
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// push sends lines as one stream, a microsecond apart.
func (l *lokiServer) push(t testing.TB, labels map[string]string, lines []string) {
	t.Helper()
	if len(lines) == 0 {
		return
	}
	values := make([][2]string, len(lines))
	for i, line := range lines {
		l.next = l.next.Add(time.Microsecond)
		values[i] = [2]string{strconv.FormatInt(l.next.UnixNano(), 10), line}
	}
	body, err := json.Marshal(map[string]any{"streams": []any{map[string]any{"stream": labels, "values": values}}})
	if err != nil {
		t.Fatal(err)
	}
	post(t, l.url+"/loki/api/v1/push", "application/json", body)
}

// lines runs a log query over the last hour and returns the lines.
func (l *lokiServer) lines(t testing.TB, query string) []string {
	t.Helper()
	var data struct {
		Result []struct {
			Values [][2]string `json:"values"`
		} `json:"result"`
	}
	l.queryInto(t, "/loki/api/v1/query_range", url.Values{
		"query": {query}, "limit": {"5000"},
		"start": {strconv.FormatInt(time.Now().Add(-time.Hour).UnixNano(), 10)},
		"end":   {strconv.FormatInt(l.next.Add(time.Second).UnixNano(), 10)},
	}, &data)
	var out []string
	for _, s := range data.Result {
		for _, v := range s.Values {
			out = append(out, v[1])
		}
	}
	return out
}

func (l *lokiServer) query(t testing.TB, path string, params url.Values) {
	t.Helper()
	var data json.RawMessage
	l.queryInto(t, path, params, &data)
}

// queryInto GETs a Loki API path and decodes the data of a successful answer.
func (l *lokiServer) queryInto(t testing.TB, path string, params url.Values, data any) {
	t.Helper()
	status, body := servers.Get(t, l.url+path+"?"+params.Encode())
	if status != http.StatusOK {
		t.Fatalf("GET %s %v: HTTP %d: %.300s", path, params, status, body)
	}
	envelope := struct {
		Status string `json:"status"`
		Data   any    `json:"data"`
	}{Data: data}
	if err := json.Unmarshal(body, &envelope); err != nil || envelope.Status != "success" {
		t.Fatalf("GET %s %v: %v: %.300s", path, params, err, body)
	}
}

func post(t testing.TB, url, contentType string, body []byte) {
	t.Helper()
	resp, err := http.Post(url, contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST %s: HTTP %d: %.300s", url, resp.StatusCode, answer)
	}
}
