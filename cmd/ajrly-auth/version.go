package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is the release this binary is, set when it is built:
//
//	go build -ldflags "-X main.version=v1.4.0" ./cmd/ajrly-auth
//
// Without it, the version command shows the module's version (that of a
// go install of a tagged release) or "devel".
var version string

// buildInfo is what the version command shows.
type buildInfo struct {
	version   string
	revision  string // the commit built, "" when the build did not record it
	time      string // the commit's time, RFC 3339
	modified  bool   // the work tree had changes that are not in the commit
	goVersion string
	platform  string // GOOS/GOARCH
}

// readBuildInfo makes the buildInfo from the version set at build time
// (ldVersion) and what debug.ReadBuildInfo returned. A build without VCS
// stamping (go build -buildvcs=false, or outside a repository) has no
// revision.
func readBuildInfo(ldVersion string, bi *debug.BuildInfo, ok bool) buildInfo {
	b := buildInfo{version: "devel", goVersion: runtime.Version(), platform: runtime.GOOS + "/" + runtime.GOARCH}
	if ok && bi != nil {
		if bi.GoVersion != "" {
			b.goVersion = bi.GoVersion
		}
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			b.version = v
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				b.revision = s.Value
			case "vcs.time":
				b.time = s.Value
			case "vcs.modified":
				b.modified = s.Value == "true"
			}
		}
	}
	if ldVersion != "" {
		b.version = ldVersion
	}
	return b
}

// print writes the build information, one fact a line.
func (b buildInfo) print(w io.Writer) {
	fmt.Fprintf(w, "ajrly-auth %s\n", b.version)
	switch {
	case b.revision == "":
		fmt.Fprintln(w, "  commit:    unknown (built without version control information)")
	case b.modified:
		fmt.Fprintf(w, "  commit:    %s, with changes not committed\n", b.revision)
	default:
		fmt.Fprintf(w, "  commit:    %s\n", b.revision)
	}
	if b.time != "" {
		fmt.Fprintf(w, "  committed: %s\n", b.time)
	}
	fmt.Fprintf(w, "  go:        %s\n", b.goVersion)
	fmt.Fprintf(w, "  platform:  %s\n", b.platform)
}

func (c *cli) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:               "version",
		Short:             "print the version, commit, Go version and platform",
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(*cobra.Command, []string) error {
			bi, ok := debug.ReadBuildInfo()
			readBuildInfo(version, bi, ok).print(c.stdout)
			return nil
		},
	}
}
