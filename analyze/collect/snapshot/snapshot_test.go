package snapshot_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/loki"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
	"github.com/blindspot-dev/blindspot/analyze/collect/snapshot"
)

var createdAt = time.Date(2026, 11, 26, 3, 28, 13, 541180650, time.UTC)

// manifest is a one-source snapshot: buildinfo and rules answered, metadata failed before any
// body arrived.
func manifest(version string) snapshot.Manifest {
	return snapshot.Manifest{
		ToolVersion: "test",
		CreatedAt:   createdAt,
		Sources: []snapshot.Source{{
			Name: "prometheus",
			Kind: "prometheus",
			URL:  "http://prom:9090",
			Responses: []snapshot.Response{
				{Response: prometheus.Response{
					Part: analyze.PartBuildInfo, Path: "/api/v1/status/buildinfo", Status: 200, ContentType: "application/json",
					Body: []byte(`{"status":"success","data":{"version":"` + version + `","revision":"","branch":"","buildUser":"","buildDate":"","goVersion":"go1.26.8"}}`),
				}},
				{Response: prometheus.Response{
					Part: analyze.PartRules, Path: "/api/v1/rules", Status: 500, ContentType: "application/json",
					Body: []byte(`{"status":"error","errorType":"internal","error":"rule manager is not ready"}`),
				}},
				{Response: prometheus.Response{
					Part: analyze.PartMetadata, Path: "/api/v1/metadata",
					Error: `Get "http://prom:9090/api/v1/metadata": dial tcp 10.0.0.1:9090: connect: connection refused`,
				}},
			},
		}},
	}
}

func write(t *testing.T, dir string, m snapshot.Manifest) {
	t.Helper()
	if err := snapshot.Write(dir, m); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, dir string) *snapshot.Snapshot {
	t.Helper()
	snap, err := snapshot.Read(os.DirFS(dir), dir)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func TestWrite(t *testing.T) {
	t.Parallel()

	t.Run("A snapshot read back holds the manifest and every body as written.", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "new", "snap")
		want := manifest("3.5.0")
		write(t, dir, want)

		got := read(t, dir).Manifest
		if got.Version != snapshot.FormatVersion || got.ToolVersion != "test" || !got.CreatedAt.Equal(createdAt) || len(got.Sources) != 1 {
			t.Fatalf("manifest %+v", got)
		}
		src := got.Sources[0]
		if src.Name != "prometheus" || src.Kind != "prometheus" || src.URL != "http://prom:9090" {
			t.Errorf("source %+v", src)
		}
		responses := snapshot.Responses(src)
		if len(responses) != 3 {
			t.Fatalf("%d responses, want 3", len(responses))
		}
		for i, r := range responses {
			w := want.Sources[0].Responses[i].Response
			if r.Part != w.Part || r.Path != w.Path || r.Status != w.Status || r.ContentType != w.ContentType || r.Error != w.Error || !bytes.Equal(r.Body, w.Body) {
				t.Errorf("response %d: got %+v, want %+v", i, r, w)
			}
		}
		if f := src.Responses[0].File; f != "prometheus/buildinfo.json" {
			t.Errorf("buildinfo body in %q", f)
		}
	})

	t.Run("A response recorded as an error has no file and keeps its error text.", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		write(t, dir, manifest("3.5.0"))

		r := read(t, dir).Manifest.Sources[0].Responses[2]
		if r.File != "" || r.Body != nil || r.Status != 0 {
			t.Errorf("error response has file %q, %d bytes, status %d", r.File, len(r.Body), r.Status)
		}
		if want := manifest("").Sources[0].Responses[2].Error; r.Error != want {
			t.Errorf("error %q, want %q", r.Error, want)
		}
		if _, err := os.Stat(filepath.Join(dir, "prometheus", "metadata.json")); !os.IsNotExist(err) {
			t.Errorf("a body file was written for a failed request: %v", err)
		}
	})

	t.Run("Writing over an existing snapshot replaces it.", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		write(t, dir, manifest("2.55.1"))
		write(t, dir, manifest("3.5.0"))

		body := read(t, dir).Manifest.Sources[0].Responses[0].Body
		if !bytes.Contains(body, []byte(`"3.5.0"`)) {
			t.Errorf("buildinfo after overwrite: %s", body)
		}
	})

	t.Run("An empty existing directory is written to.", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		write(t, dir, manifest("3.5.0"))
		read(t, dir)
	})

	t.Run("A non-empty directory without a manifest is refused and left as it was.", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644); err != nil {
			t.Fatal(err)
		}

		err := snapshot.Write(dir, manifest("3.5.0"))
		if err == nil || !strings.Contains(err.Error(), "not empty") || !strings.Contains(err.Error(), dir) {
			t.Fatalf("error %v, want one saying %s is not empty", err, dir)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Errorf("the directory now holds %d entries", len(entries))
		}
	})

	t.Run("A file where the directory should be is refused.", func(t *testing.T) {
		t.Parallel()
		file := filepath.Join(t.TempDir(), "snap")
		if err := os.WriteFile(file, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := snapshot.Write(file, manifest("3.5.0")); err == nil {
			t.Error("no error")
		}
	})
}

