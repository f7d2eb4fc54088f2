package rulefiles

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/internal/testcorpus"
)

// corpusDir holds real third-party rule files (the test is skipped when the corpus is not
// beside the repository).
func corpusDir(t testing.TB) string { return testcorpus.Dir(t, "rules") }

func corpusFile(t testing.TB, name string) string {
	return filepath.Join(corpusDir(t), filepath.FromSlash(name))
}

func mustLoad(t *testing.T, paths ...string) Result {
	t.Helper()
	res, err := Load(paths)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func groupNames(groups []analyze.RuleGroup) []string {
	var names []string
	for _, g := range groups {
		names = append(names, g.Name)
	}
	return names
}

func countKinds(groups []analyze.RuleGroup) (alerting, recording int) {
	for _, g := range groups {
		for _, r := range g.Rules {
			switch r.Kind {
			case analyze.RuleAlerting:
				alerting++
			case analyze.RuleRecording:
				recording++
			}
		}
	}
	return alerting, recording
}

func TestLoadCorpus(t *testing.T) {
	t.Run("Every file in the rules corpus loads, and every PromQL expression in it parses.", func(t *testing.T) {
		res := mustLoad(t, corpusDir(t))
		if len(res.Groups) < 50 {
			t.Fatalf("only %d groups loaded from %s", len(res.Groups), corpusDir(t))
		}
		for _, g := range res.Groups {
			for _, r := range g.Rules {
				if r.File != g.File || r.Group != g.Name || r.Line == 0 || r.Name == "" || r.Expr == "" {
					t.Errorf("%s: incomplete rule %+v", g.File, r)
				}
				if g.Language == "promql" && (r.Parsed == nil || r.ParseError != "") {
					t.Errorf("%s:%d: %s does not parse: %s", r.File, r.Line, r.Name, r.ParseError)
				}
			}
		}
		err := filepath.WalkDir(corpusDir(t), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			_, err = Load([]string{path})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("Each file yields the groups, alerting and recording rules that promtool counts.", func(t *testing.T) {
		for _, tc := range []struct {
			file                        string
			groups, alerting, recording int
		}{
			{"alertmanager-prometheusRule.yaml", 1, 9, 0},
			{"kubernetesControlPlane-prometheusRule.yaml", 25, 63, 71},
			{"nodeExporter-prometheusRule.yaml", 2, 26, 15},
			{"awesome-prometheus-alerts_prometheus-self-monitoring_embedded-exporter.yml", 1, 28, 0},
			{"gitlab.rules", 7, 11, 49},
			{"gitlab_node.rules", 1, 2, 9},
			{"sloth_getting-started.yml", 3, 2, 15},
			{"promtool/rules.yml", 2, 2, 3},
			{"thanos/alerts.yaml", 8, 48, 0},
			{"thanos/rules.yaml", 4, 0, 16},
			{"vlogs-example-alerts.yml", 1, 2, 1},
		} {
			res := mustLoad(t, corpusFile(t, tc.file))
			alerting, recording := countKinds(res.Groups)
			if len(res.Groups) != tc.groups || alerting != tc.alerting || recording != tc.recording {
				t.Errorf("%s: %d groups, %d alerting, %d recording; want %d, %d, %d",
					tc.file, len(res.Groups), alerting, recording, tc.groups, tc.alerting, tc.recording)
			}
		}
	})

	t.Run("The vlogs group is kept as LogsQL, with its rules unparsed.", func(t *testing.T) {
		res := mustLoad(t, corpusFile(t, "vlogs-example-alerts.yml"))
		g := res.Groups[0]
		if g.Name != "log-rules" || g.Language != "vlogs" || g.Interval != 30*time.Second {
			t.Errorf("group = %q, %q, %v", g.Name, g.Language, g.Interval)
		}
		for _, r := range g.Rules {
			if r.Parsed != nil || r.ParseError != "" {
				t.Errorf("rule %s was parsed as PromQL: %v %q", r.Name, r.Parsed, r.ParseError)
			}
		}
		if r := g.Rules[2]; r.Kind != analyze.RuleRecording || r.Name != "path:logs:count" || r.Expr != "* | stats by (path) count()" || r.Line != 14 {
			t.Errorf("rule 3 = %+v", r)
		}
	})

	t.Run("promtool unit test files are skipped as such, and nothing else in the corpus is.", func(t *testing.T) {
		res := mustLoad(t, corpusDir(t))
		want := []Skipped{
			{File: corpusFile(t, "promtool/unittest.yml"), Line: 1, Reason: ReasonUnitTest},
			{File: corpusFile(t, "thanos/tests.yaml"), Line: 1, Reason: ReasonUnitTest},
		}
		if !slices.Equal(res.Skipped, want) {
			t.Errorf("Skipped = %+v, want %+v", res.Skipped, want)
		}
	})

	t.Run("A PrometheusRule yields its spec.groups with every rule field filled in.", func(t *testing.T) {
		path := corpusFile(t, "alertmanager-prometheusRule.yaml")
		res := mustLoad(t, path)
		if got := groupNames(res.Groups); !slices.Equal(got, []string{"alertmanager.rules"}) {
			t.Fatalf("groups = %v", got)
		}
		g := res.Groups[0]
		if g.File != path || g.Language != "promql" || g.Interval != 0 {
			t.Errorf("group = %+v", g)
		}
		r := g.Rules[0]
		if r.Kind != analyze.RuleAlerting || r.Name != "AlertmanagerFailedReload" || r.For != 10*time.Minute ||
			r.Line != 18 || r.File != path || r.Group != "alertmanager.rules" ||
			r.Labels["severity"] != "critical" || !strings.HasPrefix(r.Annotations["summary"], "Reloading an Alertmanager") ||
			!strings.HasSuffix(r.Expr, `[5m]) == 0`) || r.Parsed == nil {
			t.Errorf("rule 1 = %+v", r)
		}
	})

	t.Run("Group intervals are read, as in gitlab.rules and the kube-apiserver availability group.", func(t *testing.T) {
		res := mustLoad(t, corpusFile(t, "gitlab.rules"), corpusFile(t, "kubernetesControlPlane-prometheusRule.yaml"))
		intervals := map[string]time.Duration{}
		for _, g := range res.Groups {
			intervals[g.Name] = g.Interval
		}
		for name, want := range map[string]time.Duration{
			"GitLab":                            0,
			"Service Level Indicators":          30 * time.Second,
			"GitLab Usage Ping":                 5 * time.Minute,
			"kube-apiserver-availability.rules": 3 * time.Minute,
			"kube-apiserver-burnrate.rules":     0,
			"Service Level Indicators - Apdex":  time.Minute,
			"GitLab Saturation Ratios Stats":    5 * time.Minute,
			"Service Level Indicators - Errors": time.Minute,
			"kubernetes-system-apiserver":       0,
			"kube-apiserver-histogram.rules":    0,
			"kubelet.rules":                     0,
			"k8s.rules.pod_owner":               0,
			"node.rules":                        0,
		} {
			got, ok := intervals[name]
			if !ok || got != want {
				t.Errorf("group %q: interval %v (found %v), want %v", name, got, ok, want)
			}
		}
	})

	t.Run("The Sloth file that starts with a blank line and --- loads all three groups.", func(t *testing.T) {
		res := mustLoad(t, corpusFile(t, "sloth_getting-started.yml"))
		want := []string{
			"sloth-slo-sli-recordings-myservice-requests-availability",
			"sloth-slo-meta-recordings-myservice-requests-availability",
			"sloth-slo-alerts-myservice-requests-availability",
		}
		if got := groupNames(res.Groups); !slices.Equal(got, want) {
			t.Errorf("groups = %v", got)
		}
		if r := res.Groups[0].Rules[0]; r.Line != 9 || r.Labels["tier"] != "2" {
			t.Errorf("first rule = %+v", r)
		}
	})

	t.Run("Rules keep their line, as promtool/rules.yml shows.", func(t *testing.T) {
		res := mustLoad(t, corpusFile(t, "promtool/rules.yml"))
		lines := map[string]int{}
		for _, r := range append(res.Groups[0].Rules, res.Groups[1].Rules...) {
			lines[r.Name] = r.Line
		}
		if lines["InstanceDown"] != 6 || lines["fixed_data"] != 23 {
			t.Errorf("lines = %v", lines)
		}
	})

	t.Run("An empty group (rules: []) is kept without rules.", func(t *testing.T) {
		res := mustLoad(t, corpusFile(t, "thanos/rules.yaml"))
		last := res.Groups[len(res.Groups)-1]
		if last.Name != "thanos-bucket-replicate.rules" || len(last.Rules) != 0 {
			t.Errorf("last group = %+v", last)
		}
	})
}

func TestLoadDocuments(t *testing.T) {
	t.Run("A multi-document file yields the groups of every rule document and skips the others with their line.", func(t *testing.T) {
		path := writeFile(t, t.TempDir(), "mixed.yaml", `
---
groups:
  - name: plain
    rules:
      - record: a:b
        expr: sum(up)
---
apiVersion: v1
kind: ConfigMap
metadata: {name: x}
data: {a: b}
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
spec:
  groups:
    - name: crd
      rules:
        - alert: Down
          expr: up == 0
---
`)
		res := mustLoad(t, path)
		if got := groupNames(res.Groups); !slices.Equal(got, []string{"plain", "crd"}) {
			t.Errorf("groups = %v", got)
		}
		want := []Skipped{{File: path, Line: 9, Reason: "Kubernetes ConfigMap, not a PrometheusRule"}}
		if !slices.Equal(res.Skipped, want) {
			t.Errorf("Skipped = %+v, want %+v", res.Skipped, want)
		}
		if r := res.Groups[1].Rules[0]; r.Line != 20 || r.Group != "crd" {
			t.Errorf("crd rule = %+v", r)
		}
	})

	t.Run("A Kubernetes List of PrometheusRules yields the groups of each item.", func(t *testing.T) {
		path := writeFile(t, t.TempDir(), "list.yaml", `
apiVersion: v1
kind: List
items:
  - apiVersion: monitoring.coreos.com/v1
    kind: PrometheusRule
    spec:
      groups:
        - name: one
          rules: [{alert: A, expr: up == 0}]
  - apiVersion: monitoring.coreos.com/v1
    kind: PrometheusRule
    spec:
      groups:
        - name: one
          rules: [{record: "x:y", expr: sum(up)}]
  - apiVersion: v1
    kind: Secret
`)
		res := mustLoad(t, path)
		if got := groupNames(res.Groups); !slices.Equal(got, []string{"one", "one"}) {
			t.Errorf("groups = %v", got)
		}
		if len(res.Skipped) != 1 || res.Skipped[0].Line != 17 || res.Skipped[0].Reason != "Kubernetes Secret, not a PrometheusRule" {
			t.Errorf("Skipped = %+v", res.Skipped)
		}
	})

	t.Run("Empty, comment-only and separator-only files are skipped as empty.", func(t *testing.T) {
		dir := t.TempDir()
		var paths []string
		for i, content := range []string{"", "# nothing here\n", "\n---\n---\n"} {
			paths = append(paths, writeFile(t, dir, string(rune('a'+i))+".yml", content))
		}
		res := mustLoad(t, paths...)
		if len(res.Groups) != 0 || len(res.Skipped) != 3 {
			t.Fatalf("got %+v", res)
		}
		for i, s := range res.Skipped {
			if s.File != paths[i] || s.Reason != ReasonEmpty || s.Line != 0 {
				t.Errorf("skipped %d = %+v", i, s)
			}
		}
	})

	t.Run("A document that is not a rule file is skipped with a reason.", func(t *testing.T) {
		dir := t.TempDir()
		res := mustLoad(t,
			writeFile(t, dir, "compose.yml", "services:\n  web: {image: nginx}\n"),
			writeFile(t, dir, "list.yml", "- a\n- b\n"))
		want := []Skipped{
			{File: filepath.Join(dir, "compose.yml"), Line: 1, Reason: "not a rule file: no top-level groups"},
			{File: filepath.Join(dir, "list.yml"), Line: 1, Reason: "not a rule file: the document is a list, not a mapping"},
		}
		if !slices.Equal(res.Skipped, want) {
			t.Errorf("Skipped = %+v, want %+v", res.Skipped, want)
		}
	})

	t.Run("An expression that does not parse is recorded on its rule, not returned as an error.", func(t *testing.T) {
		res := mustLoad(t, writeFile(t, t.TempDir(), "bad-expr.yml", "groups:\n  - name: g\n    rules:\n      - alert: Broken\n        expr: sum(rate(x[5m])\n      - alert: Fine\n        expr: up == 0\n"))
		broken, fine := res.Groups[0].Rules[0], res.Groups[0].Rules[1]
		if broken.Parsed != nil || !strings.Contains(broken.ParseError, "unclosed left parenthesis") {
			t.Errorf("broken = %v %q", broken.Parsed, broken.ParseError)
		}
		if fine.Parsed == nil || fine.ParseError != "" {
			t.Errorf("fine = %v %q", fine.Parsed, fine.ParseError)
		}
	})

	t.Run("Group labels apply to every rule of the group, a rule's own label winning.", func(t *testing.T) {
		res := mustLoad(t, writeFile(t, t.TempDir(), "labels.yml", `
groups:
  - name: g
    labels: {team: core, severity: warning}
    rules:
      - alert: A
        expr: up == 0
        labels: {severity: critical}
      - record: b:c
        expr: sum(up)
`))
		a, b := res.Groups[0].Rules[0], res.Groups[0].Rules[1]
		if a.Labels["team"] != "core" || a.Labels["severity"] != "critical" || b.Labels["severity"] != "warning" {
			t.Errorf("labels: %v, %v", a.Labels, b.Labels)
		}
	})

	t.Run("A List naming the same documents many times over through aliases reads each once.", func(t *testing.T) {
		// Without that, 40 aliases on each of four levels would be 40⁴ documents.
		refs := func(anchor string) string { return strings.TrimSuffix(strings.Repeat("*"+anchor+", ", 40), ", ") }
		content := "kind: List\nitems:\n" +
			"  - &l0 {kind: PrometheusRule, spec: {groups: [{name: g, rules: [{alert: A, expr: up == 0}]}]}}\n" +
			"  - &l1 {kind: List, items: [" + refs("l0") + "]}\n" +
			"  - &l2 {kind: List, items: [" + refs("l1") + "]}\n" +
			"  - {kind: List, items: [" + refs("l2") + "]}\n"
		res := mustLoad(t, writeFile(t, t.TempDir(), "aliases.yml", content))
		if len(res.Groups) != 1 {
			t.Errorf("%d groups, want 1", len(res.Groups))
		}
	})

	t.Run("type: prometheus is PromQL, and anchors and aliases are followed.", func(t *testing.T) {
		res := mustLoad(t, writeFile(t, t.TempDir(), "anchors.yml", `
groups:
  - name: g
    type: prometheus
    rules:
      - &down
        alert: Down
        expr: up == 0
        for: 5m
  - name: h
    rules:
      - *down
`))
		for _, g := range res.Groups {
			if g.Language != "promql" || len(g.Rules) != 1 || g.Rules[0].Parsed == nil || g.Rules[0].For != 5*time.Minute {
				t.Errorf("group %+v", g)
			}
		}
	})
}

func TestLoadPaths(t *testing.T) {
	t.Run("A directory is walked in order for rule files, skipping hidden directories and other extensions.", func(t *testing.T) {
		dir := t.TempDir()
		rule := "groups:\n  - name: g\n    rules:\n      - record: a:b\n        expr: sum(up)\n"
		for _, name := range []string{"b.yaml", "a.yml", "sub/c.rules", "sub/d.RULES", ".git/e.yml", "..2024_01_01/f.yml", "notes.txt", "g.json"} {
			writeFile(t, dir, name, rule)
		}
		res := mustLoad(t, dir)
		var files []string
		for _, g := range res.Groups {
			files = append(files, strings.TrimPrefix(g.File, dir+string(filepath.Separator)))
		}
		want := []string{"a.yml", "b.yaml", filepath.Join("sub", "c.rules"), filepath.Join("sub", "d.RULES")}
		if !slices.Equal(files, want) {
			t.Errorf("files = %v, want %v", files, want)
		}
	})

	t.Run("A directory mounted from a Kubernetes ConfigMap is read once, through its symbolic links.", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "..2024_01_01_00_00_00.000000001/alerts.yml", "groups:\n  - name: g\n    rules: []\n")
		for link, target := range map[string]string{"..data": "..2024_01_01_00_00_00.000000001", "alerts.yml": "..data/alerts.yml"} {
			if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
				t.Skip("no symbolic links here:", err)
			}
		}
		res := mustLoad(t, dir)
		if len(res.Groups) != 1 || res.Groups[0].File != filepath.Join(dir, "alerts.yml") {
			t.Errorf("groups = %+v", res.Groups)
		}
	})

	t.Run("A file named explicitly is read whatever its extension, and only once.", func(t *testing.T) {
		dir := t.TempDir()
		path := writeFile(t, dir, "rules.txt", "groups:\n  - name: g\n    rules: []\n")
		res := mustLoad(t, path, dir, path)
		if len(res.Groups) != 1 || res.Groups[0].File != path {
			t.Errorf("groups = %+v", res.Groups)
		}
	})

	t.Run("A path that does not exist is an error naming it.", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "missing.yml")
		_, err := Load([]string{path})
		if err == nil || err.Error() != path+": reading rules: no such file or directory" {
			t.Errorf("error = %v", err)
		}
	})

	t.Run("Nothing to read yields an empty result.", func(t *testing.T) {
		res := mustLoad(t, t.TempDir())
		if len(res.Groups) != 0 || len(res.Skipped) != 0 {
			t.Errorf("got %+v", res)
		}
	})
}

