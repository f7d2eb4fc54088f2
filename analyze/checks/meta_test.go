package checks_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestMeta(t *testing.T) {
	metas := checks.Metas()

	t.Run("Every check of the registry declares its ID, severity, parts, subject, scope and what it finds.", func(t *testing.T) {
		if got, want := len(metas), len(checks.All(checks.Options{})); got != want {
			t.Fatalf("%d metas for %d checks", got, want)
		}
		for _, m := range metas {
			if m.ID == "" || len(m.Requires) == 0 || len(m.SubjectKeys) == 0 || m.Scope == "" || m.Summary == "" || m.Finds == "" {
				t.Errorf("%s declares too little: %+v", m.ID, m)
			}
			if strings.Contains(m.Summary+m.Finds+m.SubjectDoc, "|") {
				t.Errorf("%s: a | would break the documentation's tables", m.ID)
			}
		}
	})

	t.Run("Every column of the coverage matrix is decided by exactly one check.", func(t *testing.T) {
		for _, c := range []checks.Column{
			checks.ColumnScraped, checks.ColumnUpAlert, checks.ColumnAbsenceAlert, checks.ColumnBusiness, checks.ColumnLogs,
			checks.ColumnSecrets, checks.ColumnRunbooks, checks.ColumnDashboards, checks.ColumnPages,
		} {
			var deciding []string
			for _, m := range metas {
				if m.MatrixColumn == c {
					deciding = append(deciding, m.ID)
				}
			}
			if len(deciding) != 1 || checks.ColumnCheck(c) != deciding[0] {
				t.Errorf("column %s is decided by %q (ColumnCheck %q)", c, deciding, checks.ColumnCheck(c))
			}
		}
	})

	t.Run("The checks that judge jobs name a job in their subject.", func(t *testing.T) {
		for _, m := range metas {
			if m.GroupByJob && !slices.Contains(m.SubjectKeys, "job") && m.Scope != checks.ScopeScrapePool && m.Scope != checks.ScopeStream {
				t.Errorf("%s groups by job but its subject %q names none", m.ID, m.SubjectKeys)
			}
		}
	})

	t.Run("MetaOf finds a check of the registry and nothing else.", func(t *testing.T) {
		if m, ok := checks.MetaOf(checks.TargetsDownName); !ok || m.Severity != analyze.Critical || !slices.Equal(m.Requires, []analyze.Part{analyze.PartTargets}) {
			t.Errorf("MetaOf(targets/down) = %+v, %v", m, ok)
		}
		if _, ok := checks.MetaOf("targets/up"); ok {
			t.Error("MetaOf found a check that does not exist")
		}
	})
}

func TestGeneratedDurations(t *testing.T) {
	inv := coverageInventory()
	// wantFixes checks that check reports on inv under o and that each of its fixes ends in
	// suffix.
	wantFixes := func(t *testing.T, o checks.Options, check, suffix string) {
		t.Helper()
		var fixes []string
		for _, c := range checks.All(o) {
			if c.Meta().ID != check {
				continue
			}
			for _, f := range c.Run(inv, checks.Derive(inv, o)) {
				fixes = append(fixes, f.Fix)
			}
		}
		if len(fixes) == 0 {
			t.Fatalf("no %s finding", check)
		}
		for _, f := range fixes {
			if !strings.HasSuffix(f, suffix) {
				t.Errorf("fix %q, want it to end in %q", f, suffix)
			}
		}
	}

	t.Run("Without generate options the fixes quote generate's defaults, 2m and 5m.", func(t *testing.T) {
		wantFixes(t, checks.Options{}, checks.AlertsMissingUpName, " for 2m")
		wantFixes(t, checks.Options{}, checks.AlertsMissingAbsentName, " for 5m")
	})

	t.Run("With up_for: 5m the up alert's fix says for 5m; absent_for sets the absence alert's.", func(t *testing.T) {
		o := checks.Options{Generated: checks.Generated{UpFor: 5 * time.Minute, AbsentFor: 90 * time.Minute}}
		wantFixes(t, o, checks.AlertsMissingUpName, " == 0 for 5m")
		wantFixes(t, o, checks.AlertsMissingAbsentName, " for 1h30m")
	})
}

func TestGeneratedBusinessAlerts(t *testing.T) {
	t.Run("The business fixes quote generate's business window and stale_after.", func(t *testing.T) {
		b := newBuilder(analyze.PartJobMetrics, analyze.PartRules)
		b.AddJobMetric("billing", "invoices_created_total")
		b.AddJobMetric("billing", "billing_last_success_timestamp_seconds")
		inv := b.Build()
		o := checks.Options{Generated: checks.Generated{BusinessWindow: 30 * time.Minute, StaleAfter: 49 * time.Hour}}
		var got []string
		for _, f := range checks.NewAlertsMissingBusiness(o).Run(inv, checks.Derive(inv, o)) {
			got = append(got, f.Fix)
		}
		slices.Sort(got)
		want := []string{
			`blindspot generate writes an alert on rate(invoices_created_total{job="billing"}[30m]) == 0`,
			`blindspot generate writes an alert on time() - billing_last_success_timestamp_seconds{job="billing"} > 176400 (2d1h without a success)`,
		}
		if !slices.Equal(got, want) {
			t.Errorf("fixes %q, want %q", got, want)
		}
	})
}

func TestDerive(t *testing.T) {
	t.Run("Without an Alertmanager configuration the paging receivers are unknown; without dashboards, the dashboards of each job.", func(t *testing.T) {
		d := checks.Derive(coverageInventory(), checks.Options{})
		if d.Pages != nil || d.Dashboards != nil {
			t.Errorf("pages %v, dashboards %v", d.Pages, d.Dashboards)
		}
		if len(d.Matrix) == 0 || d.Coverage == nil {
			t.Errorf("matrix %v", d.Matrix)
		}
	})

	t.Run("The dashboards the inventory holds are judged: dashboards/missing reads them from the inventory.", func(t *testing.T) {
		inv := withDashboards(coverageInventory(), []analyze.Dashboard{})
		d := checks.Derive(inv, checks.Options{})
		if d.Dashboards == nil {
			t.Fatal("dashboards of jobs nil with an empty list of dashboards read")
		}
		got := subjects(checks.DashboardsMissing{}.Run(inv, d))
		if !slices.Equal(got, []string{"job=node"}) {
			t.Errorf("subjects %q, want the job with up targets", got)
		}
	})
}
