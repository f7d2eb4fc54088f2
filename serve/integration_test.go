package serve_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze/gapmetrics"
	"github.com/blindspot-dev/blindspot/internal/servers"
	"github.com/blindspot-dev/blindspot/serve"
)

// TestServeLive audits a real Prometheus of each major as serve does: a gap fixed between two
// audits is shown resolved at the top of the page and leaves the gap metrics, and a
// Prometheus that went away makes the next audit partial while the server keeps serving.
func TestServeLive(t *testing.T) {
	bins := servers.Find(t)
	bins.ForEachPrometheus(t, func(t *testing.T, binary string) {
		ctx := context.Background()
		sc := servers.StartScenario(t, binary, servers.WithHostileJob())
		sc.WaitForFirstScrapes(t)
		s, err := serve.New(serve.Options{Audit: auditOf(t, sc.PrometheusURL)})
		if err != nil {
			t.Fatal(err)
		}
		h := httptest.NewServer(s.Handler())
		t.Cleanup(h.Close)
		if err := s.Audit(ctx); err != nil {
			t.Fatal(err)
		}
		missingUp := `check=alerts/missing-up,severity=critical`
		before := series(scrape(t, h.URL)[gapmetrics.Findings])[missingUp]
		if before < 1 {
			t.Fatalf("blindspot_findings of alerts/missing-up = %v before the fix, want payments-api's among them", before)
		}

		t.Run("A gap fixed between two audits is shown resolved first on the page, and counted no more.", func(t *testing.T) {
			fix := filepath.Join(t.TempDir(), "fix.yml")
			if err := os.WriteFile(fix, []byte(`groups:
  - name: payments
    rules:
      - alert: PaymentsAPIDown
        expr: up{job="payments-api"} == 0
        for: 2m
        labels: {severity: critical, team: payments}
        annotations: {runbook_url: "https://runbooks.example/PaymentsAPIDown"}
`), 0o644); err != nil {
				t.Fatal(err)
			}
			sc.AddRuleFiles(t, fix)
			if err := s.Audit(ctx); err != nil {
				t.Fatal(err)
			}
			_, page := get(t, h.URL+"/")
			changes, _, _ := strings.Cut(page, `<section id="sources"`)
			if want := `<li><code>alerts/missing-up</code> job=&#34;` + servers.JobPaymentsAPI + `&#34;</li>`; !strings.Contains(changes, want) {
				t.Errorf("the page does not show first %s resolved:\n%s", want, changes)
			}
			if got := series(scrape(t, h.URL)[gapmetrics.Findings])[missingUp]; got != before-1 {
				t.Errorf("blindspot_findings of alerts/missing-up = %v after the fix, want one less than the %v before", got, before)
			}
		})

		t.Run("A Prometheus that went away makes the next audit partial; the server keeps serving and says so.", func(t *testing.T) {
			sc.Prometheus.Stop()
			if err := s.Audit(ctx); err != nil {
				t.Fatalf("the audit of a Prometheus that is down failed instead of being partial: %v", err)
			}
			mfs := scrape(t, h.URL)
			if got := series(mfs[gapmetrics.SourceUp])["source=prometheus"]; got != 0 {
				t.Errorf("blindspot_source_up of prometheus = %v, want 0", got)
			}
			if got := series(mfs[serve.SourceErrors])["source=prometheus"]; got != 1 {
				t.Errorf("%s of prometheus = %v, want 1", serve.SourceErrors, got)
			}
			if got := series(mfs[serve.AuditsTotal]); got["result=partial"] != 1 || got["result=complete"] != 2 {
				t.Errorf("%s = %v, want 2 complete and 1 partial", serve.AuditsTotal, got)
			}
			if code, page := get(t, h.URL+"/"); code != 200 || !strings.Contains(page, "Some sources could not be read completely") {
				t.Errorf("/: %d, not the partial report", code)
			}
		})
	})
}
