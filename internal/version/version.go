// Package version says which build a binary is: the module version and the
// VCS commit Go stamps into it (runtime/debug.ReadBuildInfo), or the values
// `make release` and the Dockerfile pass with -ldflags -X when the build has
// no VCS information (-buildvcs=false, or a source tree without .git).
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Set at link time (-ldflags "-X github.com/tari-payment/tps/internal/version.version=v1.2.3
// -X github.com/tari-payment/tps/internal/version.commit=<hash>"), as
// `make release` and the Dockerfile do. When set they win over what Go
// stamped: a release is named by its tag, not by a pseudo-version.
var (
	version string
	commit  string
)

// Info is what a build knows about itself.
type Info struct {
	Version  string // module version: a tag, a pseudo-version, or "devel"
	Commit   string // VCS revision, "unknown" without VCS information
	Time     string // commit time (RFC 3339), empty when unknown
	Modified bool   // built from a tree with uncommitted changes
	Go       string // toolchain, e.g. go1.26.1
}

// Get reads the running binary's build information.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return fromBuildInfo(bi, version, commit)
}

// fromBuildInfo combines Go's build information (nil when unavailable) with
// the link-time values.
func fromBuildInfo(bi *debug.BuildInfo, linkVersion, linkCommit string) Info {
	in := Info{Version: "devel", Commit: "unknown", Go: runtime.Version()}
	if bi != nil {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			in.Version = v
		}
		if bi.GoVersion != "" {
			in.Go = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				in.Commit = s.Value
			case "vcs.time":
				in.Time = s.Value
			case "vcs.modified":
				in.Modified = s.Value == "true"
			}
		}
	}
	if linkVersion != "" {
		in.Version = linkVersion
	}
	if linkCommit != "" && linkCommit != in.Commit {
		// The stamped time and state describe another commit (or none).
		in.Commit, in.Time, in.Modified = linkCommit, "", false
	}
	return in
}

// String is the one line `--version` prints, e.g.
// "tari-payment-server v0.3.0 (commit 1a2b3c4d5e6f, 2026-12-01T10:00:00Z) go1.26.1 linux/amd64".
func (in Info) String(program string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s (commit %s", program, in.Version, shortCommit(in.Commit))
	if in.Time != "" {
		b.WriteString(", " + in.Time)
	}
	if in.Modified {
		b.WriteString(", modified")
	}
	fmt.Fprintf(&b, ") %s %s/%s", in.Go, runtime.GOOS, runtime.GOARCH)
	return b.String()
}

func shortCommit(c string) string {
	if len(c) > 12 && c != "unknown" {
		return c[:12]
	}
	return c
}
