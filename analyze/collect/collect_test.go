package collect_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/internal/fakegrafana"
	"github.com/blindspot-dev/blindspot/internal/testcorpus"
)

func titles(res *collect.Result) []string {
	var out []string
	for _, d := range res.Inventory.Dashboards {
		out = append(out, d.Title)
	}
	slices.Sort(out)
	return out
}

func TestRunGrafana(t *testing.T) {
	fake := fakegrafana.New()
	fake.Token = "t"
	if err := fake.AddDashboardFiles("", testcorpus.File(t, "dashboards/node-exporter-full.json")); err != nil {
		t.Fatal(err)
	}
	srv := fake.Start()
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "team.json")
	os.WriteFile(file, []byte(`{"uid": "team", "title": "Team", "panels": [{"targets": [{"expr": "up{job=\"team\"}"}]}]}`), 0o644)

	t.Run("A Grafana's dashboards and dashboard files are judged together.", func(t *testing.T) {
		res, err := collect.Run(context.Background(), collect.Options{
			Grafana:        &httpconfig.Options{URL: srv.URL, BearerToken: "t"},
			DashboardFiles: []string{file},
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := titles(res); !slices.Equal(got, []string{"Node Exporter Full", "Team"}) {
			t.Errorf("dashboards %q", got)
		}
		if !res.Inventory.Has(analyze.PartDashboards) || res.Grafana == nil || len(res.Grafana.Dashboards) != 1 {
			t.Errorf("part %v, grafana result %v", res.Inventory.Has(analyze.PartDashboards), res.Grafana)
		}
		src := res.Inventory.Sources[0]
		if src.Name != "grafana" || src.Kind != "live" || src.URL != srv.URL || !src.OK() {
			t.Errorf("source %+v", src)
		}
	})

	t.Run("A Grafana refusing the token is a source error and its dashboards are not judged.", func(t *testing.T) {
		res, err := collect.Run(context.Background(), collect.Options{
			Grafana: &httpconfig.Options{URL: srv.URL, BearerToken: "wrong", Attempts: 1},
		})
		if err != nil {
			t.Fatal(err)
		}
		src := res.Inventory.Sources[0]
		if src.OK() || src.Errors[0].Part != analyze.PartDashboards || src.Errors[0].Err != "listing dashboards: HTTP 401: Unauthorized" {
			t.Errorf("source %+v", src)
		}
		if res.Inventory.Has(analyze.PartDashboards) || res.Inventory.Dashboards != nil {
			t.Errorf("part %v, %d dashboards", res.Inventory.Has(analyze.PartDashboards), len(res.Inventory.Dashboards))
		}
	})
}

func TestRunDashboardMetrics(t *testing.T) {
	t.Run("Dashboards whose metrics a snapshot was not asked about leave them unknown, and the Prometheus source says so.", func(t *testing.T) {
		res, err := collect.Run(context.Background(), collect.Options{
			Snapshot:       os.DirFS("../../testdata/demo"),
			SnapshotName:   "demo",
			DashboardFiles: []string{testcorpus.File(t, "dashboards/node-exporter-full.json")},
		})
		if err != nil {
			t.Fatal(err)
		}
		inv := res.Inventory
		if len(inv.ExposedBy) != 0 {
			t.Errorf("ExposedBy holds %d names, want none known", len(inv.ExposedBy))
		}
		src := inv.Sources[slices.IndexFunc(inv.Sources, func(s analyze.Source) bool { return s.Name == "prometheus" })]
		if !src.OK() || !slices.ContainsFunc(src.Notes, func(n string) bool {
			return strings.HasPrefix(n, "which jobs expose ") && strings.Contains(n, " metrics the dashboards read is unknown (not in the snapshot)")
		}) {
			t.Errorf("prometheus source %+v", src)
		}
	})

}

func TestRunDashboardMetricsOfTheDemo(t *testing.T) {
	res, err := collect.Run(context.Background(), collect.Options{Snapshot: os.DirFS("../../testdata/demo"), SnapshotName: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("The demo was recorded with its dashboard's metrics: which job exposes each is known.", func(t *testing.T) {
		got := res.Inventory.ExposedBy
		if !slices.Equal(got["node_uname_info"], []string{"node"}) || !slices.Equal(got["node_cpu_seconds_total"], []string{"node"}) {
			t.Errorf("node_uname_info %v, node_cpu_seconds_total %v", got["node_uname_info"], got["node_cpu_seconds_total"])
		}
		if jobs, ok := got["kube_node_info"]; !ok || len(jobs) != 0 {
			t.Errorf("kube_node_info: %v (known %v), want known and exposed by none", jobs, ok)
		}
		for _, s := range res.Inventory.Sources {
			if len(s.Notes) > 0 && s.Name == "prometheus" {
				t.Errorf("prometheus notes %q", s.Notes)
			}
		}
	})
}
