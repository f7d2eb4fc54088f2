package dashboards

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/logs"
	"github.com/grafana/grafana-foundation-sdk/go/loki"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze/coverage"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/internal/promqlbuild"
	"github.com/blindspot-dev/blindspot/internal/weblink"
)

// The datasource variables: each dashboard asks for its Prometheus and Loki instead of
// naming a datasource uid of one Grafana.
const (
	prometheusVar = "prometheus"
	lokiVar       = "loki"
)

func prometheusDatasource() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${" + prometheusVar + "}")}
}

func lokiDatasource() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("loki"), Uid: cog.ToPtr("${" + lokiVar + "}")}
}

func datasourceVariable(name, pluginType, label string) *dashboard.DatasourceVariableBuilder {
	return dashboard.NewDatasourceVariableBuilder(name).Label(label).Type(pluginType)
}

// newDashboard is what every generated dashboard starts with.
func newDashboard(uid, title string) *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Tags([]string{Tag}).
		Time("now-6h", "now").
		Refresh("1m").
		Timezone("browser").
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		WithVariable(datasourceVariable(prometheusVar, "prometheus", "Prometheus")).
		WithVariable(datasourceVariable(lokiVar, "loki", "Loki"))
}

// prometheusQuery prints expr; a failure is recorded on the builder and surfaces from Build.
func prometheusQuery(refID string, expr parser.Expr, legend string) *prometheus.DataqueryBuilder {
	q := prometheus.NewDataqueryBuilder().RefId(refID).Datasource(prometheusDatasource())
	text, err := promQL(expr)
	if err != nil {
		return q.RecordError("expr", err)
	}
	q = q.Expr(text)
	if legend != "" {
		q = q.LegendFormat(legend)
	}
	return q
}

func lokiQuery(refID, expr, legend string) *loki.DataqueryBuilder {
	q := loki.NewDataqueryBuilder().RefId(refID).Datasource(lokiDatasource()).Expr(expr)
	if legend != "" {
		q = q.LegendFormat(legend)
	}
	return q
}

func timeseriesPanel(title, description, unit string) *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(prometheusDatasource()).
		Unit(unit).
		Legend(common.NewVizLegendOptionsBuilder().ShowLegend(true).DisplayMode(common.LegendDisplayModeList).Placement(common.LegendPlacementBottom)).
		Span(8).
		Height(8)
}

// link is a dashboard or panel link to url.
func link(title, url string) *dashboard.DashboardLinkBuilder {
	return dashboard.NewDashboardLinkBuilder(title).
		Type(dashboard.DashboardLinkTypeLink).
		Url(url).
		TargetBlank(true)
}

// runbookLinks links to the runbook of every alert in refs that has one, once per runbook,
// ordered by alert name.
func runbookLinks(refs []coverage.RuleRef) []cog.Builder[dashboard.DashboardLink] {
	refs = slices.Clone(refs)
	slices.SortFunc(refs, func(a, b coverage.RuleRef) int {
		return strings.Compare(a.Name+"\x00"+a.Runbook, b.Name+"\x00"+b.Runbook)
	})
	var out []cog.Builder[dashboard.DashboardLink]
	seen := map[string]bool{}
	for _, r := range refs {
		// coverage keeps only safe runbook links; checked again here, where a rule's value
		// becomes a link in the dashboard.
		u, ok := weblink.Safe(r.Runbook)
		if !ok || seen[u] {
			continue
		}
		seen[u] = true
		out = append(out, link("Runbook: "+r.Name, u).Icon("doc"))
	}
	return out
}

// grafanaPath is p under GrafanaURL, or p alone (relative to the Grafana serving the
// dashboard) without it.
func grafanaPath(o generate.Options, p string) string {
	return strings.TrimSuffix(o.GrafanaURL, "/") + p
}

// dashboardPath is the URL of a job's dashboard, the one the rules' dashboard_url names.
func dashboardPath(o generate.Options, job string) string {
	if u := o.DashboardURL(job); u != "" {
		return u
	}
	return "/d/" + promqlbuild.DashboardUID(job)
}