func TestLoadMalformed(t *testing.T) {
	for _, tc := range []struct {
		name, content, want string
	}{
		{
			name:    "A YAML syntax error names its line.",
			content: "groups:\n  - name: g\n    rules: [\n",
			want:    "3: invalid YAML: did not find expected node content",
		},
		{
			name:    "A YAML syntax error in a later document is still an error.",
			content: "groups: []\n---\ngroups:\n  - name: 'g\n",
			want:    "4: invalid YAML: found unexpected end of stream",
		},
		{
			name:    "groups that is not a list is an error.",
			content: "groups:\n  name: g\n",
			want:    "2: groups must be a list of rule groups, not a mapping",
		},
		{
			name:    "PrometheusRule spec.groups that is not a list is an error.",
			content: "kind: PrometheusRule\nspec:\n  groups: oops\n",
			want:    "3: spec.groups must be a list of rule groups, not a scalar",
		},
		{
			name:    "A rule with both alert and record is an error.",
			content: "groups:\n  - name: g\n    rules:\n      - alert: A\n        record: b:c\n        expr: up\n",
			want:    `4: group "g", rule 1: only one of 'alert' and 'record' may be set (alert "A", record "b:c")`,
		},
		{
			name:    "A rule with neither alert nor record is an error.",
			content: "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n      - expr: up\n",
			want:    `6: group "g", rule 2: one of 'alert' or 'record' must be set`,
		},
		{
			name:    "A rule without expr is an error.",
			content: "groups:\n  - name: g\n    rules:\n      - alert: A\n        for: 5m\n",
			want:    `4: group "g", rule 1 (A): 'expr' must be set`,
		},
		{
			name:    "A group without a name is an error.",
			content: "groups:\n  - name: g\n    rules: []\n  - rules:\n      - alert: A\n        expr: up\n",
			want:    "4: group 2 has no name",
		},
		{
			name:    "A group name used twice in a file is an error naming both lines.",
			content: "groups:\n  - name: g\n    rules: []\n  - name: h\n    rules: []\n  - name: g\n    rules: []\n",
			want:    `6: group "g" is defined twice (first at line 2)`,
		},
		{
			name:    "A for that is not a duration is an error at its line.",
			content: "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        for: soon\n",
			want:    `6: group "g", rule 1 (A): for: not a valid duration string: "soon"`,
		},
		{
			name:    "A group interval that is not a duration is an error at its line.",
			content: "groups:\n  - name: g\n    interval: 1 minute\n    rules: []\n",
			want:    `3: group "g": interval: unknown unit " minute" in duration "1 minute"`,
		},
		{
			name:    "Labels that are not a map of strings are an error at their line.",
			content: "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        labels:\n          severity: [a, b]\n",
			want:    `7: group "g", rule 1: cannot unmarshal !!seq into string`,
		},
		{
			name:    "A rule that is not a mapping is an error.",
			content: "groups:\n  - name: g\n    rules:\n      - up == 0\n",
			want:    `4: group "g", rule 1 must be a mapping, not a scalar`,
		},
		{
			name:    "An alert name that is not a string is an error.",
			content: "groups:\n  - name: g\n    rules:\n      - alert: {a: b}\n        expr: up\n",
			want:    `4: group "g", rule 1: alert must be a string, not a mapping`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "rules.yml", tc.content)
			_, err := Load([]string{path})
			if err == nil {
				t.Fatal("no error")
			}
			if want := path + ":" + tc.want; err.Error() != want {
				t.Errorf("error:\n got %s\nwant %s", err, want)
			}
		})
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func FuzzParse(f *testing.F) {
	// The corpus's rule files seed the fuzzer when the corpus is there.
	if corpus, err := testcorpus.Available(); err == nil {
		_ = filepath.WalkDir(filepath.Join(corpus, "rules"), func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if b, err := os.ReadFile(path); err == nil {
					f.Add(b)
				}
			}
			return nil
		})
	}
	f.Add([]byte("kind: List\nitems:\n  - &a {kind: List, items: [*a]}\n"))
	f.Fuzz(func(t *testing.T, content []byte) {
		res, err := Parse("fuzz.yml", content)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		for _, g := range res.Groups {
			if g.Name == "" {
				t.Fatalf("group without name: %+v", g)
			}
			for _, r := range g.Rules {
				if r.Name == "" || r.Expr == "" || (r.Parsed == nil) == (r.ParseError == "" && g.Language == "promql") {
					t.Fatalf("bad rule %+v", r)
				}
			}
		}
	})
}
