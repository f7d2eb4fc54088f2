package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/blindspot-dev/blindspot/analyze/baseline"
)

// TestCIDocs keeps the examples of docs/ci.md working: the YAML parses, and every flag the
// examples give `blindspot check` exists.
func TestCIDocs(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "ci.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```(\\w+)\n(.*?)```").FindAllStringSubmatch(string(data), -1)
	check, _, err := newApp(io.Discard, io.Discard).root.Find([]string{"check"})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("Every YAML example parses, and the CI ones are what their systems expect.", func(t *testing.T) {
		var n int
		for _, b := range blocks {
			if b[1] != "yaml" {
				continue
			}
			n++
			var doc map[string]any
			if err := yaml.Unmarshal([]byte(b[2]), &doc); err != nil {
				t.Errorf("YAML example does not parse: %v\n%s", err, b[2])
				continue
			}
			if jobs, ok := doc["jobs"].(map[string]any); ok {
				if _, ok := doc["on"]; !ok || len(jobs) == 0 {
					t.Errorf("the GitHub Actions workflow lacks on: or jobs:")
				}
				checkActionSteps(t, jobs)
			}
			if job, ok := doc["blindspot"].(map[string]any); ok {
				reports, _ := job["artifacts"].(map[string]any)["reports"].(map[string]any)
				if reports["junit"] != "blindspot.xml" {
					t.Errorf("the GitLab job does not report its JUnit file: %v", job["artifacts"])
				}
			}
		}
		if n < 3 {
			t.Errorf("%d YAML examples, want the ignore entry, GitHub Actions and GitLab CI", n)
		}
	})

	t.Run("The baseline example is a valid baseline.", func(t *testing.T) {
		for _, b := range blocks {
			if b[1] == "json" {
				if _, err := baseline.Parse("docs/ci.md", []byte(b[2])); err != nil {
					t.Error(err)
				}
				return
			}
		}
		t.Error("docs/ci.md shows no baseline")
	})

	t.Run("Every flag given to blindspot check in an example exists.", func(t *testing.T) {
		var n int
		for _, b := range blocks {
			for _, line := range strings.Split(b[2], "\n") {
				_, cmdline, ok := strings.Cut(line, "blindspot check ")
				if !ok {
					continue
				}
				n++
				for _, f := range regexp.MustCompile(`--([a-z-]+)`).FindAllStringSubmatch(cmdline, -1) {
					if check.Flags().Lookup(f[1]) == nil && check.InheritedFlags().Lookup(f[1]) == nil {
						t.Errorf("blindspot check has no flag --%s: %s", f[1], line)
					}
				}
			}
		}
		if n < 6 {
			t.Errorf("%d blindspot check command lines found in docs/ci.md", n)
		}
	})
}

// action is the part of action.yml the tests read.
type action struct {
	Name        string
	Description string
	Author      string
	Branding    struct{ Icon, Color string }
	Inputs      map[string]struct {
		Description string
		Required    bool
		Default     string
	}
	Outputs map[string]struct{ Description, Value string }
	Runs    struct {
		Using string
		Steps []struct {
			ID, Name, Uses, Run, Shell, If string
			Env                            map[string]string
			With                           map[string]string
		}
	}
}

func readAction(t *testing.T) action {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var a action
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	return a
}

// actionOnlyInputs are the inputs of action.yml that are not check flags.
var actionOnlyInputs = []string{"version", "go-version", "upload-sarif", "sarif-category"}

// checkFlagsWithoutInput are the flags of check the action deliberately has no input for.
var checkFlagsWithoutInput = []string{"help", "verbose", "quiet"}

