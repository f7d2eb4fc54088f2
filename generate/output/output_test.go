package output

import (
	"bytes"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/generate"
)

var managed = []string{"rules", "rules/tests", "runbooks"}

func yamlFile(p, body string) generate.File {
	return generate.File{Path: p, Content: []byte("# " + generate.Header + "\n" + body)}
}

func mdFile(p, body string) generate.File {
	return generate.File{Path: p, Content: []byte("<!-- " + generate.Header + " -->\n" + body)}
}

func someFiles() []generate.File {
	return []generate.File{
		yamlFile("rules/node.yaml", "groups: []\n"),
		yamlFile("rules/tests/node.test.yaml", "tests: []\n"),
		mdFile("runbooks/NodeDown.md", "# NodeDown\n"),
	}
}

// writeTree writes files (path -> content) under dir, as a team's checkout would hold them.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// tree lists every file under dir (relative, forward slashes) with its content.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		content, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		got[filepath.ToSlash(rel)] = string(content)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func treeOf(files []generate.File) map[string]string {
	m := map[string]string{}
	for _, f := range files {
		m[f.Path] = string(f.Content)
	}
	return m
}

func mustPlan(t *testing.T, dir string, files []generate.File) *Diff {
	t.Helper()
	d, err := Plan(dir, files, managed)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	return d
}

func mustApply(t *testing.T, dir string, files []generate.File) *Diff {
	t.Helper()
	d := mustPlan(t, dir, files)
	if err := d.Apply(); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return d
}

func entries(d *Diff) string {
	var lines []string
	for _, e := range d.Entries() {
		lines = append(lines, e.String())
	}
	return strings.Join(lines, "\n")
}

