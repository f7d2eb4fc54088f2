package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/blindspot-dev/blindspot"
	"github.com/blindspot-dev/blindspot/analyze/audit"
	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/report"
)

// sourceFlags are the ways in shared by audit, generate and check.
type sourceFlags struct {
	from             string
	rules            []string
	prometheusConfig string
	dashboards       []string

	// fleet marks the sources shared by the servers of a fleet the configuration lists: the
	// demo is never read for one.
	fleet bool
}

func (s *sourceFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&s.from, "from", "", "audit a snapshot directory written by `blindspot snapshot` instead of a live server")
	f.StringArrayVar(&s.rules, "rules", nil, "rule file or directory to audit (plain groups files, PrometheusRule CRDs, multi-document YAML); repeat for more")
	f.StringVar(&s.prometheusConfig, "prometheus-config", "", "a prometheus.yml whose scrape_configs name the jobs")
	f.StringArrayVar(&s.dashboards, "dashboards", nil, "Grafana dashboard JSON files, export wrappers or ConfigMaps, or directories of them; repeat for more")
}

// collectOptions turns flags and config into collector options. With no source at all it
// selects the embedded demo snapshot and says so on stderr.
func (a *app) collectOptions(s sourceFlags) (collect.Options, error) {
	o, err := a.cfg.Sources(s.from != "")
	if err != nil {
		return o, usageError(err)
	}
	o.RuleFiles, o.PrometheusConfigFile, o.DashboardFiles, o.Logger = s.rules, s.prometheusConfig, s.dashboards, a.logger
	if o.Loki != nil {
		o.LokiOptions.Progress = a.progress("sampling Loki streams with secret keywords")
	}
	if o.Grafana != nil {
		o.GrafanaOptions.Progress = a.progress("reading Grafana dashboards")
	}
	switch {
	case s.from != "":
		o.Snapshot, o.SnapshotName, o.SnapshotKind = os.DirFS(s.from), s.from, "snapshot"
	case s.fleet, a.cfg.Prometheus.URL != "":
		// The servers are read by the audit (one server as the fleet of one it is); the
		// history is read of a single live server.
		if o.History, err = a.cfg.HistoryOptions(); err != nil {
			return o, usageError(err)
		}
	case len(s.rules) == 0 && s.prometheusConfig == "" && o.Loki == nil && len(s.dashboards) == 0 && o.Grafana == nil && a.cfg.Alertmanager.URL == "":
		fmt.Fprintln(a.stderr, "blindspot: no Prometheus configured: auditing the embedded demo snapshot. "+
			"Point blindspot at your server with --prometheus-url URL, BLINDSPOT_PROMETHEUS_URL or prometheus.url in blindspot.yaml.")
		o.Snapshot, o.SnapshotName, o.SnapshotKind = blindspot.DemoSnapshot(), "demo", "demo"
	}
	return o, nil
}

func (a *app) auditCommand() *cobra.Command {
	var (
		src    sourceFlags
		format string
		output string
	)
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Report the blind spots of a live server, a snapshot or rule files",
		Long: `audit reads the configured sources and reports what is not watched: targets that are down,
jobs whose discovery or relabeling left them without targets, and more.

Sources: a live Prometheus (--prometheus-url, BLINDSPOT_PROMETHEUS_URL or prometheus.url),
a snapshot (--from DIR), or files (--rules, --prometheus-config). With none of them, audit
reads the embedded demo snapshot. A Loki (--loki-url) and a Grafana (--grafana-url: every
dashboard, or --dashboards files) are read alongside a live Prometheus.

` + exitCodesHelp,
		Example: `  blindspot audit --prometheus-url http://localhost:9090
  blindspot audit --from ./snap --format json --output report.json
  blindspot audit --format html --output report.html
  blindspot audit --rules ./rules --prometheus-config prometheus.yml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !slices.Contains([]string{"text", "json", "markdown", "html"}, format) {
				return usageError(fmt.Errorf("--format %q: want text, json, markdown or html", format))
			}
			rep, err := a.auditReport(cmd.Context(), src, time.Now())
			if err != nil {
				return err
			}

			render := func(w io.Writer) error {
				switch format {
				case "json":
					return report.WriteJSON(w, rep)
				case "markdown":
					return report.WriteMarkdown(w, rep)
				case "html":
					return report.WriteHTML(w, rep, report.HTMLOptions{Version: toolVersion()})
				}
				return report.WriteText(w, rep, report.TextOptions{Color: output == "" && isTerminal(a.stdout)})
			}
			if err := a.writeOutput(output, "the report", render); err != nil {
				return err
			}
			return partialError(rep)
		},
	}
	src.register(cmd)
	f := cmd.Flags()
	f.StringVar(&format, "format", "text", "report format: text, json, markdown or html (one self-contained page)")
	f.StringVarP(&output, "output", "o", "", "write the report to this file (atomically) instead of stdout")
	return cmd
}

// request turns the flags and configuration into the audit's request: the servers (a fleet,
// one server or none), the sources they share, and the checks with their policy. Mistakes in
// the configuration fail here, before any request is made.
func (a *app) request(src sourceFlags, now time.Time) (audit.Request, error) {
	servers, err := a.cfg.Servers()
	if err != nil {
		return audit.Request{}, usageError(err)
	}
	copts, policy, err := a.cfg.CheckSuite()
	if err != nil {
		return audit.Request{}, usageError(err)
	}
	src.fleet = a.cfg.Prometheus.URL == "" && len(servers) > 0
	if src.fleet && src.from != "" {
		return audit.Request{}, usageError(errors.New("--from and several Prometheus servers are mutually exclusive: audit either the snapshot or the fleet"))
	}
	opts, err := a.collectOptions(src)
	if err != nil {
		return audit.Request{}, err
	}
	return audit.Request{
		Servers:     servers,
		Concurrency: a.cfg.FleetConcurrency,
		Sources:     opts,
		Checks:      copts,
		Policy:      policy,
		Now:         func() time.Time { return now },
		Logger:      a.logger,
	}, nil
}

// auditReport audits what the flags and configuration name, a fleet of servers or one
// source, and judges it; audit and check report alike.
func (a *app) auditReport(ctx context.Context, src sourceFlags, now time.Time) (report.Report, error) {
	req, err := a.request(src, now)
	if err != nil {
		return report.Report{}, err
	}
	rep, err := audit.Report(ctx, req)
	if err != nil {
		return report.Report{}, usageError(err)
	}
	return rep, nil
}

// partialError turns source errors into exit code 3 after the report was written.
func partialError(rep report.Report) error {
	if failed := rep.Unread(); len(failed) > 0 {
		return sourceError(fmt.Errorf("partial report: could not read %s", strings.Join(failed, "; ")))
	}
	return nil
}
