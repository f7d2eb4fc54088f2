package rules

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/internal/golden"
)

var (
	formats = []string{FormatPrometheus, FormatOperator}
	modes   = []string{ModeAbsolute, ModeRelative}
)

// goldenDir holds the rendered files of one format and mode: testdata/<format>/<mode>/.
func goldenDir(format, mode string) string { return filepath.Join("testdata", format, mode) }

// renderAll plans the fixture and renders every file, by file name.
func renderAll(t *testing.T, format, mode string) map[string][]byte {
	t.Helper()
	o := fixtureOptions(format, mode)
	files, err := Plan(fixtureFindings(), o)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		content, err := Render(f, o)
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name+".yaml"] = content
	}
	return out
}

func TestGoldenFiles(t *testing.T) {
	for _, format := range formats {
		for _, mode := range modes {
			t.Run("The "+format+" files in "+mode+" mode match testdata", func(t *testing.T) {
				got := renderAll(t, format, mode)
				compareDir(t, goldenDir(format, mode), got)
			})
		}
	}
	for _, mode := range modes {
		t.Run("The plan in "+mode+" mode, test cases included, matches testdata", func(t *testing.T) {
			files, err := Plan(fixtureFindings(), fixtureOptions(FormatPrometheus, mode))
			if err != nil {
				t.Fatal(err)
			}
			compareDir(t, filepath.Join("testdata", "plan"), map[string][]byte{mode + ".yaml": dumpPlan(t, files)})
		})
	}
}

// compareDir compares the files of dir with want, or rewrites dir with -update. A file in dir
// that is no longer generated fails the test too.
func compareDir(t *testing.T, dir string, want map[string][]byte) {
	t.Helper()
	if golden.Updating() {
		if filepath.Base(dir) != "plan" {
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, content := range want {
			if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	for name, content := range want {
		want, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v (run go test -update)", name, err)
			continue
		}
		if d := golden.Diff(filepath.Join(dir, name), want, content); d != "" {
			t.Errorf("%s differs from the golden file (run go test -update and review the diff):\n%s", name, d)
		}
	}
	if filepath.Base(dir) != "plan" {
		for _, name := range names {
			if _, ok := want[name]; !ok {
				t.Errorf("%s is in %s but no longer generated", name, dir)
			}
		}
	}
}

// dumpPlan writes the plan as YAML for review: what Render does not show, the kinds and the
// promtool test cases.
func dumpPlan(t *testing.T, files []generate.RuleFile) []byte {
	t.Helper()
	type testCase struct {
		Interval      model.Duration      `yaml:"interval"`
		EvalTime      model.Duration      `yaml:"eval_time"`
		FailingSeries []generate.Series   `yaml:"failing"`
		HealthySeries []generate.Series   `yaml:"healthy"`
		ExtraHealthy  [][]generate.Series `yaml:"extra_healthy,omitempty"`
		FiringLabels  map[string]string   `yaml:"firing_labels"`
	}
	type alert struct {
		Name    string         `yaml:"name"`
		Kind    generate.Kind  `yaml:"kind"`
		Job     string         `yaml:"job"`
		Metric  string         `yaml:"metric,omitempty"`
		Expr    string         `yaml:"expr"`
		For     model.Duration `yaml:"for"`
		Runbook string         `yaml:"runbook"`
		Test    testCase       `yaml:"test"`
	}
	type file struct {
		Name   string  `yaml:"name"`
		Group  string  `yaml:"group"`
		Alerts []alert `yaml:"alerts"`
	}
	var out []file
	for _, f := range files {
		df := file{Name: f.Name, Group: f.Group}
		for _, a := range f.Alerts {
			tc := a.Test
			df.Alerts = append(df.Alerts, alert{
				Name: a.Name, Kind: a.Kind, Job: a.Job, Metric: a.Metric, Expr: a.Expr.String(),
				For: model.Duration(a.For), Runbook: a.Runbook,
				Test: testCase{
					Interval: model.Duration(tc.Interval), EvalTime: model.Duration(tc.EvalTime),
					FailingSeries: tc.FailingSeries, HealthySeries: tc.HealthySeries,
					ExtraHealthy: tc.ExtraHealthy, FiringLabels: tc.FiringLabels,
				},
			})
		}
		out = append(out, df)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(out); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDeterminism(t *testing.T) {
	t.Run("Rendering twice gives identical bytes.", func(t *testing.T) {
		for _, format := range formats {
			for _, mode := range modes {
				a, b := renderAll(t, format, mode), renderAll(t, format, mode)
				for name := range a {
					if !bytes.Equal(a[name], b[name]) {
						t.Errorf("%s/%s/%s differs between two runs", format, mode, name)
					}
				}
			}
		}
	})
	t.Run("Shuffled and repeated findings give identical files.", func(t *testing.T) {
		o := fixtureOptions(FormatPrometheus, ModeAbsolute)
		want := renderAll(t, FormatPrometheus, ModeAbsolute)
		fs := fixtureFindings()
		fs = append(fs, fs[3], fs[7])
		for i := range 20 {
			// A fixed permutation per round: reproducible, and different every round.
			perm := slices.Clone(fs)
			for j := len(perm) - 1; j > 0; j-- {
				k := (j*7 + i*13) % (j + 1)
				perm[j], perm[k] = perm[k], perm[j]
			}
			files, err := Plan(perm, o)
			if err != nil {
				t.Fatal(err)
			}
			if len(files) != len(want) {
				t.Fatalf("round %d: %d files, want %d", i, len(files), len(want))
			}
			for _, f := range files {
				content, err := Render(f, o)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(content, want[f.Name+".yaml"]) {
					t.Fatalf("round %d: %s differs", i, f.Name)
				}
			}
		}
	})
}

// durationOf parses a Prometheus duration in tests.
func durationOf(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := model.ParseDuration(s)
	if err != nil {
		t.Fatal(err)
	}
	return time.Duration(d)
}
