// Package buildinfo says which build of sessiond is running: `sessiond
// version` prints it and the sessiond_build_info metric carries it.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Version is set at build time:
//
//	go build -ldflags "-X github.com/sessiond/sessiond/internal/buildinfo.Version=v1.2.3" ./cmd/sessiond
//
// Without it, the module version Go recorded (a `go install …@v1.2.3`),
// else "dev".
var Version = ""

// Commit is set at build time like Version; without it, the VCS revision
// Go recorded in the binary (vcs.revision), else "unknown".
var Commit = ""

// Info is the build's version, commit and Go version; CommitTime and
// Modified come from the VCS stamp Go records in a build from a checkout.
type Info struct {
	Version    string `json:"version"`
	Commit     string `json:"commit"`
	CommitTime string `json:"commit_time,omitempty"`
	Modified   bool   `json:"modified,omitempty"`
	GoVersion  string `json:"go_version"`
}

// Get returns the running build's Info.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return fromBuild(Version, Commit, bi)
}

// fromBuild fills what ldflags did not set from bi (nil: no build info).
func fromBuild(version, commit string, bi *debug.BuildInfo) Info {
	i := Info{Version: version, Commit: commit, GoVersion: runtime.Version()}
	if bi != nil {
		if i.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			i.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && i.Commit == "":
				i.Commit = s.Value
			case s.Key == "vcs.time":
				i.CommitTime = s.Value
			case s.Key == "vcs.modified":
				i.Modified = s.Value == "true"
			}
		}
	}
	if i.Version == "" {
		i.Version = "dev"
	}
	if i.Commit == "" {
		i.Commit = "unknown"
	}
	return i
}