func TestPlanAndApply(t *testing.T) {
	t.Run("Files are created in an output directory that does not exist yet.", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "monitoring", "generated")
		d := mustApply(t, dir, someFiles())
		want := "create rules/node.yaml\ncreate rules/tests/node.test.yaml\ncreate runbooks/NodeDown.md"
		if got := entries(d); got != want {
			t.Errorf("entries:\n%s\nwant:\n%s", got, want)
		}
		if got, want := tree(t, dir), treeOf(someFiles()); !maps.Equal(got, want) {
			t.Errorf("tree: %v, want %v", got, want)
		}
		info, err := os.Stat(filepath.Join(dir, "rules", "node.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o644 {
			t.Errorf("mode %v, want 0644", info.Mode().Perm())
		}
	})

	t.Run("A second run with the same files finds everything unchanged and writes nothing.", func(t *testing.T) {
		dir := t.TempDir()
		mustApply(t, dir, someFiles())
		old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		for p := range tree(t, dir) {
			if err := os.Chtimes(filepath.Join(dir, p), old, old); err != nil {
				t.Fatal(err)
			}
		}
		d := mustApply(t, dir, someFiles())
		if changes := d.Changes(); len(changes) != 0 {
			t.Errorf("changes %v, want none", changes)
		}
		want := "unchanged rules/node.yaml\nunchanged rules/tests/node.test.yaml\nunchanged runbooks/NodeDown.md"
		if got := entries(d); got != want {
			t.Errorf("entries:\n%s\nwant:\n%s", got, want)
		}
		for p := range tree(t, dir) {
			info, err := os.Stat(filepath.Join(dir, p))
			if err != nil {
				t.Fatal(err)
			}
			if !info.ModTime().Equal(old) {
				t.Errorf("%s was written again (mtime %v)", p, info.ModTime())
			}
		}
	})

	t.Run("A generated file whose content changed is updated.", func(t *testing.T) {
		dir := t.TempDir()
		mustApply(t, dir, someFiles())
		files := someFiles()
		files[0] = yamlFile("rules/node.yaml", "groups: [{name: node}]\n")
		d := mustApply(t, dir, files)
		want := "update rules/node.yaml\nunchanged rules/tests/node.test.yaml\nunchanged runbooks/NodeDown.md"
		if got := entries(d); got != want {
			t.Errorf("entries:\n%s\nwant:\n%s", got, want)
		}
		if got, want := tree(t, dir), treeOf(files); !maps.Equal(got, want) {
			t.Errorf("tree: %v, want %v", got, want)
		}
	})

	t.Run("A file blindspot generated once, edited by hand since, is updated: the header says it is generated.", func(t *testing.T) {
		dir := t.TempDir()
		writeTree(t, dir, map[string]string{"rules/node.yaml": "# " + generate.Header + "\ngroups: [{name: mine}]\n"})
		d := mustApply(t, dir, someFiles())
		if got := d.Changes()[0].String(); got != "update rules/node.yaml" {
			t.Errorf("first change %q", got)
		}
		if got, want := tree(t, dir), treeOf(someFiles()); !maps.Equal(got, want) {
			t.Errorf("tree: %v, want %v", got, want)
		}
	})

	t.Run("Generated files that are no longer generated are removed from the managed directories.", func(t *testing.T) {
		dir := t.TempDir()
		old := append(someFiles(),
			yamlFile("rules/gone.yaml", "groups: []\n"),
			yamlFile("rules/tests/gone.test.yaml", "tests: []\n"),
			mdFile("runbooks/GoneDown.md", "# GoneDown\n"),
		)
		mustApply(t, dir, old)
		d := mustApply(t, dir, someFiles())
		want := "remove rules/gone.yaml\nunchanged rules/node.yaml\nremove rules/tests/gone.test.yaml\nunchanged rules/tests/node.test.yaml\nremove runbooks/GoneDown.md\nunchanged runbooks/NodeDown.md"
		if got := entries(d); got != want {
			t.Errorf("entries:\n%s\nwant:\n%s", got, want)
		}
		if got, want := tree(t, dir), treeOf(someFiles()); !maps.Equal(got, want) {
			t.Errorf("tree: %v, want %v", got, want)
		}
		if changes := mustPlan(t, dir, someFiles()).Changes(); len(changes) != 0 {
			t.Errorf("after removal, changes %v, want none", changes)
		}
	})

	t.Run("Hand-written files in managed directories and generated files elsewhere are kept.", func(t *testing.T) {
		dir := t.TempDir()
		kept := map[string]string{
			"rules/custom.yaml":         "groups: []\n",
			"rules/README.txt":          generate.Header + "\n", // no header check for .txt
			"runbooks/Custom.md":        "# Custom\n",
			"runbooks/mentions.md":      "We say \"" + generate.Header + "\" in prose.\n",
			"rules/nested/old.yaml":     "# " + generate.Header + "\n", // not a managed directory
			"other/old.yaml":            "# " + generate.Header + "\n",
			"rules/.node.yaml.tmp-1234": "# " + generate.Header + "\n",
		}
		writeTree(t, dir, kept)
		d := mustApply(t, dir, someFiles())
		want := "create rules/node.yaml\ncreate rules/tests/node.test.yaml\ncreate runbooks/NodeDown.md"
		if got := entries(d); got != want {
			t.Errorf("entries:\n%s\nwant:\n%s", got, want)
		}
		wantTree := treeOf(someFiles())
		for p, c := range kept {
			wantTree[p] = c
		}
		if got := tree(t, dir); !maps.Equal(got, wantTree) {
			t.Errorf("tree: %v, want %v", got, wantTree)
		}
	})

	t.Run("Apply leaves no temporary files behind.", func(t *testing.T) {
		dir := t.TempDir()
		mustApply(t, dir, append(someFiles(), yamlFile("rules/gone.yaml", "")))
		files := someFiles()
		files[2] = mdFile("runbooks/NodeDown.md", "# NodeDown, rewritten\n")
		mustApply(t, dir, files)
		if got, want := tree(t, dir), treeOf(files); !maps.Equal(got, want) {
			t.Errorf("tree: %v, want %v", got, want)
		}
	})
}

