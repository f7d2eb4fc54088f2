package coverage_test

import (
	"slices"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
)

// readBy lists the alerts that read a job's metric without covering it.
func readBy(a *coverage.Analysis, job, metric string) []string {
	var out []string
	for _, m := range a.Business(job) {
		if m.Metric != metric {
			continue
		}
		for _, r := range m.ReadBy {
			out = append(out, r.Name)
		}
	}
	return out
}

func TestBusinessCoverageFiresWhenTheCounterStops(t *testing.T) {
	t.Parallel()
	oneJob := map[string][]string{"billing": {"invoices_created_total"}}
	twoJobs := map[string][]string{"billing": {"invoices_created_total"}, "billing-eu": {"invoices_created_total"}}
	tests := []struct {
		name    string
		metrics map[string][]string
		expr    string
		covers  bool
	}{
		{"rate(x[5m]) == 0 covers the counter.", oneJob, `rate(invoices_created_total[5m]) == 0`, true},
		{"increase(x[1h]) < 1 covers the counter.", oneJob, `increase(invoices_created_total[1h]) < 1`, true},
		{"rate(x[5m]) <= 0.01 covers the counter.", oneJob, `rate(invoices_created_total[5m]) <= 0.01`, true},
		{"changes(x[1h]) == 0 covers the counter.", oneJob, `changes(invoices_created_total[1h]) == 0`, true},
		{"sum by (job) (rate(x[5m])) == 0 covers the counter of every job.", twoJobs, `sum by (job) (rate(invoices_created_total[5m])) == 0`, true},
		{"A drop against last week's rate covers the counter.", oneJob, `rate(invoices_created_total[10m]) < 0.5 * rate(invoices_created_total[10m] offset 1w)`, true},
		{"rate(x[5m]) > 100, an alert on the rate going above a threshold, does not cover the counter.", oneJob, `rate(invoices_created_total[5m]) > 100`, false},
		{"rate(x[5m]) > 0 fires while the counter increases and does not cover it.", oneJob, `rate(invoices_created_total[5m]) > 0`, false},
		{"A threshold on the counter's raw value does not cover it.", oneJob, `invoices_created_total > 1e6`, false},
		{"resets(x[1h]) > 0 does not cover the counter.", oneJob, `resets(invoices_created_total[1h]) > 0`, false},
		{"absent(x) does not fire while the counter is present and flat, and does not cover it.", oneJob, `absent(invoices_created_total{job="billing"})`, false},
		{"absent_over_time(x[1h]) does not cover the counter either.", oneJob, `absent_over_time(invoices_created_total{job="billing"}[1h])`, false},
		{"sum(rate(x[5m])) == 0 covers the counter of a job that is alone.", oneJob, `sum(rate(invoices_created_total[5m])) == 0`, true},
		{"sum(rate(x[5m])) == 0 does not cover a job while another job's counter increases.", twoJobs, `sum(rate(invoices_created_total[5m])) == 0`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := coverage.Analyze(businessInventory(tt.metrics, alertRule("InvoicesAlert", tt.expr)), coverage.Options{})
			want := []string{"invoices_created_total counter"}
			wantReadBy := []string{"InvoicesAlert"}
			if tt.covers {
				want, wantReadBy = []string{"invoices_created_total counter InvoicesAlert"}, nil
			}
			assertBusiness(t, a, "billing", want...)
			if got := readBy(a, "billing", "invoices_created_total"); !slices.Equal(got, wantReadBy) {
				t.Errorf("read by %q, want %q", got, wantReadBy)
			}
		})
	}

	t.Run("A rate-drop alert whose health is err covers nothing.", func(t *testing.T) {
		t.Parallel()
		r := alertRule("InvoicesStopped", `rate(invoices_created_total[10m]) == 0`)
		r.Health, r.LastError = "err", "many-to-many matching not allowed"
		a := coverage.Analyze(businessInventory(oneJob, r), coverage.Options{})
		assertBusiness(t, a, "billing", "invoices_created_total counter")
	})

	t.Run("An alert on a recording rule whose health is err covers nothing.", func(t *testing.T) {
		t.Parallel()
		rec := recordingRule("job:invoices_created:rate10m", `sum by (job) (rate(invoices_created_total[10m]))`)
		rec.Health = "err"
		a := coverage.Analyze(businessInventory(oneJob, rec, alertRule("InvoicesStopped", `job:invoices_created:rate10m == 0`)), coverage.Options{})
		assertBusiness(t, a, "billing", "invoices_created_total counter")
	})

	t.Run("A rate-drop alert joined on instance with a metric the job does not expose does not cover it.", func(t *testing.T) {
		t.Parallel()
		inv := businessInventory(map[string][]string{"billing": {"invoices_created_total"}, "node": {"node_uname_info"}},
			alertRule("InvoicesStopped", `rate(invoices_created_total[10m]) == 0 and on(instance) node_uname_info`))
		assertBusiness(t, coverage.Analyze(inv, coverage.Options{}), "billing", "invoices_created_total counter")
	})

	t.Run("A rate-drop alert joined on instance with a metric the job exposes covers it.", func(t *testing.T) {
		t.Parallel()
		inv := businessInventory(map[string][]string{"billing": {"invoices_created_total", "billing_build_info"}},
			alertRule("InvoicesStopped", `rate(invoices_created_total[10m]) == 0 and on(instance) billing_build_info`))
		assertBusiness(t, coverage.Analyze(inv, coverage.Options{}), "billing", "invoices_created_total counter InvoicesStopped")
	})

	for _, tt := range []struct {
		name, expr string
		covers     bool
	}{
		{"An alert on a last-success gauge's age covers it.", `time() - backup_last_success_timestamp_seconds > 90000`, true},
		{"A last-success time older than a day ago covers the gauge.", `backup_last_success_timestamp_seconds < time() - 86400`, true},
		{"changes(x[1d]) == 0 on a last-success gauge covers it.", `changes(backup_last_success_timestamp_seconds[1d]) == 0`, true},
		{"A threshold that holds whatever the age does not cover a last-success gauge.", `backup_last_success_timestamp_seconds > 0`, false},
		{"An alert on a recent success does not cover a last-success gauge.", `time() - backup_last_success_timestamp_seconds < 3600`, false},
		{"absent() does not cover a last-success gauge that is still there.", `absent(backup_last_success_timestamp_seconds{job="backup"})`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inv := businessInventory(map[string][]string{"backup": {"backup_last_success_timestamp_seconds"}}, alertRule("BackupAlert", tt.expr))
			a := coverage.Analyze(inv, coverage.Options{})
			want, wantReadBy := []string{"backup_last_success_timestamp_seconds staleness"}, []string{"BackupAlert"}
			if tt.covers {
				want, wantReadBy = []string{"backup_last_success_timestamp_seconds staleness BackupAlert"}, nil
			}
			assertBusiness(t, a, "backup", want...)
			if got := readBy(a, "backup", "backup_last_success_timestamp_seconds"); !slices.Equal(got, wantReadBy) {
				t.Errorf("read by %q, want %q", got, wantReadBy)
			}
		})
	}

	t.Run("A name asked about for another reason, neither a counter nor a last-success gauge, is no business metric.", func(t *testing.T) {
		t.Parallel()
		b := analyze.NewBuilder(businessCollectedAt)
		b.AddPart(analyze.PartJobMetrics)
		b.AddPart(analyze.PartMetadata)
		b.AddJobMetric("billing", "invoices_created_total")
		b.AddJobMetric("billing", "billing_queue_depth")   // no metadata, no _total: a gauge by convention
		b.AddJobMetric("billing", "billing_retries_total") // metadata says gauge
		b.AddMetadata("billing_retries_total", []analyze.Metadata{{Type: "gauge"}})
		a := coverage.Analyze(b.Build(), coverage.Options{})
		assertBusiness(t, a, "billing", "invoices_created_total counter")
	})
}