// TestAction keeps action.yml a composite action whose inputs are check's flags: each input
// (but the action's own) names a flag of check, each flag has an input, and the step that
// runs check turns the inputs into arguments check accepts.
func TestAction(t *testing.T) {
	a := readAction(t)
	check, _, err := newApp(io.Discard, io.Discard).root.Find([]string{"check"})
	if err != nil {
		t.Fatal(err)
	}
	lookup := func(name string) bool {
		return check.Flags().Lookup(name) != nil || check.InheritedFlags().Lookup(name) != nil
	}

	t.Run("action.yml is a composite action that installs blindspot at the action's ref after setup-go.", func(t *testing.T) {
		if a.Runs.Using != "composite" || a.Name == "" || len(a.Runs.Steps) < 3 {
			t.Fatalf("runs.using %q, name %q, %d steps", a.Runs.Using, a.Name, len(a.Runs.Steps))
		}
		if !strings.HasPrefix(a.Runs.Steps[0].Uses, "actions/setup-go@") {
			t.Errorf("the first step is %q, want actions/setup-go", a.Runs.Steps[0].Uses)
		}
		install := a.Runs.Steps[1]
		if !strings.Contains(install.Run, "go install \"github.com/blindspot-dev/blindspot/cmd/blindspot@${BLINDSPOT_VERSION}\"") ||
			!strings.Contains(install.Env["BLINDSPOT_VERSION"], "github.action_ref") {
			t.Errorf("the install step does not go install blindspot at github.action_ref: %q %v", install.Run, install.Env)
		}
		var sarif bool
		for _, s := range a.Runs.Steps {
			if s.Run != "" && s.Shell != "bash" {
				t.Errorf("step %q runs without shell: bash (a composite action's run steps need one)", s.Name)
			}
			if strings.Contains(s.Run, "${{") {
				t.Errorf("step %q pastes an expression into its script (script injection); pass it through env", s.Name)
			}
			sarif = sarif || (strings.HasPrefix(s.Uses, "github/codeql-action/upload-sarif@") && strings.Contains(s.If, "inputs.upload-sarif == 'true'"))
		}
		if !sarif {
			t.Error("no github/codeql-action/upload-sarif step conditioned on inputs.upload-sarif")
		}
	})

	t.Run("Every input is a flag of blindspot check or the action's own, and every flag of check has an input.", func(t *testing.T) {
		for name, in := range a.Inputs {
			if in.Description == "" {
				t.Errorf("input %s has no description", name)
			}
			if !slices.Contains(actionOnlyInputs, name) && !lookup(name) {
				t.Errorf("input %s: blindspot check has no flag --%s", name, name)
			}
		}
		for _, fs := range []*pflag.FlagSet{check.Flags(), check.InheritedFlags()} {
			fs.VisitAll(func(f *pflag.Flag) {
				if _, ok := a.Inputs[f.Name]; !ok && !slices.Contains(checkFlagsWithoutInput, f.Name) {
					t.Errorf("blindspot check --%s has no input in action.yml", f.Name)
				}
			})
		}
	})

	var step string
	var stepEnv map[string]string
	for _, s := range a.Runs.Steps {
		if s.ID == "check" {
			step, stepEnv = s.Run, s.Env
		}
	}
	if step == "" {
		t.Fatal("action.yml has no step with id check")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skipf("bash: %v", err)
	}

	// runStep runs the check step's script as GitHub does (bash -eo pipefail), with the inputs'
	// defaults overridden by set, and a blindspot that records its arguments and exits 1.
	runStep := func(t *testing.T, set map[string]string) (args []string, outputs string) {
		t.Helper()
		dir := t.TempDir()
		fake := "#!/bin/sh\nprintf '%s\\0' \"$@\" > \"$ARGS_FILE\"\nexit 1\n"
		if err := os.WriteFile(filepath.Join(dir, "blindspot"), []byte(fake), 0o755); err != nil {
			t.Fatal(err)
		}
		env := []string{"PATH=" + dir + string(os.PathListSeparator) + os.Getenv("PATH"), "ARGS_FILE=" + filepath.Join(dir, "args"),
			"GITHUB_OUTPUT=" + filepath.Join(dir, "output"), "GITHUB_STEP_SUMMARY=" + filepath.Join(dir, "summary.md")}
		for k, v := range stepEnv {
			m := regexp.MustCompile(`^\$\{\{ inputs\.([a-z-]+) \}\}$`).FindStringSubmatch(v)
			if m == nil {
				t.Fatalf("env %s = %q is not an input", k, v)
			}
			val, ok := set[m[1]]
			if !ok {
				val = a.Inputs[m[1]].Default
			}
			env = append(env, k+"="+val)
		}
		cmd := exec.Command(bash, "--noprofile", "--norc", "-eo", "pipefail", "-c", step)
		cmd.Dir, cmd.Env = dir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("the check step failed: %v\n%s", err, out)
		}
		out, err := os.ReadFile(filepath.Join(dir, "output"))
		if err != nil {
			t.Fatal(err)
		}
		recorded, err := os.ReadFile(filepath.Join(dir, "args"))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if len(recorded) > 0 {
			args = strings.Split(strings.TrimSuffix(string(recorded), "\x00"), "\x00")
		}
		return args, string(out)
	}
	parse := func(t *testing.T, args []string) *cobra.Command {
		t.Helper()
		c, rest, err := newApp(io.Discard, io.Discard).root.Find(args)
		if err != nil || c.Name() != "check" {
			t.Fatalf("blindspot %q is not check: %v", args, err)
		}
		if err := c.ParseFlags(rest); err != nil {
			t.Errorf("blindspot check does not accept %q: %v", args, err)
		}
		return c
	}

	t.Run("With the defaults the step runs check with the summary and records check's exit code.", func(t *testing.T) {
		args, out := runStep(t, nil)
		c := parse(t, args)
		if got := c.Flag("summary").Value.String(); !strings.HasSuffix(got, "summary.md") {
			t.Errorf("--summary %q, want $GITHUB_STEP_SUMMARY", got)
		}
		if c.Flag("fail-on").Value.String() != "warning" || c.Flag("format").Value.String() != "text" || c.Flag("output").Changed {
			t.Errorf("args %q", args)
		}
		if !strings.Contains(out, "exit-code=1\n") {
			t.Errorf("GITHUB_OUTPUT %q lacks check's exit code", out)
		}
	})

	t.Run("Every input reaches check as its flag, lists as repeated flags, and SARIF goes to the file uploaded.", func(t *testing.T) {
		set := map[string]string{
			"config": "ops/blindspot.yaml", "baseline": "blindspot-baseline.json", "fail-on": "critical", "format": "sarif",
			"fail-on-source-error": "false", "upload-sarif": "true", "rules": "rules\nextra/rules.yaml\n", "dashboards": "dashboards",
			"prometheus-config": "prometheus.yml", "prometheus-url": "eu=http://eu:9090\nus=http://us:9090", "loki-url": "http://loki:3100",
			"grafana-url": "http://grafana:3000", "alertmanager-url": "http://am:9093", "timeout": "5m0s", "metrics-file": "gaps.prom",
			"pushgateway": "http://pgw:9091", "update-baseline": "true",
		}
		args, out := runStep(t, set)
		c := parse(t, args)
		for name, v := range set {
			if slices.Contains(actionOnlyInputs, name) {
				continue
			}
			f := c.Flag(name)
			if f == nil || !f.Changed {
				t.Errorf("input %s did not reach check: %q", name, args)
				continue
			}
			var got string
			switch sv := f.Value.(type) {
			case pflag.SliceValue:
				got = strings.Join(sv.GetSlice(), "\n")
			default:
				got = f.Value.String()
			}
			if want := strings.TrimSpace(v); got != want && name != "prometheus-url" {
				t.Errorf("--%s = %q, want %q", name, got, want)
			}
		}
		var urls int
		for _, arg := range args {
			if strings.HasPrefix(arg, "--prometheus-url=") {
				urls++
			}
		}
		if urls != 2 {
			t.Errorf("%d --prometheus-url flags, want one per line", urls)
		}
		if c.Flag("output").Value.String() != "blindspot.sarif" || !strings.Contains(out, "output=blindspot.sarif\n") {
			t.Errorf("SARIF output %q, step outputs %q", c.Flag("output").Value, out)
		}
	})

	t.Run("upload-sarif with another format is refused before check runs.", func(t *testing.T) {
		args, out := runStep(t, map[string]string{"upload-sarif": "true", "format": "junit"})
		if args != nil || !strings.Contains(out, "exit-code=2\n") {
			t.Errorf("check ran with %q; outputs %q", args, out)
		}
	})
}

// checkActionSteps checks that the workflow's steps using blindspot's action give it only
// inputs action.yml declares.
func checkActionSteps(t *testing.T, jobs map[string]any) {
	t.Helper()
	a := readAction(t)
	var n int
	for _, job := range jobs {
		steps, _ := job.(map[string]any)["steps"].([]any)
		for _, s := range steps {
			step, _ := s.(map[string]any)
			if uses, _ := step["uses"].(string); !strings.HasPrefix(uses, "blindspot-dev/blindspot@") {
				continue
			}
			n++
			with, _ := step["with"].(map[string]any)
			for name := range with {
				if _, ok := a.Inputs[name]; !ok {
					t.Errorf("the workflow gives blindspot's action input %q, which action.yml does not declare", name)
				}
			}
		}
	}
	if n == 0 {
		t.Error("the GitHub Actions workflow does not use blindspot's action")
	}
}