func TestPlanErrors(t *testing.T) {
	// Each case leaves the directory as it found it: Plan fails before anything is written.
	cases := []struct {
		name    string
		before  map[string]string // files in DIR
		files   []generate.File
		managed []string
		want    string // error, with DIR for the output directory
	}{
		{
			name:   "A hand-written file where a generated file goes is an error and nothing is written.",
			before: map[string]string{"rules/node.yaml": "groups: []\n"},
			want:   `DIR/rules/node.yaml exists and was not generated by blindspot (no "Code generated by blindspot. DO NOT EDIT." header): move it away or delete it`,
		},
		{
			name:   "A directory where a generated file goes is an error.",
			before: map[string]string{"runbooks/NodeDown.md/notes.txt": "mine\n"},
			want:   "DIR/runbooks/NodeDown.md is a directory, where blindspot generates a file: move it away",
		},
		{
			name:   "A managed directory that is a file is an error.",
			before: map[string]string{"rules/tests": "mine\n"},
			want:   "DIR/rules/tests exists and is not a directory",
		},
		{
			name:  "Generated content without the header is rejected.",
			files: []generate.File{{Path: "rules/node.yaml", Content: []byte("groups: []\n")}},
			want:  `generated file rules/node.yaml: its content lacks the "Code generated by blindspot. DO NOT EDIT." header`,
		},
		{
			name:  "Generated content of a kind without a header check is rejected.",
			files: []generate.File{{Path: "rules/node.txt", Content: []byte("# " + generate.Header + "\n")}},
			want:  `generated file rules/node.txt: its content lacks the "Code generated by blindspot. DO NOT EDIT." header`,
		},
		{
			name:  "A file generated twice is rejected.",
			files: append(someFiles(), yamlFile("rules/node.yaml", "")),
			want:  "generated file rules/node.yaml: generated twice",
		},
		{
			name:  "A file outside the managed directories is rejected, as it could never be removed.",
			files: []generate.File{yamlFile("dashboards/node.yaml", "")},
			want:  "generated file dashboards/node.yaml: not in a managed directory (rules, rules/tests, runbooks)",
		},
		{
			name:  "A path that climbs out of the output directory is rejected.",
			files: []generate.File{yamlFile("../node.yaml", "")},
			want:  "generated file ../node.yaml: path leaves the output directory",
		},
		{
			name:  "A path that climbs out and back in is rejected.",
			files: []generate.File{yamlFile("rules/../../x/node.yaml", "")},
			want:  "generated file rules/../../x/node.yaml: path is not clean (want ../x/node.yaml)",
		},
		{
			name:  "An absolute path is rejected.",
			files: []generate.File{yamlFile("/etc/prometheus/node.yaml", "")},
			want:  "generated file /etc/prometheus/node.yaml: path is absolute; it must be relative to the output directory",
		},
		{
			name:  "A path with a backslash is rejected.",
			files: []generate.File{yamlFile(`rules\node.yaml`, "")},
			want:  `generated file rules\node.yaml: path has a backslash; use forward slashes`,
		},
		{
			name:  "A path that is not clean is rejected.",
			files: []generate.File{yamlFile("./rules//node.yaml", "")},
			want:  "generated file ./rules//node.yaml: path is not clean (want rules/node.yaml)",
		},
		{
			name:  "An empty path is rejected.",
			files: []generate.File{yamlFile("", "")},
			want:  "generated file path is empty",
		},
		{
			name:    "A managed directory outside the output directory is rejected.",
			managed: []string{"rules", "../rules"},
			want:    "managed directory ../rules: path leaves the output directory",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, c.before)
			files, m := c.files, c.managed
			if files == nil {
				files = someFiles()
			}
			if m == nil {
				m = managed
			}
			d, err := Plan(dir, files, m)
			if err == nil {
				t.Fatalf("Plan succeeded with %v, want an error", d.Entries())
			}
			if got := strings.ReplaceAll(err.Error(), dir, "DIR"); got != c.want {
				t.Errorf("error:\n%s\nwant:\n%s", got, c.want)
			}
			want := c.before
			if want == nil {
				want = map[string]string{}
			}
			if got := tree(t, dir); !maps.Equal(got, want) {
				t.Errorf("the directory changed: %v, want %v", got, want)
			}
		})
	}
}