// exploreLink opens the job's log streams in Explore on the selected Loki. The panes state is
// JSON in a query parameter; the datasource is left as ${loki} for Grafana to fill in.
func exploreLink(o generate.Options, streams []string) *dashboard.DashboardLinkBuilder {
	type query struct {
		RefID      string               `json:"refId"`
		Expr       string               `json:"expr"`
		Datasource common.DataSourceRef `json:"datasource"`
	}
	type pane struct {
		Datasource string            `json:"datasource"`
		Queries    []query           `json:"queries"`
		Range      map[string]string `json:"range"`
	}
	ds := "${" + lokiVar + "}"
	p := pane{Datasource: ds, Range: map[string]string{"from": "now-1h", "to": "now"}}
	for i, s := range streams {
		p.Queries = append(p.Queries, query{RefID: refID(i), Expr: s, Datasource: lokiDatasource()})
	}
	b := dashboard.NewDashboardLinkBuilder("Logs in Explore")
	panes, err := json.Marshal(map[string]pane{"logs": p})
	if err != nil {
		return b.RecordError("url", fmt.Errorf("encoding the Explore state: %w", err))
	}
	// Every string that is exactly ${loki} gets its variable back after escaping; a log
	// selector holding the same text is JSON-escaped inside its string and never matches.
	escaped := strings.ReplaceAll(url.QueryEscape(string(panes)),
		url.QueryEscape(`"`+ds+`"`), url.QueryEscape(`"`)+ds+url.QueryEscape(`"`))
	return link("Logs in Explore", grafanaPath(o, "/explore?schemaVersion=1&panes="+escaped)).Icon("bolt")
}

// refID names the i-th query of a panel: A, B, … Z, AA, AB, …
func refID(i int) string {
	if i < 26 {
		return string(rune('A' + i))
	}
	return refID(i/26-1) + refID(i%26)
}

func row(title string) *dashboard.RowBuilder { return dashboard.NewRowBuilder(title) }

// Availability row.

func upPanel(job string, alerts []coverage.RuleRef) *timeseries.PanelBuilder {
	return timeseriesPanel("Targets up", "up per instance: 1 when the last scrape succeeded.", "none").
		WithTarget(prometheusQuery("A", sel("up", job), "{{instance}}")).
		Min(0).Max(1).
		Links(runbookLinks(alerts))
}

func scrapeDurationPanel(job string) *timeseries.PanelBuilder {
	return timeseriesPanel("Scrape duration", "How long each scrape of the job's targets took.", "s").
		WithTarget(prometheusQuery("A", sel("scrape_duration_seconds", job), "{{instance}}"))
}

func samplesScrapedPanel(job string) *timeseries.PanelBuilder {
	return timeseriesPanel("Samples scraped", "Samples each target exposed in its last scrape.", "short").
		WithTarget(prometheusQuery("A", sel("scrape_samples_scraped", job), "{{instance}}"))
}

// Business row.

func counterRatePanel(job string, m coverage.BusinessMetric) *timeseries.PanelBuilder {
	return timeseriesPanel("Rate of "+m.Metric, "Per-second rate of a business counter; it should not stop.", "ops").
		WithTarget(prometheusQuery("A", counterRate(m.Metric, job), m.Metric)).
		Links(runbookLinks(m.CoveredBy))
}

func stalenessPanel(job string, m coverage.BusinessMetric) *timeseries.PanelBuilder {
	return timeseriesPanel("Age of "+m.Metric, "Time since the last success this gauge records.", "s").
		WithTarget(prometheusQuery("A", age(m.Metric, job), "{{instance}}")).
		Links(runbookLinks(m.CoveredBy))
}

// Logs row.

func logsPanel(streams []string) *logs.PanelBuilder {
	p := logs.NewPanelBuilder().
		Title("Logs").
		Description("The job's log streams.").
		Datasource(lokiDatasource()).
		ShowTime(true).
		WrapLogMessage(true).
		SortOrder(common.LogsSortOrderDescending).
		Span(14).
		Height(10)
	for i, s := range streams {
		p = p.WithTarget(lokiQuery(refID(i), s, ""))
	}
	return p
}

