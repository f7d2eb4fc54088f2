package main

import (
	"cmp"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version and commit are set at build time with
// -ldflags "-X main.version=v1.2.3 -X main.commit=0123abc" (the Dockerfile does); otherwise
// the module version and the VCS stamp of the build info are used.
var (
	version = ""
	commit  = ""
)

// buildVersion is what `blindspot version` prints.
type buildVersion struct {
	Version   string // module version, "devel" for a build of a work tree
	Commit    string // VCS revision, "" when unknown
	Modified  bool   // the work tree had uncommitted changes
	GoVersion string
	Platform  string // GOOS/GOARCH
}

// readBuildVersion combines the -ldflags values (which win) with the build information: the
// module version `go install …@v1.2.3` stamps, and the vcs.revision and vcs.modified settings
// `go build` stamps in a git work tree.
func readBuildVersion(bi *debug.BuildInfo, ok bool, ldVersion, ldCommit string) buildVersion {
	v := buildVersion{Version: ldVersion, Commit: ldCommit, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if !ok || bi == nil {
		v.Version = cmp.Or(v.Version, "devel")
		return v
	}
	if v.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v.Version = bi.Main.Version
	}
	v.Version = cmp.Or(v.Version, "devel")
	v.GoVersion = cmp.Or(bi.GoVersion, v.GoVersion)
	if ldCommit == "" {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Commit = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	return v
}

func currentBuildVersion() buildVersion {
	bi, ok := debug.ReadBuildInfo()
	return readBuildVersion(bi, ok, version, commit)
}

func toolVersion() string { return currentBuildVersion().Version }

// write prints the version: the first line is the one scripts read ("blindspot VERSION (GO,
// OS/ARCH)"); the next names the commit.
func (v buildVersion) write(w io.Writer) error {
	c := cmp.Or(v.Commit, "unknown")
	if v.Modified {
		c += " (modified)"
	}
	_, err := fmt.Fprintf(w, "blindspot %s (%s, %s)\ncommit: %s\n", v.Version, v.GoVersion, v.Platform, c)
	return err
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the blindspot version, commit and Go version",
		Long: `version prints the module version (set by go install …@VERSION or the image build), the
commit it was built from ("(modified)" when the work tree had uncommitted changes) and the
Go version and platform it was built with.`,
		Example: "  blindspot version",
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return currentBuildVersion().write(a.stdout)
		},
	}
}
