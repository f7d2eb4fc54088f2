package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"
)

// containerArgs collects the args of every container of a Kubernetes manifest, wherever the
// pod template sits (a Deployment's spec.template, a CronJob's spec.jobTemplate).
func containerArgs(v any, into map[string][]string) {
	switch n := v.(type) {
	case map[string]any:
		if cs, ok := n["containers"].([]any); ok {
			for _, c := range cs {
				c, _ := c.(map[string]any)
				name, _ := c["name"].(string)
				var args []string
				for _, a := range c["args"].([]any) {
					args = append(args, a.(string))
				}
				into[name] = args
			}
		}
		for _, x := range n {
			containerArgs(x, into)
		}
	case []any:
		for _, x := range n {
			containerArgs(x, into)
		}
	}
}

// TestDeployArgs keeps the commands of deploy/kubernetes working: each container's args name
// a blindspot command and flags that command accepts.
func TestDeployArgs(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "deploy", "kubernetes", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	all := map[string][]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		containerArgs(doc, all)
	}
	if len(all) < 2 {
		t.Fatalf("%d containers in deploy/kubernetes, want serve's and check's", len(all))
	}
	for name, args := range all {
		t.Run("Container "+name+" runs a blindspot command with flags it accepts.", func(t *testing.T) {
			app := newApp(io.Discard, io.Discard)
			cmd, rest, err := app.root.Find(args)
			if err != nil || cmd == app.root {
				if len(args) > 0 && args[0] == "serve" {
					t.Skipf("this build of blindspot has no serve command (%v)", err)
				}
				t.Fatalf("%q is no blindspot command: %v", args, err)
			}
			if err := cmd.ParseFlags(rest); err != nil {
				t.Errorf("blindspot %s does not accept %q: %v", cmd.Name(), rest, err)
			}
			if len(cmd.Flags().Args()) != 0 {
				t.Errorf("blindspot %s takes no arguments, got %q", cmd.Name(), cmd.Flags().Args())
			}
		})
	}
}
