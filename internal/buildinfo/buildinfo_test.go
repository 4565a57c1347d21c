package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestFromBuild(t *testing.T) {
	vcs := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "25d338a1"}, {Key: "vcs.time", Value: "2026-12-04T10:00:00Z"},
		{Key: "vcs.modified", Value: "true"}}}
	for _, tc := range []struct {
		name            string
		version, commit string
		bi              *debug.BuildInfo
		want            Info
	}{
		{"no build info", "", "", nil, Info{Version: "dev", Commit: "unknown"}},
		{"git checkout", "", "", vcs, Info{Version: "dev", Commit: "25d338a1", CommitTime: "2026-12-04T10:00:00Z", Modified: true}},
		{"ldflags win", "v1.2.3", "abc", vcs, Info{Version: "v1.2.3", Commit: "abc", CommitTime: "2026-12-04T10:00:00Z", Modified: true}},
		{"go install @version", "", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, Info{Version: "v1.4.0", Commit: "unknown"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := fromBuild(tc.version, tc.commit, tc.bi)
			got.GoVersion = ""
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
