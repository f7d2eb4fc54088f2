package fluentbit

import (
	"bytes"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/internal/golden"
	"github.com/blindspot-dev/blindspot/rulesets"
)

func secretPatterns(t *testing.T) []rulesets.SecretPattern {
	t.Helper()
	ps, err := rulesets.SecretPatterns()
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func TestGoldenFiles(t *testing.T) {
	t.Run("The files generated from the built-in patterns match testdata.", func(t *testing.T) {
		files, err := Files(secretPatterns(t))
		if err != nil {
			t.Fatal(err)
		}
		if len(files) != 2 || files[0].Path != ConfigPath || files[1].Path != ScriptPath {
			t.Fatalf("files: %v", paths(files))
		}
		for _, f := range files {
			goldenPath := filepath.Join("testdata", path.Base(f.Path))
			golden.Check(t, goldenPath, f.Content)
		}
	})
}

func paths(files []generate.File) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.Path)
	}
	return out
}

func TestFiles(t *testing.T) {
	files, err := Files(secretPatterns(t))
	if err != nil {
		t.Fatal(err)
	}
	config, script := files[0].Content, files[1].Content

	t.Run("Both files start with the generated-code header.", func(t *testing.T) {
		if first, _, _ := strings.Cut(string(config), "\n"); first != "# "+generate.Header {
			t.Errorf("masking.yaml starts with %q", first)
		}
		if first, _, _ := strings.Cut(string(script), "\n"); first != "-- "+generate.Header {
			t.Errorf("masking.lua starts with %q", first)
		}
	})

	t.Run("The configuration is one lua filter on every tag calling the script's function.", func(t *testing.T) {
		var c pipelineConfig
		dec := yaml.NewDecoder(bytes.NewReader(config))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil {
			t.Fatal(err)
		}
		want := []luaFilter{{Name: "lua", Match: "*", Script: "masking.lua", Call: "blindspot_mask"}}
		if len(c.Pipeline.Filters) != 1 || c.Pipeline.Filters[0] != want[0] {
			t.Errorf("filters: %+v, want %+v", c.Pipeline.Filters, want)
		}
	})

	t.Run("Every pattern is in the script.", func(t *testing.T) {
		for _, p := range secretPatterns(t) {
			if !strings.Contains(string(script), "id = "+luaQuote(p.ID)+",\n") {
				t.Errorf("%s is not in the script", p.ID)
			}
		}
	})

	t.Run("No patterns is an error, not an empty filter.", func(t *testing.T) {
		if _, err := Files(nil); err == nil {
			t.Error("no error")
		}
	})
}
