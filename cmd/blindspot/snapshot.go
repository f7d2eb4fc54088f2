package main

import (
	"errors"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/blindspot-dev/blindspot/analyze"
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
			fo, err := a.cfg.fleetOptions()
			if err != nil {
				return usageError(err)
			}
			if fo == nil {
				if fo, err = a.recognisedFleet(cmd.Context()); err != nil {
					return err
				}
			}
			if fo != nil {
				return a.snapshotFleet(cmd.Context(), fo, out)
			}
			if a.cfg.Prometheus.URL == "" {
				return usageError(errors.New("no Prometheus to snapshot: set --prometheus-url, BLINDSPOT_PROMETHEUS_URL or prometheus.url"))
			}
			opts, err := a.collectOptions(sourceFlags{})
			if err != nil {
				return err
			}
			res, err := collect.Run(cmd.Context(), opts)
			if err != nil {
				return usageError(err)
			}
			src := res.Inventory.Sources[0]
			m := snapshot.Manifest{
				ToolVersion: toolVersion(),
				CreatedAt:   res.Inventory.CollectedAt,
				Sources: []snapshot.Source{{
					Name: src.Name,
					Kind: snapshot.KindPrometheus,
					URL:  src.URL,
				}},
			}
			for _, r := range res.Recorder.Responses() {
				m.Sources[0].Responses = append(m.Sources[0].Responses, snapshot.Response{Response: r})
			}
			failed := slices.DeleteFunc(slices.Clone(res.Inventory.Sources), analyze.Source.OK)
			m.Sources = append(m.Sources, collectedSources(res)...)
			// An Alertmanager is stored as its raw answers, like the Prometheus.
			if res.Alertmanager != nil {
				amSrc := snapshot.Source{Name: "alertmanager", Kind: snapshot.KindAlertmanager, URL: res.Alertmanager.URL}
				for _, r := range res.Alertmanager.Responses {
					amSrc.Responses = append(amSrc.Responses, snapshot.Response{Response: r})
				}
				m.Sources = append(m.Sources, amSrc)
			}
			if err := snapshot.Write(out, m); err != nil {
				return usageError(err)
			}
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

// collectedSources are the sources of a snapshot whose raw answers are not stored: a Loki as
// what was collected (masked), never as raw answers; a Grafana as the dashboards it answered.
func collectedSources(res *collect.Result) []snapshot.Source {
	var out []snapshot.Source
	if res.Loki != nil {
		lokiSrc := res.Inventory.Sources[slices.IndexFunc(res.Inventory.Sources, func(s analyze.Source) bool { return s.Name == "loki" })]
		out = append(out, snapshot.Source{Name: lokiSrc.Name, Kind: snapshot.KindLoki, URL: lokiSrc.URL, Loki: res.Loki})
	}
	if res.Grafana != nil {
		grafanaSrc := res.Inventory.Sources[slices.IndexFunc(res.Inventory.Sources, func(s analyze.Source) bool { return s.Name == "grafana" })]
		out = append(out, snapshot.Source{Name: grafanaSrc.Name, Kind: snapshot.KindGrafana, URL: grafanaSrc.URL, Grafana: res.Grafana})
	}
	return out
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
