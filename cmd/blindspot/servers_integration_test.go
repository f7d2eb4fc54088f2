package main

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze/collect/snapshot"
	"github.com/blindspot-dev/blindspot/analyze/report"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

// coverageOf returns the coverage row of job in the member whose key has value, or nil.
func coverageOf(r report.Report, job, key, value string) *report.CoverageRow {
	for i, row := range r.Coverage {
		if row.Job == job && row.Member[key] == value {
			return &r.Coverage[i]
		}
	}
	return nil
}

func TestFleetOfPrometheusServers(t *testing.T) {
	bins := servers.Find(t)
	// Two servers scrape a job of the same name; only eu has an alert on it. A third has a
	// job of its own. Every target is an address where nothing listens: down, and scraped.
	start := func(jobs map[string][]string, alerts ...servers.Alert) *servers.Prometheus {
		return servers.StartPrometheus(t, bins.Prometheus3, servers.PrometheusOptions{Jobs: jobs, Alerts: alerts})
	}
	eu := start(map[string][]string{"api": {servers.FreeAddress(t)}}, servers.Alert{Name: "ApiDown", Expr: `up{job="api"} == 0`})
	us := start(map[string][]string{"api": {servers.FreeAddress(t)}})
	ap := start(map[string][]string{"db": {servers.FreeAddress(t)}})
	args := []string{"audit", "--format", "json",
		"--prometheus-url", "eu=" + eu.URL, "--prometheus-url", "us=" + us.URL, "--prometheus-url", "ap=" + ap.URL}

	t.Run("A job covered by a rule in one server and scraped without one by another is a gap only in the other.", func(t *testing.T) {
		code, out, stderr := cli(t, args...)
		if code != exitOK {
			t.Fatalf("exit %d, stderr: %s", code, stderr)
		}
		rep := decodeReport(t, []byte(out))
		got := keys(rep)
		for _, want := range []findingKey{
			keyOf("alerts/missing-up", map[string]string{"job": "api", "source": "us"}),
			keyOf("alerts/missing-up", map[string]string{"job": "db", "source": "ap"}),
		} {
			if _, ok := got[want]; !ok {
				t.Errorf("missing finding %s; have %v", want, slices.Sorted(maps.Keys(got)))
			}
		}
		if instanceIn(rep, "source", "eu") == "" || instanceIn(rep, "source", "us") == "" {
			t.Error("the down targets of api are not reported in both eu and us")
		}
		if _, ok := got[keyOf("alerts/missing-up", map[string]string{"job": "api", "source": "eu"})]; ok {
			t.Error("eu's api job is reported without an up alert, but eu's ApiDown covers it")
		}
		for _, f := range rep.Findings {
			if f.Subject["source"] == "" {
				t.Errorf("finding %s %v carries no source", f.Check, f.Subject)
			}
		}
		if row := coverageOf(rep, "api", "source", "eu"); row == nil || !slices.Equal(row.UpAlerts, []string{"ApiDown"}) {
			t.Errorf("eu's api coverage row = %+v, want up_alerts [ApiDown]", row)
		}
		if row := coverageOf(rep, "api", "source", "us"); row == nil || len(row.UpAlerts) != 0 {
			t.Errorf("us's api coverage row = %+v, want no up alert", row)
		}
		var names []string
		for _, s := range rep.Sources {
			names = append(names, s.Name)
			if !s.OK {
				t.Errorf("source %s is not ok: %s", s.Name, s.Error)
			}
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"ap", "eu", "us"}) {
			t.Errorf("sources = %v", names)
		}
		if rep.Summary.Jobs != 3 || rep.Summary.Targets.Down != 3 {
			t.Errorf("summary = %+v, want 3 jobs and 3 targets down", rep.Summary)
		}
	})

	t.Run("A server that does not answer makes the fleet audit partial, naming it, and keeps the gaps of the others.", func(t *testing.T) {
		down := "http://" + servers.FreeAddress(t)
		code, out, stderr := cli(t, append(slices.Clone(args), "--prometheus-url", "dead="+down)...)
		if code != exitSource {
			t.Fatalf("exit %d, want %d; stderr: %s", code, exitSource, stderr)
		}
		if !strings.Contains(stderr, "partial report") || !strings.Contains(stderr, "dead "+down) {
			t.Errorf("stderr does not name the server that could not be read: %s", stderr)
		}
		rep := decodeReport(t, []byte(out))
		if _, ok := keys(rep)[keyOf("alerts/missing-up", map[string]string{"job": "api", "source": "us"})]; !ok {
			t.Error("the gaps of the servers that answered are missing from the partial report")
		}
	})

	t.Run("Generation writes one bundle per server, in a directory named after it, with the rules that server lacks.", func(t *testing.T) {
		dir := t.TempDir()
		gen := []string{"generate", "--out", dir,
			"--prometheus-url", "eu=" + eu.URL, "--prometheus-url", "us=" + us.URL, "--prometheus-url", "ap=" + ap.URL}
		if code, _, stderr := cli(t, gen...); code != exitOK {
			t.Fatalf("exit %d, stderr: %s", code, stderr)
		}
		for _, f := range []string{"us/rules/api.yaml", "ap/rules/db.yaml", "eu/rules/api.yaml"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("%s was not generated: %v", f, err)
			}
		}
		usRules, _ := os.ReadFile(filepath.Join(dir, "us/rules/api.yaml"))
		euRules, _ := os.ReadFile(filepath.Join(dir, "eu/rules/api.yaml"))
		if !strings.Contains(string(usRules), "up{job=\"api\"} == 0") || strings.Contains(string(euRules), "up{job=\"api\"} == 0") {
			t.Errorf("us must get the up alert eu already has:\nus:\n%s\neu:\n%s", usRules, euRules)
		}
		if code, out, stderr := cli(t, append(gen, "--check")...); code != exitOK {
			t.Errorf("--check right after generating: exit %d\n%s%s", code, out, stderr)
		}
	})

	t.Run("A snapshot of the fleet is audited, checked and generated from offline as the same fleet: the same findings with the same IDs.", func(t *testing.T) {
		fleet := args[3:] // the --prometheus-url flags
		snap, live := settledSnapshot(t, fleet, fleet)
		m := readManifest(t, snap)
		var names []string
		for _, s := range m.Sources {
			names = append(names, s.Name)
			if s.Kind != snapshot.KindPrometheus || s.Fleet == nil || s.Fleet.Kind != "prometheus" || len(s.Responses) == 0 {
				t.Errorf("manifest source %+v, want a prometheus server of the fleet with its answers", s)
			}
		}
		if !slices.Equal(names, []string{"eu", "us", "ap"}) {
			t.Errorf("manifest sources %v, want eu, us and ap in the configured order", names)
		}
		sameAudit(t, live, auditJSON(t, exitOK, "--from", snap))

		liveCheck, _, _ := cli(t, append([]string{"check", "--fail-on", "warning"}, fleet...)...)
		offlineCheck, _, _ := cli(t, "check", "--fail-on", "warning", "--from", snap)
		if liveCheck != exitFindings || offlineCheck != liveCheck {
			t.Errorf("check exits %d live and %d offline, want %d for both", liveCheck, offlineCheck, exitFindings)
		}

		liveDir, offlineDir := t.TempDir(), t.TempDir()
		if code, _, stderr := cli(t, append([]string{"generate", "--out", liveDir}, fleet...)...); code != exitOK {
			t.Fatalf("live generate: exit %d: %s", code, stderr)
		}
		if code, _, stderr := cli(t, "generate", "--out", offlineDir, "--from", snap); code != exitOK {
			t.Fatalf("offline generate: exit %d: %s", code, stderr)
		}
		liveFiles, offlineFiles := filesUnder(t, liveDir), filesUnder(t, offlineDir)
		if _, ok := offlineFiles["us/rules/api.yaml"]; !ok || !maps.Equal(liveFiles, offlineFiles) {
			t.Errorf("offline generation wrote %v, live %v", slices.Sorted(maps.Keys(offlineFiles)), slices.Sorted(maps.Keys(liveFiles)))
		}
	})

	t.Run("A snapshot of a fleet with a server down is partial, and so is its offline audit, naming the server.", func(t *testing.T) {
		down := "http://" + servers.FreeAddress(t)
		snap := filepath.Join(t.TempDir(), "snap")
		code, _, stderr := cli(t, "snapshot", "--out", snap, "--prometheus-url", "eu="+eu.URL, "--prometheus-url", "dead="+down)
		if code != exitSource || !strings.Contains(stderr, "snapshot is partial: could not read dead "+down) {
			t.Fatalf("snapshot: exit %d, want %d naming the dead server; stderr: %s", code, exitSource, stderr)
		}
		code, _, stderr = cli(t, "audit", "--from", snap)
		if code != exitSource || !strings.Contains(stderr, "partial report: could not read dead "+down) {
			t.Errorf("offline audit: exit %d, want %d naming the dead server; stderr: %s", code, exitSource, stderr)
		}
	})

	t.Run("One server named in a list is audited as before: no source key, the same finding IDs.", func(t *testing.T) {
		path := writeConfig(t, "prometheus:\n  - name: us\n    url: "+us.URL+"\n")
		_, listOut, stderr := cli(t, "--config", path, "audit", "--format", "json")
		_, plainOut, _ := cli(t, "audit", "--format", "json", "--prometheus-url", us.URL)
		list, plain := keys(decodeReport(t, []byte(listOut))), keys(decodeReport(t, []byte(plainOut)))
		if len(list) == 0 || !maps.Equal(list, plain) {
			t.Errorf("list form %v differs from --prometheus-url %v (stderr %s)", list, plain, stderr)
		}
	})
}