func TestUnusableOutputDirectory(t *testing.T) {
	t.Run("An output directory that is a file is an error.", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "out")
		writeTree(t, filepath.Dir(dir), map[string]string{"out": "mine\n"})
		_, err := Plan(dir, someFiles(), managed)
		if err == nil || err.Error() != "output directory "+dir+" exists and is not a directory" {
			t.Errorf("error %v", err)
		}
	})

	t.Run("An output directory below a file is an error.", func(t *testing.T) {
		parent := t.TempDir()
		writeTree(t, parent, map[string]string{"file": "mine\n"})
		dir := filepath.Join(parent, "file", "sub")
		_, err := Plan(dir, someFiles(), managed)
		if err == nil || !strings.HasPrefix(err.Error(), "checking output directory "+dir+": ") {
			t.Errorf("error %v", err)
		}
	})

	t.Run("An output directory that cannot be written fails before any file is written.", func(t *testing.T) {
		if os.Geteuid() == 0 {
			// Permissions are not enforced for root (as in CI containers); the case of a
			// directory that cannot be created is covered by the test above.
			t.Skip("running as root: directory permissions are not enforced")
		}
		dir := t.TempDir()
		writeTree(t, dir, map[string]string{"runbooks/Custom.md": "# Custom\n"})
		// rules/ can be created, runbooks/ cannot be written: the rules must not be written
		// either.
		runbooks := filepath.Join(dir, "runbooks")
		if err := os.Chmod(runbooks, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(runbooks, 0o755) })
		d := mustPlan(t, dir, someFiles())
		err := d.Apply()
		if err == nil || !strings.HasPrefix(err.Error(), "output directory "+runbooks+" is not writable: ") {
			t.Fatalf("error %v", err)
		}
		want := map[string]string{"runbooks/Custom.md": "# Custom\n"}
		if got := tree(t, dir); !maps.Equal(got, want) {
			t.Errorf("tree: %v, want %v", got, want)
		}
	})

	t.Run("An output directory whose directories cannot be created fails before any file is written.", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("running as root: directory permissions are not enforced")
		}
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		err := mustPlan(t, dir, someFiles()).Apply()
		if err == nil || !strings.HasPrefix(err.Error(), "creating directory "+filepath.Join(dir, "rules")+": ") {
			t.Fatalf("error %v", err)
		}
		if got := tree(t, dir); len(got) != 0 {
			t.Errorf("files were written: %v", got)
		}
	})
}

func TestChangesAndText(t *testing.T) {
	dir := t.TempDir()
	mustApply(t, dir, append(someFiles(), yamlFile("rules/gone.yaml", "")))
	files := someFiles()
	files[0] = yamlFile("rules/node.yaml", "groups: [{name: node}]\n")
	files = append(files, mdFile("runbooks/NodeAbsent.md", "# NodeAbsent\n"))
	d := mustPlan(t, dir, files)

	t.Run("Changes lists what differs, sorted by path, for --check.", func(t *testing.T) {
		want := []Entry{
			{Remove, "rules/gone.yaml"},
			{Update, "rules/node.yaml"},
			{Create, "runbooks/NodeAbsent.md"},
		}
		if got := d.Changes(); !slices.Equal(got, want) {
			t.Errorf("changes %v, want %v", got, want)
		}
	})

	t.Run("The plan is written as one line per change and a summary, for --dry-run.", func(t *testing.T) {
		var b bytes.Buffer
		if err := d.WriteText(&b); err != nil {
			t.Fatal(err)
		}
		want := `remove rules/gone.yaml
update rules/node.yaml
create runbooks/NodeAbsent.md
1 to create, 1 to update, 1 to remove, 2 unchanged
`
		if got := b.String(); got != want {
			t.Errorf("text:\n%s\nwant:\n%s", got, want)
		}
	})

	t.Run("A plan with nothing to do is only the summary.", func(t *testing.T) {
		var b bytes.Buffer
		if err := mustPlan(t, t.TempDir(), nil).WriteText(&b); err != nil {
			t.Fatal(err)
		}
		if got, want := b.String(), "0 to create, 0 to update, 0 to remove, 0 unchanged\n"; got != want {
			t.Errorf("text %q, want %q", got, want)
		}
	})

	t.Run("Planning writes nothing.", func(t *testing.T) {
		if got := tree(t, dir); got["runbooks/NodeAbsent.md"] != "" || got["rules/gone.yaml"] == "" {
			t.Errorf("the directory changed: %v", got)
		}
	})
}