// lokiResult is what a Loki collector returns: two streams, one masked secret hit, and an
// error on the secret part.
func lokiResult() *loki.Result {
	api := map[string]string{"job": "api", "env": "prod"}
	return &loki.Result{
		Logs: analyze.Logs{
			Window: 90 * time.Minute,
			Streams: []analyze.LogStream{
				{Labels: api, Selector: `{env="prod", job="api"}`, Entries: 12},
				{Labels: map[string]string{"job": "worker"}, Selector: `{job="worker"}`, Entries: -1},
			},
			Secrets: []analyze.SecretHit{
				{Stream: `{env="prod", job="api"}`, Labels: api, Pattern: "aws-access-key-id", Count: 3, Example: "key AKIA**************** used"},
			},
		},
		Parts:  []analyze.Part{analyze.PartLogStreams, analyze.PartLogSecrets},
		Errors: []analyze.SourceError{{Part: analyze.PartLogSecrets, Err: "sampling 1 of 2 streams with secret keywords failed: HTTP 500"}},
		Notes:  []string{"line counts per stream are unknown: timeout"},
	}
}

func TestLoki(t *testing.T) {
	t.Parallel()

	t.Run("A Loki source is stored as what was collected, in its own file, and reads back equal.", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		m := manifest("3.5.0")
		m.Sources = append(m.Sources, snapshot.Source{Name: "loki", Kind: snapshot.KindLoki, URL: "http://loki:3100", Loki: lokiResult()})
		write(t, dir, m)

		got := read(t, dir).Manifest.Sources
		if len(got) != 2 {
			t.Fatalf("%d sources, want 2", len(got))
		}
		src := got[1]
		if src.Name != "loki" || src.Kind != "loki" || src.URL != "http://loki:3100" || src.File != "loki/logs.json" || len(src.Responses) != 0 {
			t.Errorf("source %+v", src)
		}
		if !reflect.DeepEqual(src.Loki, lokiResult()) {
			t.Errorf("read back\n %+v\nwant\n %+v", src.Loki, lokiResult())
		}
		manifestJSON, err := os.ReadFile(filepath.Join(dir, snapshot.ManifestFile))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(manifestJSON, []byte(`"file": "loki/logs.json"`)) {
			t.Errorf("the manifest does not name the Loki file:\n%s", manifestJSON)
		}
	})

	t.Run("A Loki source without data is refused.", func(t *testing.T) {
		t.Parallel()
		m := manifest("3.5.0")
		m.Sources = append(m.Sources, snapshot.Source{Name: "loki", Kind: snapshot.KindLoki})
		if err := snapshot.Write(t.TempDir(), m); err == nil || !strings.Contains(err.Error(), `Loki source "loki" has no data`) {
			t.Errorf("error %v", err)
		}
	})

	const withLoki = `{"version": 1, "sources": [{"name": "loki", "kind": "loki", "url": "http://loki:3100", "file": "loki/logs.json"}]}`
	for _, tc := range []struct {
		name string
		fsys fstest.MapFS
		want string
	}{
		{"A missing Loki file is named.",
			fstest.MapFS{"manifest.json": {Data: []byte(withLoki)}}, "snap is incomplete: loki/logs.json: file does not exist"},
		{"A Loki source without a file is refused.",
			fstest.MapFS{"manifest.json": {Data: []byte(strings.Replace(withLoki, `, "file": "loki/logs.json"`, ``, 1))}}, `Loki source "loki" names no file`},
		{"A Loki file with a window that is not a duration is refused.",
			fstest.MapFS{"manifest.json": {Data: []byte(withLoki)}, "loki/logs.json": {Data: []byte(`{"window": "an hour", "parts": []}`)}},
			"invalid loki/logs.json: window"},
		{"A Loki file claiming a Prometheus part is refused.",
			fstest.MapFS{"manifest.json": {Data: []byte(withLoki)}, "loki/logs.json": {Data: []byte(`{"window": "1h0m0s", "parts": ["targets"]}`)}},
			`part "targets" is not a Loki part`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := snapshot.Read(tc.fsys, "snap")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestRead(t *testing.T) {
	t.Parallel()

	// valid is the manifest of a snapshot whose one response is in prometheus/buildinfo.json.
	const valid = `{"version": 1, "sources": [{"name": "prometheus", "kind": "prometheus", "responses": [
		{"part": "buildinfo", "path": "/api/v1/status/buildinfo", "status": 200, "file": "prometheus/buildinfo.json"}]}]}`
	body := &fstest.MapFile{Data: []byte(`{"status":"success","data":{"version":"3.5.0"}}`)}

	for _, tc := range []struct {
		name string
		fsys fstest.MapFS
		want string
	}{
		{"A directory without manifest.json is not a snapshot.",
			fstest.MapFS{"prometheus/buildinfo.json": body}, "snap: no manifest.json"},
		{"A manifest that is not JSON is reported as invalid.",
			fstest.MapFS{"manifest.json": {Data: []byte("version: 1\n")}}, "snap: invalid manifest.json"},
		{"A manifest of another format version is refused with both versions named.",
			fstest.MapFS{"manifest.json": {Data: []byte(strings.Replace(valid, `"version": 1`, `"version": 2`, 1))}, "prometheus/buildinfo.json": body},
			"unsupported format version 2 (this blindspot reads version 1)"},
		{"A manifest without a version is refused.",
			fstest.MapFS{"manifest.json": {Data: []byte(strings.Replace(valid, `"version": 1,`, ``, 1))}, "prometheus/buildinfo.json": body},
			"unsupported format version 0"},
		{"A missing body file is named.",
			fstest.MapFS{"manifest.json": {Data: []byte(valid)}}, "snap is incomplete: prometheus/buildinfo.json: file does not exist"},
		{"A manifest without sources is refused.",
			fstest.MapFS{"manifest.json": {Data: []byte(`{"version": 1, "sources": []}`)}}, "lists no sources"},
		{"A source of an unknown kind is refused.",
			fstest.MapFS{"manifest.json": {Data: []byte(strings.Replace(valid, `"kind": "prometheus"`, `"kind": "thanos"`, 1))}, "prometheus/buildinfo.json": body},
			`source "prometheus" has unsupported kind "thanos"`},
		{"A source whose name would leave the snapshot's directory is refused.",
			fstest.MapFS{"manifest.json": {Data: []byte(strings.Replace(valid, `"name": "prometheus"`, `"name": ".."`, 1))}, "prometheus/buildinfo.json": body},
			`source name ".." cannot name a directory of the snapshot`},
		{"In a fleet's snapshot, a Prometheus without its fleet entry is refused.",
			fstest.MapFS{"manifest.json": {Data: []byte(strings.Replace(valid, `"sources": [`,
				`"sources": [{"name": "eu", "kind": "prometheus", "fleet": {"kind": "prometheus"}}, `, 1))}, "prometheus/buildinfo.json": body},
			`source "prometheus" of a fleet's snapshot has no fleet entry`},
		{"A fleet entry on a source other than a Prometheus is refused.",
			fstest.MapFS{"manifest.json": {Data: []byte(`{"version": 1, "sources": [{"name": "am", "kind": "alertmanager", "fleet": {"kind": "prometheus"}}]}`)}},
			`source "am" of kind "alertmanager" cannot be a server of a fleet`},
		{"An answer file that is a named pipe is refused, not waited on.",
			fstest.MapFS{"manifest.json": {Data: []byte(valid)}, "prometheus/buildinfo.json": {Mode: fs.ModeNamedPipe}},
			"snap is incomplete: prometheus/buildinfo.json: not a regular file (a named pipe)"},
		{"A manifest that is a device is refused, not read for ever.",
			fstest.MapFS{"manifest.json": {Mode: fs.ModeDevice | fs.ModeCharDevice}, "prometheus/buildinfo.json": body},
			"snap: read manifest.json: not a regular file (a character device)"},
		{"A response with neither a file nor an error is refused.",
			fstest.MapFS{"manifest.json": {Data: []byte(strings.Replace(valid, `, "file": "prometheus/buildinfo.json"`, ``, 1))}},
			"response for buildinfo has neither a file nor an error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := snapshot.Read(tc.fsys, "snap")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}

	t.Run("A directory that does not exist is reported as such.", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "nowhere")
		_, err := snapshot.Read(os.DirFS(dir), dir)
		if err == nil || !strings.Contains(err.Error(), dir+": directory does not exist") {
			t.Errorf("error %v", err)
		}
	})

	t.Run("A snapshot is read from any file system, such as an embedded one.", func(t *testing.T) {
		t.Parallel()
		snap, err := snapshot.Read(fstest.MapFS{"manifest.json": {Data: []byte(valid)}, "prometheus/buildinfo.json": body}, "embedded")
		if err != nil {
			t.Fatal(err)
		}
		if r := snapshot.Responses(snap.Manifest.Sources[0]); len(r) != 1 || !bytes.Equal(r[0].Body, body.Data) {
			t.Errorf("responses %+v", r)
		}
	})

	t.Run("The demo snapshot reads, with a body for each endpoint and for each job_metrics query.", func(t *testing.T) {
		t.Parallel()
		snap, err := snapshot.Read(os.DirFS("../../../testdata/demo"), "demo")
		if err != nil {
			t.Fatal(err)
		}
		responses := snapshot.Responses(snap.Manifest.Sources[0])
		var parts []analyze.Part
		queries, kube := 0, 0
		for _, r := range responses {
			if r.Status != 200 || len(r.Body) == 0 {
				t.Errorf("%s: status %d, %d bytes", r.Part, r.Status, len(r.Body))
			}
			if r.Part == analyze.PartJobMetrics && r.Query == "" {
				t.Errorf("a job_metrics response without its query")
			}
			switch {
			case strings.HasPrefix(r.Query, "group by (job, __name__) "):
				queries++
			case strings.Contains(r.Query, "kube_"):
				kube++
			case r.Query != "":
				t.Errorf("unexpected query %q", r.Query)
			}
			if !slices.Contains(parts, r.Part) {
				parts = append(parts, r.Part)
			}
		}
		// One query for the business candidates, one for the ruleset detection names, one for
		// the metrics the demo's dashboard reads; the others look for kube-state-metrics series
		// (the demo has none).
		if !slices.Equal(parts, analyze.AllPrometheusParts) || queries != 3 || kube == 0 {
			t.Errorf("parts %v with %d job queries and %d kube-state-metrics ones, want every part in order, 3 job queries and some kube-state-metrics ones", parts, queries, kube)
		}
		// It was recorded with a week of history and its runbook links fetched.
		if h := snap.Manifest.Sources[0].History; h == nil || !h.OK || len(h.History.Counters) != 2 || len(h.History.Jobs) != 1 || len(h.History.Alerts.Alerts) != 2 {
			t.Errorf("the demo's history %+v, want two counters, a vanished job and two alerts that fired", h)
		}
		if len(snap.Manifest.RunbookLinks) != 3 {
			t.Errorf("runbook links %+v, want the 3 distinct links of the demo's rules", snap.Manifest.RunbookLinks)
		}
	})
}

func TestASnapshotHoldsNoCredential(t *testing.T) {
	m := manifest("2.42.0")
	src := &m.Sources[0]
	src.URL = "http://admin:urlPw11@prom:9090/?access_token=qTok22"
	src.Responses[2].Error = `Get "http://prom:9090/api/v1/metadata?access_token=qTok22": dial tcp: connection refused`
	yamlText := "scrape_configs:\n- job_name: api\n  basic_auth:\n    username: scraper\n    password: cfgPw33\n  authorization:\n    credentials: cfgTok44\n  static_configs:\n  - targets: [api:8080]\n"
	body, _ := json.Marshal(map[string]any{"status": "success", "data": map[string]string{"yaml": yamlText}})
	src.Responses = append(src.Responses, snapshot.Response{Response: prometheus.Response{
		Part: analyze.PartConfig, Path: "/api/v1/status/config", Status: 200, ContentType: "application/json", Body: body,
	}})
	dir := t.TempDir()
	write(t, dir, m)

	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, s := range []string{"urlPw11", "qTok22", "cfgPw33", "cfgTok44", "admin"} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds %s:\n%s", p, s, b)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	snap := read(t, dir)
	if got := snap.Manifest.Sources[0].URL; got != "http://prom:9090/?access_token=xxxxx" {
		t.Errorf("URL = %q", got)
	}
	for _, r := range snapshot.Responses(snap.Manifest.Sources[0]) {
		if r.Part == analyze.PartConfig && !bytes.Contains(r.Body, []byte("password: \u003csecret\u003e")) && !bytes.Contains(r.Body, []byte(`password: \u003csecret\u003e`)) {
			t.Errorf("config body: %s", r.Body)
		}
	}
}
