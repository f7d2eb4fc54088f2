package snapshot_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/blindspot-dev/blindspot/analyze/collect/grafana"
	"github.com/blindspot-dev/blindspot/analyze/collect/snapshot"
	"github.com/blindspot-dev/blindspot/internal/testcorpus"
)

func grafanaResult(t *testing.T) *grafana.Result {
	t.Helper()
	// A real dashboard, as Grafana would answer it.
	model, err := os.ReadFile(testcorpus.File(t, "dashboards/spanmetrics-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var compact json.RawMessage
	if err := json.Unmarshal(model, &compact); err != nil {
		t.Fatal(err)
	}
	return &grafana.Result{
		Dashboards: []grafana.Dashboard{{
			UID: "W2gX2zHVk48", Title: "Spanmetrics Demo Dashboard", FolderUID: "apps", FolderTitle: "Apps",
			Tags: []string{}, URL: "http://grafana:3000/d/W2gX2zHVk48/spanmetrics-demo-dashboard", Version: 2, JSON: compact,
		}},
		Notes: []string{`dashboard gone (\"Gone\") was deleted while being read`},
	}
}

func TestGrafana(t *testing.T) {
	t.Parallel()

	t.Run("A Grafana source keeps every dashboard as Grafana answered it, in its own file, and reads back equal.", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		m := manifest("3.5.0")
		want := grafanaResult(t)
		m.Sources = append(m.Sources, snapshot.Source{Name: "grafana", Kind: snapshot.KindGrafana, URL: "http://grafana:3000", Grafana: want})
		write(t, dir, m)

		got := read(t, dir).Manifest.Sources
		if len(got) != 2 {
			t.Fatalf("%d sources, want 2", len(got))
		}
		src := got[1]
		if src.Kind != "grafana" || src.File != "grafana/dashboards.json" || src.Grafana == nil {
			t.Fatalf("source kind %q file %q", src.Kind, src.File)
		}
		if len(src.Grafana.Dashboards) != 1 || src.Grafana.Err != nil || !reflect.DeepEqual(src.Grafana.Notes, want.Notes) {
			t.Fatalf("read back %d dashboards, err %v, notes %q", len(src.Grafana.Dashboards), src.Grafana.Err, src.Grafana.Notes)
		}
		d, w := src.Grafana.Dashboards[0], want.Dashboards[0]
		var gotModel, wantModel any
		json.Unmarshal(d.JSON, &gotModel)
		json.Unmarshal(w.JSON, &wantModel)
		d.JSON, w.JSON = nil, nil
		if !reflect.DeepEqual(d, w) || !reflect.DeepEqual(gotModel, wantModel) {
			t.Errorf("read back %+v, want %+v (models equal: %v)", d, w, reflect.DeepEqual(gotModel, wantModel))
		}
		parsedNow, _, err := grafana.Parse(want.Dashboards)
		if err != nil {
			t.Fatal(err)
		}
		parsedBack, _, err := grafana.Parse(src.Grafana.Dashboards)
		if err != nil {
			t.Fatal(err)
		}
		if len(parsedBack) != 1 || len(parsedBack[0].Queries) == 0 || len(parsedBack[0].Queries) != len(parsedNow[0].Queries) {
			t.Errorf("queries read back differ from the live ones")
		}
	})

	t.Run("A Grafana that could not be read is stored with its error, which reads back.", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		m := manifest("3.5.0")
		m.Sources = append(m.Sources, snapshot.Source{Name: "grafana", Kind: snapshot.KindGrafana, URL: "http://grafana:3000",
			Grafana: &grafana.Result{Err: errors.New("listing dashboards: HTTP 401: Unauthorized")}})
		write(t, dir, m)
		content, err := os.ReadFile(filepath.Join(dir, "grafana", "dashboards.json"))
		if err != nil || !strings.Contains(string(content), `"dashboards": []`) {
			t.Errorf("file %s, err %v", content, err)
		}
		src := read(t, dir).Manifest.Sources[1]
		if src.Grafana.Err == nil || src.Grafana.Err.Error() != "listing dashboards: HTTP 401: Unauthorized" {
			t.Errorf("error read back %v", src.Grafana.Err)
		}
	})

	const withGrafana = `{"version": 1, "sources": [{"name": "grafana", "kind": "grafana", "url": "http://grafana:3000", "file": "grafana/dashboards.json"}]}`
	for _, tc := range []struct {
		name string
		fsys fstest.MapFS
		want string
	}{
		{"A missing Grafana file is named.",
			fstest.MapFS{"manifest.json": {Data: []byte(withGrafana)}}, "snap is incomplete: grafana/dashboards.json: file does not exist"},
		{"A Grafana source without a file is refused.",
			fstest.MapFS{"manifest.json": {Data: []byte(strings.Replace(withGrafana, `, "file": "grafana/dashboards.json"`, ``, 1))}}, `Grafana source "grafana" names no file`},
		{"A Grafana file that is not JSON is refused.",
			fstest.MapFS{"manifest.json": {Data: []byte(withGrafana)}, "grafana/dashboards.json": {Data: []byte(`{"dashboards": [`)}}, "invalid grafana/dashboards.json"},
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