func TestGenerated(t *testing.T) {
	h := generate.Header
	cases := []struct {
		name    string
		path    string
		content string
		want    bool
	}{
		{"A YAML file with the header on its first line is generated.", "rules/a.yaml", "# " + h + "\ngroups: []\n", true},
		{"A YAML file with the header after a document marker is generated.", "rules/a.yml", "---\n# " + h + "\n", true},
		{"A YAML file with the header on its fifth line is generated.", "rules/a.yaml", "\n\n\n\n# " + h + "\n", true},
		{"A YAML file with the header on its sixth line is hand-written.", "rules/a.yaml", "\n\n\n\n\n# " + h + "\n", false},
		{"A YAML file that quotes the header in a longer comment is hand-written.", "rules/a.yaml", "# copied from a file marked " + h + "\n", false},
		{"A YAML file without the header is hand-written.", "rules/a.yaml", "groups: []\n", false},
		{"A Markdown file with the header comment is generated.", "runbooks/A.md", "<!-- " + h + " -->\n# A\n", true},
		{"A Markdown file with a YAML-style header is hand-written.", "runbooks/A.md", "# " + h + "\n", false},
		{"A JSON file with generated_by set to the header is generated.", "dashboards/a.json", `{"title": "a", "generated_by": "` + h + `"}`, true},
		{"A JSON file with another generated_by is hand-written.", "dashboards/a.json", `{"generated_by": "grafana"}`, false},
		{"A file that is not JSON is hand-written even with a .json name.", "dashboards/a.json", "# " + h + "\n", false},
		{"A file of a kind blindspot does not write is never taken for a generated one.", "rules/a.txt", "# " + h + "\n", false},
		{"Extensions are compared without regard to case.", "rules/A.YAML", "# " + h + "\n", true},
		{"An Alloy file with the header as a // comment is generated.", "pipelines/alloy/a.alloy", "// " + h + "\nloki.process \"x\" {}\n", true},
		{"An Alloy file with a YAML-style header is hand-written.", "pipelines/alloy/a.alloy", "# " + h + "\n", false},
		{"A Lua file with the header as a -- comment is generated.", "pipelines/fluentbit/a.lua", "-- " + h + "\nreturn {}\n", true},
		{"A Lua file without the header is hand-written.", "pipelines/fluentbit/a.lua", "return {}\n", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Generated(c.path, []byte(c.content)); got != c.want {
				t.Errorf("Generated(%q) = %v, want %v", c.path, got, c.want)
			}
		})
	}
}

func TestASymlinkWhereAGeneratedFileGoesIsRefusedAndKept(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	target := filepath.Join(elsewhere, "node.yaml")
	// Even a target that carries the header: following the link would write outside the
	// output directory.
	if err := os.WriteFile(target, []byte("# "+generate.Header+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "rules", "node.yaml")
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	_, err := Plan(dir, someFiles(), managed)
	want := link + " is a symlink, where blindspot generates a regular file: move it away"
	if err == nil || err.Error() != want {
		t.Fatalf("Plan: err = %v, want %q", err, want)
	}
	if info, err := os.Lstat(link); err != nil || info.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the symlink was replaced: %v %v", info, err)
	}
	if got, _ := os.ReadFile(target); string(got) != "# "+generate.Header+"\n" {
		t.Errorf("the link's target changed: %q", got)
	}
}
