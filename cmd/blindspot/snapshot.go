package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/audit"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/collect/snapshot"
)

func (a *app) snapshotCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Record what a live server answers, for offline audits",
		Long: `snapshot reads the configured Prometheus once and writes its API responses (one file per
endpoint) and a manifest (time, server URL without credentials, blindspot version) to a
directory. With a Loki configured, it also writes the streams and the secret hits found (masked
examples only: raw log lines are never stored); with a Grafana configured, every dashboard as
Grafana answered it. ` + "`blindspot audit --from DIR`" + ` audits it offline with the same findings.
Of a fleet (several servers configured) it writes every server's answers, each with its
name, kind, role and member labels, and the offline audit judges the same fleet.

` + exitCodesHelp,
		Example: `  blindspot snapshot --prometheus-url http://localhost:9090 --out ./snap
  blindspot audit --from ./snap`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageError(errors.New("--out DIR is required"))
			}
			servers, err := a.cfg.Servers()
			if err != nil {
				return usageError(err)
			}
			if len(servers) == 0 {
				return usageError(errors.New("no Prometheus to snapshot: set --prometheus-url, BLINDSPOT_PROMETHEUS_URL or prometheus.url"))
			}
			opts, err := a.collectOptions(sourceFlags{fleet: a.cfg.Prometheus.URL == ""})
			if err != nil {
				return err
			}
			// The log pairs only explain, at debug level, which streams each job has.
			pairs, _ := a.cfg.LogPairs()
			rec, err := audit.Record(cmd.Context(), audit.Request{
				Servers: servers, Concurrency: a.cfg.FleetConcurrency, Sources: opts,
				Checks: checks.Options{LogPairs: pairs}, Logger: a.logger,
			})
			if err != nil {
				return usageError(err)
			}
			m := rec.Manifest
			m.ToolVersion = toolVersion()
			if err := snapshot.Write(out, m); err != nil {
				return usageError(err)
			}
			res := rec.Collected
			if rec.Fleet {
				fmt.Fprintf(a.stdout, "wrote snapshot of %d servers to %s (%d endpoints, %d servers with errors)\n", len(servers), out, rec.Endpoints, len(rec.Unread))
				a.printCollected(m, res)
				if failed := rec.Failed(); len(failed) > 0 {
					return sourceError(fmt.Errorf("snapshot is partial: could not read %s", strings.Join(failed, "; ")))
				}
				return nil
			}
			src := res.Inventory.Sources[0]
			failed := slices.DeleteFunc(slices.Clone(res.Inventory.Sources), analyze.Source.OK)
			fmt.Fprintf(a.stdout, "wrote snapshot of %s to %s (%d endpoints, %d errors)\n", src.URL, out, len(m.Sources[0].Responses), len(src.Errors))
			a.printCollected(m, res)
			if res.Alertmanager != nil {
				fmt.Fprintf(a.stdout, "with Alertmanager %s (%d endpoints)\n", res.Alertmanager.URL, len(res.Alertmanager.Responses))
			}
			if len(failed) > 0 {
				return sourceError(fmt.Errorf("snapshot is partial: %s: %s", failed[0].Name, failed[0].Errors[0].Err))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory to write the snapshot to (created if missing)")
	return cmd
}

// printCollected says what the snapshot holds of Loki and Grafana.
func (a *app) printCollected(m snapshot.Manifest, res *collect.Result) {
	url := func(kind string) string {
		return m.Sources[slices.IndexFunc(m.Sources, func(s snapshot.Source) bool { return s.Kind == kind })].URL
	}
	if res.Loki != nil {
		fmt.Fprintf(a.stdout, "with Loki %s (%d streams, %d secret hits, %d errors)\n",
			url(snapshot.KindLoki), len(res.Loki.Logs.Streams), len(res.Loki.Logs.Secrets), len(res.Loki.Errors))
	}
	if res.Grafana != nil {
		errs := 0
		if res.Grafana.Err != nil {
			errs = 1
		}
		fmt.Fprintf(a.stdout, "with Grafana %s (%d dashboards, %d errors)\n", url(snapshot.KindGrafana), len(res.Grafana.Dashboards), errs)
	}
}
