package alertmanager_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/dispatch"
	"github.com/prometheus/common/model"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/generate/alertmanager"
	"github.com/blindspot-dev/blindspot/internal/golden"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

// inventory has jobs of two teams, one with a name that needs quoting, and one without team.
func inventory() *analyze.Inventory {
	b := analyze.NewBuilder(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC))
	b.AddPart(analyze.PartTargets)
	for _, job := range []string{"payments-api", "payments.worker", "search", "legacy"} {
		b.AddTarget(analyze.Target{Job: job, ScrapePool: job, Instance: job + ":80", Health: analyze.HealthUp})
	}
	return b.Build()
}

var options = generate.Options{Owners: []generate.Owner{
	{Jobs: "payments*", Team: "payments"},
	{Jobs: "search", Team: "search"},
	{Jobs: "billing", Team: "billing"},
}}

var unrouted = []analyze.Finding{analyze.NewFinding(checks.AlertsUnroutedName, analyze.Critical, map[string]string{"rule": "Down"}, "pages nobody", nil)}

func render(t *testing.T) []byte {
	t.Helper()
	files, err := alertmanager.Files(inventory(), unrouted, options)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].Path != "alertmanager/routes.yaml" {
		t.Fatalf("files %+v", files)
	}
	return files[0].Content
}

func TestRoutes(t *testing.T) {
	t.Run("Without a routing finding nothing is written.", func(t *testing.T) {
		files, err := alertmanager.Files(inventory(), nil, options)
		if err != nil || files != nil {
			t.Errorf("files %+v, err %v", files, err)
		}
	})

	t.Run("The routing tree matches the golden file, starts with the header and renders the same twice.", func(t *testing.T) {
		got := render(t)
		if !bytes.HasPrefix(got, []byte("# "+generate.Header+"\n")) {
			t.Errorf("no header:\n%s", got)
		}
		if again := render(t); !bytes.Equal(got, again) {
			t.Error("a second render differs")
		}
		path := filepath.Join("testdata", "routes.yaml")
		golden.Check(t, path, got)
	})

	t.Run("Alertmanager's routing tree sends each alert where the design says.", func(t *testing.T) {
		cfg, err := amconfig.Load(string(render(t)))
		if err != nil {
			t.Fatal(err)
		}
		root := dispatch.NewRoute(cfg.Route, nil)
		for _, tc := range []struct {
			labels model.LabelSet
			want   string
		}{
			{model.LabelSet{"alertname": "Watchdog", "severity": "none"}, "heartbeat"},
			{model.LabelSet{"alertname": "A", "team": "payments", "severity": "critical"}, "payments-pager"},
			{model.LabelSet{"alertname": "A", "team": "payments", "severity": "warning"}, "payments-chat"},
			{model.LabelSet{"alertname": "A", "job": "payments.worker", "severity": "critical"}, "payments-pager"},
			// The dot is escaped: another job does not match the team's regular expression.
			{model.LabelSet{"alertname": "A", "job": "paymentsXworker", "severity": "critical"}, "default-pager"},
			{model.LabelSet{"alertname": "A", "job": "search", "severity": "warning"}, "search-chat"},
			{model.LabelSet{"alertname": "A", "team": "billing", "severity": "critical"}, "billing-pager"},
			{model.LabelSet{"alertname": "A", "job": "legacy", "severity": "critical"}, "default-pager"},
			{model.LabelSet{"alertname": "A", "job": "legacy", "severity": "warning"}, "default-chat"},
		} {
			matched := root.Match(tc.labels)
			if len(matched) != 1 || matched[0].RouteOpts.Receiver != tc.want {
				var got []string
				for _, m := range matched {
					got = append(got, m.RouteOpts.Receiver)
				}
				t.Errorf("%v reaches %v, want %s", tc.labels, got, tc.want)
			}
		}
		if len(cfg.InhibitRules) != 1 || strings.Join(cfg.InhibitRules[0].Equal, ",") != "job" {
			t.Errorf("inhibit rules %+v", cfg.InhibitRules)
		}
	})

	t.Run("amtool check-config accepts the file.", func(t *testing.T) {
		bins := servers.FindAlertmanager(t)
		path := filepath.Join(t.TempDir(), "routes.yaml")
		if err := os.WriteFile(path, render(t), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bins.Amtool, "check-config", path).CombinedOutput()
		if err != nil {
			t.Fatalf("amtool check-config: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "SUCCESS") {
			t.Errorf("amtool check-config said:\n%s", out)
		}
	})

	t.Run("Two teams whose receiver names collide are an error, not a silently merged route.", func(t *testing.T) {
		_, err := alertmanager.Render([]alertmanager.Team{{Name: "a"}, {Name: "a"}}, generate.Options{})
		if err == nil || !strings.Contains(err.Error(), `"a-pager"`) {
			t.Errorf("err %v", err)
		}
	})
}
