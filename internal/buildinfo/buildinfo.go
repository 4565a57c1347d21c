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
var Version = "dev"

// Commit is set at build time like Version; without it, the VCS revision
// Go recorded in the binary, if any.
var Commit = ""

// Info is the build's version, commit and Go version.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"go_version"`
}

// Get returns the running build's Info.
func Get() Info {
	i := Info{Version: Version, Commit: Commit, GoVersion: runtime.Version()}
	if i.Commit == "" {
		i.Commit = "unknown"
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" {
					i.Commit = s.Value
				}
			}
		}
	}
	return i
}