func TestFleetThroughThanos(t *testing.T) {
	bins := servers.Find(t)
	thanos := servers.FindThanos(t)
	// Two clusters behind one Thanos Query, a job of the same name in both; only cluster a
	// has an alert on it.
	start := func(cluster string, alerts ...servers.Alert) *servers.Prometheus {
		return servers.StartPrometheus(t, bins.Prometheus3, servers.PrometheusOptions{
			ExternalLabels: map[string]string{"cluster": cluster, "replica": "0"},
			Jobs:           map[string][]string{"api": {servers.FreeAddress(t)}},
			Alerts:         alerts,
			ForThanos:      true,
		})
	}
	a := start("a", servers.Alert{Name: "ApiDown", Expr: `up{job="api"} == 0`})
	b := start("b")
	sidecarA, sidecarB := servers.StartSidecar(t, thanos, a), servers.StartSidecar(t, thanos, b)
	q := servers.StartQuery(t, thanos, sidecarA.GRPCAddress, sidecarB.GRPCAddress)
	config := writeConfig(t, "prometheus:\n  - name: global\n    kind: thanos\n    url: "+q.URL+"\n")

	t.Run("Findings behind Thanos Query carry the cluster, and a rule of one cluster covers only that cluster's jobs.", func(t *testing.T) {
		code, out, stderr := cli(t, "--config", config, "audit", "--format", "json")
		if code != exitOK {
			t.Fatalf("exit %d, stderr: %s\n%s", code, stderr, out)
		}
		rep := decodeReport(t, []byte(out))
		got := keys(rep)
		if _, ok := got[keyOf("alerts/missing-up", map[string]string{"job": "api", "cluster": "b"})]; !ok {
			t.Errorf("cluster b's api job is not reported without an up alert; have %v", slices.Sorted(maps.Keys(got)))
		}
		if _, ok := got[keyOf("alerts/missing-up", map[string]string{"job": "api", "cluster": "a"})]; ok {
			t.Error("cluster a's api job is reported without an up alert, but cluster a's ApiDown covers it")
		}
		for _, cluster := range []string{"a", "b"} {
			if _, ok := got[keyOf("targets/down", map[string]string{"job": "api", "cluster": cluster, "instance": instanceIn(rep, "cluster", cluster)})]; !ok {
				t.Errorf("the down api target of cluster %s is not reported", cluster)
			}
		}
		if row := coverageOf(rep, "api", "cluster", "a"); row == nil || !slices.Equal(row.UpAlerts, []string{"ApiDown"}) {
			t.Errorf("cluster a's api coverage row = %+v, want up_alerts [ApiDown]", row)
		}
		if len(rep.Sources) != 1 || !rep.Sources[0].OK || rep.Sources[0].Kind != "thanos" {
			t.Fatalf("sources = %+v, want the one Thanos Query, ok", rep.Sources)
		}
		if !slices.ContainsFunc(rep.Sources[0].Missing, func(m report.Missing) bool { return m.Part == "config" }) {
			t.Errorf("the Thanos source does not say that it has no config API: %+v", rep.Sources[0])
		}
	})

	t.Run("A Thanos Query given as one --prometheus-url is audited as kind: thanos is: the same findings with the same IDs, and a note says it was recognised.", func(t *testing.T) {
		unnamed := writeConfig(t, "prometheus:\n  - kind: thanos\n    url: "+q.URL+"\n")
		// Everything but the sources' notes: findings, coverage, summary.
		withoutSources := func(r report.Report) string {
			r.Sources = nil
			return normalized(t, r)
		}
		var byURL, configured report.Report
		// Real servers keep scraping (a target's last scrape time and duration change): compare
		// two audits that ran back to back with the same answers.
		for range 10 {
			byURL = auditJSON(t, exitOK, "--prometheus-url", q.URL)
			configured = auditJSON(t, exitOK, "--config", unnamed)
			if withoutSources(byURL) == withoutSources(configured) {
				break
			}
			time.Sleep(time.Second)
		}
		if got, want := keys(byURL), keys(configured); !maps.Equal(got, want) || len(got) == 0 {
			t.Errorf("findings by URL = %v\nwant (kind: thanos) %v", got, want)
		}
		if _, ok := keys(byURL)[keyOf("alerts/missing-up", map[string]string{"job": "api", "cluster": "b"})]; !ok {
			t.Errorf("cluster b's api job is not reported without an up alert: %v", keys(byURL))
		}
		if got, want := withoutSources(byURL), withoutSources(configured); got != want {
			t.Errorf("the report by URL differs from the kind: thanos one:\n%s\nwant\n%s", got, want)
		}
		if len(byURL.Sources) != 1 || byURL.Sources[0].Kind != "thanos" || !byURL.Sources[0].OK ||
			!slices.ContainsFunc(byURL.Sources[0].Notes, func(n string) bool { return strings.HasPrefix(n, "recognised as a Thanos Query") }) {
			t.Errorf("sources = %+v, want the Thanos Query, ok, with a note saying it was recognised", byURL.Sources)
		}
		if slices.ContainsFunc(configured.Sources[0].Notes, func(n string) bool { return strings.HasPrefix(n, "recognised") }) {
			t.Errorf("a configured kind: thanos says it was recognised: %q", configured.Sources[0].Notes)
		}
	})

	t.Run("A snapshot of a Thanos Query named by URL alone is audited offline as the same fleet.", func(t *testing.T) {
		snap, live := settledSnapshot(t, []string{"--prometheus-url", q.URL}, []string{"--prometheus-url", q.URL})
		m := readManifest(t, snap)
		if len(m.Sources) != 1 || m.Sources[0].Fleet == nil || m.Sources[0].Fleet.Kind != "thanos" || len(m.Sources[0].Fleet.Recognised) != 1 {
			t.Fatalf("manifest %+v, want the recognised Thanos source", m.Sources)
		}
		sameAudit(t, live, auditJSON(t, exitOK, "--from", snap))
	})

	t.Run("A snapshot of a Thanos Query holds its stores and is audited offline as the same fleet.", func(t *testing.T) {
		snap, live := settledSnapshot(t, []string{"--config", config}, []string{"--config", config})
		m := readManifest(t, snap)
		if len(m.Sources) != 1 || m.Sources[0].Fleet == nil || m.Sources[0].Fleet.Kind != "thanos" ||
			!slices.ContainsFunc(m.Sources[0].Responses, func(r snapshot.Response) bool { return r.Part == "stores" && r.Status == 200 }) {
			t.Fatalf("manifest %+v, want the Thanos source with its stores", m.Sources)
		}
		sameAudit(t, live, auditJSON(t, exitOK, "--from", snap))
	})

	t.Run("With a Thanos Ruler in the fleet, each cluster's generated rules select that cluster, and loaded into the ruler they close that cluster's gaps.", func(t *testing.T) {
		ruler := servers.StartRuler(t, thanos, q)
		fleet := writeConfig(t, "prometheus:\n  - name: global\n    kind: thanos\n    url: "+q.URL+
			"\n  - name: ruler\n    role: ruler\n    url: "+ruler.URL+"\n")
		dir := t.TempDir()
		if code, out, stderr := cli(t, "--config", fleet, "generate", "--out", dir); code != exitOK {
			t.Fatalf("generate: exit %d\n%s%s", code, out, stderr)
		}
		bRules := filepath.Join(dir, "global_b", "rules", "api.yaml")
		content, err := os.ReadFile(bRules)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(content), `up{cluster="b",job="api"} == 0`) && !strings.Contains(string(content), `up{job="api",cluster="b"} == 0`) {
			t.Errorf("cluster b's up alert does not select cluster b:\n%s", content)
		}
		servers.ForEachPromtool(t, func(t *testing.T, promtool string) {
			cmd := exec.Command(promtool, "test", "rules", "api.test.yaml")
			cmd.Dir = filepath.Join(dir, "global_b", "rules", "tests")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("promtool test rules on cluster b's scoped rules: %v\n%s", err, out)
			}
		})

		before := func() []findingKey {
			code, out, stderr := cli(t, "--config", fleet, "audit", "--format", "json")
			if code != exitOK {
				t.Fatalf("audit: exit %d, stderr: %s", code, stderr)
			}
			return slices.Collect(maps.Keys(keys(decodeReport(t, []byte(out)))))
		}
		bUp := keyOf("alerts/missing-up", map[string]string{"job": "api", "cluster": "b", "source": "global"})
		if got := before(); !slices.Contains(got, bUp) {
			t.Fatalf("before loading the generated rules, %s is not reported: %v", bUp, got)
		}
		ruler.AddRuleFiles(t, bRules)
		if got := before(); slices.Contains(got, bUp) {
			t.Errorf("cluster b's api job still lacks an up alert after the ruler loaded its generated rules: %v", got)
		}
	})

	t.Run("A store that went down makes the audit partial, naming the store and its cluster, instead of dropping its gaps silently.", func(t *testing.T) {
		sidecarB.Process.Stop()
		q.WaitStores(t, 1, 1)
		code, out, stderr := cli(t, "--config", config, "audit", "--format", "json")
		if code != exitSource {
			t.Fatalf("exit %d, want %d; stderr: %s", code, exitSource, stderr)
		}
		if !strings.Contains(stderr, sidecarB.GRPCAddress) || !strings.Contains(stderr, `cluster="b"`) {
			t.Errorf("stderr does not name the unhealthy store and its cluster: %s", stderr)
		}
		rep := decodeReport(t, []byte(out))
		if rep.Sources[0].OK || !slices.ContainsFunc(rep.Sources[0].Errors, func(e report.SourceError) bool { return e.Part == "stores" }) {
			t.Errorf("source = %+v, want an error on part stores", rep.Sources[0])
		}

		snap := filepath.Join(t.TempDir(), "snap")
		if code, _, stderr := cli(t, "--config", config, "snapshot", "--out", snap); code != exitSource || !strings.Contains(stderr, sidecarB.GRPCAddress) {
			t.Fatalf("snapshot: exit %d, want %d naming the store; stderr: %s", code, exitSource, stderr)
		}
		if code, _, stderr := cli(t, "audit", "--from", snap); code != exitSource || !strings.Contains(stderr, sidecarB.GRPCAddress) || !strings.Contains(stderr, `cluster="b"`) {
			t.Errorf("offline audit: exit %d, want %d naming the unhealthy store; stderr: %s", code, exitSource, stderr)
		}
	})
}

// instanceIn returns the instance of the down target of the member whose key has value.
func instanceIn(r report.Report, key, value string) string {
	for _, f := range r.Findings {
		if f.Check == "targets/down" && f.Subject[key] == value {
			return f.Subject["instance"]
		}
	}
	return ""
}