func errorRatePanel(streams []string) *timeseries.PanelBuilder {
	p := timeseries.NewPanelBuilder().
		Title("Error lines").
		Description("Log lines matching " + errorPattern + " per interval.").
		Datasource(lokiDatasource()).
		Unit("short").
		Legend(common.NewVizLegendOptionsBuilder().ShowLegend(true).DisplayMode(common.LegendDisplayModeList).Placement(common.LegendPlacementBottom)).
		Span(10).
		Height(10)
	for i, s := range streams {
		p = p.WithTarget(lokiQuery(refID(i), errorRate(s), s))
	}
	return p
}

// Alerts row.

func alertsPanel(job string, alerts []coverage.RuleRef) *table.PanelBuilder {
	names := make([]string, len(alerts))
	for i, a := range alerts {
		names[i] = a.Name
	}
	p := table.NewPanelBuilder().
		Title("Alerts").
		Description("Pending and firing alerts of the job, generated and existing.").
		Datasource(prometheusDatasource()).
		NoValue("No alert pending or firing").
		// The SDK's default footer has a null reducer, which its own strict decoder refuses.
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{})).
		Span(24).
		Height(8).
		Links(runbookLinks(alerts))
	expr, err := alertStates(job, names)
	if err != nil {
		return p.RecordError("targets", err)
	}
	return p.WithTarget(prometheusQuery("A", expr, "").Instant().Format(prometheus.PromQueryFormatTable))
}

// jobDashboard is the dashboard of one job.
func jobDashboard(jc coverage.JobCoverage, streams []string, o generate.Options) *dashboard.DashboardBuilder {
	job := jc.Job
	streams = slices.Clone(streams)
	slices.Sort(streams)
	streams = slices.Compact(streams)
	if len(streams) == 0 {
		streams = []string{jobStream(job)}
	}
	alerts := jc.Alerts()
	availabilityAlerts := append(slices.Clone(jc.UpAlerts), jc.AbsentAlerts...)

	d := newDashboard(promqlbuild.DashboardUID(job), "blindspot / "+job).
		Description("Generated by blindspot for the job " + job + ".").
		// Links replaces the list, so the overview, runbook and Explore links are set at once.
		Links(slices.Concat(
			[]cog.Builder[dashboard.DashboardLink]{link("Overview", grafanaPath(o, "/d/"+OverviewUID)).Icon("dashboard").TargetBlank(false).KeepTime(true).IncludeVars(true)},
			runbookLinks(alerts),
			[]cog.Builder[dashboard.DashboardLink]{exploreLink(o, streams)},
		)).
		WithRow(row("Availability")).
		WithPanel(upPanel(job, availabilityAlerts)).
		WithPanel(scrapeDurationPanel(job)).
		WithPanel(samplesScrapedPanel(job))
	if len(jc.Business) > 0 {
		d = d.WithRow(row("Business"))
		for _, m := range jc.Business {
			if m.Kind == "staleness" {
				d = d.WithPanel(stalenessPanel(job, m))
			} else {
				d = d.WithPanel(counterRatePanel(job, m))
			}
		}
	}
	return d.
		WithRow(row("Logs")).
		WithPanel(logsPanel(streams)).
		WithPanel(errorRatePanel(streams)).
		WithRow(row("Alerts")).
		WithPanel(alertsPanel(job, alerts))
}

// Overview.

func jobStatPanel(job string, o generate.Options) *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Title(job).
		Description("Share of the job's targets that are up; the link opens its dashboard.").
		Datasource(prometheusDatasource()).
		WithTarget(prometheusQuery("A", availability(job), "")).
		Unit("percentunit").
		Min(0).Max(1).
		GraphMode(common.BigValueGraphModeNone).
		Span(6).
		Height(4).
		Links([]cog.Builder[dashboard.DashboardLink]{
			link("Dashboard of "+job, dashboardPath(o, job)).TargetBlank(false).KeepTime(true).IncludeVars(true),
		})
}

// overviewDashboard lists every job with a link to its dashboard.
func overviewDashboard(jobs []coverage.JobCoverage, o generate.Options) *dashboard.DashboardBuilder {
	d := newDashboard(OverviewUID, "blindspot / overview").
		Description("Generated by blindspot: every audited job, linking to its dashboard.").
		WithRow(row("Jobs"))
	for _, jc := range jobs {
		d = d.WithPanel(jobStatPanel(jc.Job, o))
	}
	return d
}
