package main

import (
	"bytes"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	stamped := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/blindspot-dev/blindspot", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{
			{Key: "-trimpath", Value: "true"},
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "0bfba13c0ffee"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	work := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/blindspot-dev/blindspot", Version: "(devel)"}}
	platform := runtime.GOOS + "/" + runtime.GOARCH
	tests := []struct {
		name       string
		bi         *debug.BuildInfo
		ok         bool
		ldVersion  string
		ldCommit   string
		wantOutput string
	}{
		{"go install at a tag prints the module version, the stamped commit and that the tree was modified.",
			stamped, true, "", "",
			"blindspot v1.4.0 (go1.26.8, " + platform + ")\ncommit: 0bfba13c0ffee (modified)\n"},
		{"A build of a work tree without VCS stamp is devel with an unknown commit.",
			work, true, "", "",
			"blindspot devel (go1.26.8, " + platform + ")\ncommit: unknown\n"},
		{"The -ldflags version and commit win over the build info, and an -ldflags commit is not marked modified.",
			stamped, true, "v2.0.0-rc.1", "feedface",
			"blindspot v2.0.0-rc.1 (go1.26.8, " + platform + ")\ncommit: feedface\n"},
		{"Without build info the -ldflags values and the running Go version are used.",
			nil, false, "", "abc",
			"blindspot devel (" + runtime.Version() + ", " + platform + ")\ncommit: abc\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := readBuildVersion(tt.bi, tt.ok, tt.ldVersion, tt.ldCommit).write(&buf); err != nil {
				t.Fatal(err)
			}
			if buf.String() != tt.wantOutput {
				t.Errorf("got\n%s\nwant\n%s", buf.String(), tt.wantOutput)
			}
		})
	}

	t.Run("The version command prints this binary's version line first and its commit second.", func(t *testing.T) {
		var out, errOut bytes.Buffer
		if code := newApp(&out, &errOut).execute(t.Context(), []string{"version"}); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "blindspot ") || !strings.Contains(lines[0], runtime.Version()) || !strings.HasPrefix(lines[1], "commit: ") {
			t.Errorf("version printed %q", out.String())
		}
	})
}
