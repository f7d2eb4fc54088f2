package rulesets_test

import (
	"path"
	"testing"

	"github.com/blindspot-dev/blindspot/rulesets"
)

func TestDefaultBusiness(t *testing.T) {
	t.Parallel()

	b, err := rulesets.DefaultBusiness()
	if err != nil {
		t.Fatal(err)
	}

	t.Run("The embedded file parses and every glob is valid path.Match syntax.", func(t *testing.T) {
		if len(b.Exclude) == 0 || len(b.Staleness) == 0 {
			t.Fatalf("%d exclusions, %d staleness globs", len(b.Exclude), len(b.Staleness))
		}
		for _, list := range [][]string{b.Exclude, b.Staleness} {
			for _, g := range list {
				if _, err := path.Match(g, "x"); err != nil || g == "" {
					t.Errorf("glob %q: %v", g, err)
				}
			}
		}
	})

	t.Run("Runtime and exporter internals are excluded; application counters are not.", func(t *testing.T) {
		exclude := rulesets.NewGlobs(b.Exclude)
		for _, name := range []string{
			"go_gc_cycles_automatic_gc_cycles_total", "process_cpu_seconds_total", "promhttp_metric_handler_requests_total",
			"prometheus_http_requests_total", "scrape_samples_scraped", "up", "net_conntrack_dialer_conn_failed_total",
			"node_cpu_seconds_total", "push_time_seconds", "pushgateway_http_requests_total", "alertmanager_notifications_total",
			"blackbox_exporter_config_last_reload_successful", "probe_success", "mysqld_exporter_scrapes_total",
			"grpc_server_msg_received_total", "grpc_client_handled_total", "kube_pod_info", "jvm_gc_pause_seconds_count",
		} {
			if !exclude.Match(name) {
				t.Errorf("%s is not excluded", name)
			}
		}
		for _, name := range []string{
			"invoices_created_total", "orders_placed_total", "http_requests_total", "grpc_server_handled_total",
			"billing_last_success_timestamp_seconds", "payments_captured_total",
		} {
			if exclude.Match(name) {
				t.Errorf("%s is excluded", name)
			}
		}
	})

	t.Run("Last-success gauges of batch jobs are staleness gauges.", func(t *testing.T) {
		staleness := rulesets.NewGlobs(b.Staleness)
		for _, name := range []string{"billing_last_success_timestamp_seconds", "backup_last_run_timestamp_seconds", "job_last_success_unixtime"} {
			if !staleness.Match(name) {
				t.Errorf("%s is not a staleness gauge", name)
			}
		}
		if staleness.Match("invoices_created_total") {
			t.Error("a counter is a staleness gauge")
		}
	})

	t.Run("The defaults are a copy the caller may change.", func(t *testing.T) {
		first, _ := rulesets.DefaultBusiness()
		first.Exclude[0] = "changed"
		again, _ := rulesets.DefaultBusiness()
		if again.Exclude[0] == "changed" {
			t.Error("DefaultBusiness shares its slices")
		}
	})
}

func TestGlobs(t *testing.T) {
	t.Parallel()

	t.Run("Globs match exactly what path.Match matches, fast paths included.", func(t *testing.T) {
		globs := []string{"go_*", "*_total", "up", "a?c", "x[0-9]*", "*mid*", `lit\*`, "*_ex/p_*", "**"}
		names := []string{"go_goroutines", "go_", "go/x", "orders_total", "a/b_total", "_total", "up", "upx", "abc", "ac",
			"x1y", "xy", "amidb", "lit*", "lit", "", "mid", "a/mid", "mid/b", "mi/d", "a_ex/p_b", "_ex/p_", "a/_ex/p_b", "*", "a/b"}
		g := rulesets.NewGlobs(globs)
		for _, name := range names {
			want := false
			for _, glob := range globs {
				if ok, _ := path.Match(glob, name); ok {
					want = true
				}
			}
			if got := g.Match(name); got != want {
				t.Errorf("Match(%q) = %v, path.Match says %v", name, got, want)
			}
		}
	})

	t.Run("An invalid glob matches nothing and CheckGlobs names it.", func(t *testing.T) {
		if rulesets.NewGlobs([]string{"[a-"}).Match("[a-") {
			t.Error("an invalid glob matched")
		}
		if err := rulesets.CheckGlobs([]string{"ok_*", "[a-"}); err == nil {
			t.Error("CheckGlobs accepted an invalid glob")
		}
		if !rulesets.NewGlobs(nil).Empty() || rulesets.NewGlobs([]string{"x"}).Empty() {
			t.Error("Empty is wrong")
		}
	})
}
