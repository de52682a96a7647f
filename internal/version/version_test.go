package version

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuildInfoReadsVCSStamp(t *testing.T) {
	bi := &debug.BuildInfo{
		GoVersion: "go1.99.0",
		Main:      debug.Module{Path: "github.com/tari-payment/tps", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-12-01T10:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	in := fromBuildInfo(bi, "", "")
	if in.Version != "v1.2.3" || in.Commit != "0123456789abcdef0123456789abcdef01234567" || !in.Modified || in.Go != "go1.99.0" {
		t.Fatalf("%+v", in)
	}
	if rel := fromBuildInfo(bi, "v2.0.0", "0123456789abcdef0123456789abcdef01234567"); rel.Version != "v2.0.0" || !rel.Modified {
		t.Fatalf("link-time version should win, same commit keeps its stamp: %+v", rel)
	}
	s := in.String("tari-payment-server")
	for _, want := range []string{"tari-payment-server v1.2.3", "commit 0123456789ab,", "2026-12-01T10:00:00Z", "modified", "go1.99.0"} {
		if !strings.Contains(s, want) {
			t.Errorf("%q lacks %q", s, want)
		}
	}
}

// A -trimpath -buildvcs=false build (or one from a tree without .git) has
// "(devel)" and no vcs.* settings: the link-time values, else clear fallbacks.
func TestFallbackWithoutVCSInformation(t *testing.T) {
	bare := &debug.BuildInfo{Main: debug.Module{Path: "github.com/tari-payment/tps", Version: "(devel)"}}
	in := fromBuildInfo(bare, "", "")
	if in.Version != "devel" || in.Commit != "unknown" || in.Time != "" || in.Modified {
		t.Fatalf("%+v", in)
	}
	if s := in.String("taritools"); !strings.HasPrefix(s, "taritools devel (commit unknown) go") {
		t.Fatalf("%q", s)
	}
	in = fromBuildInfo(bare, "v0.4.0", "abcdef0123456789")
	if in.Version != "v0.4.0" || in.Commit != "abcdef0123456789" {
		t.Fatalf("link-time values ignored: %+v", in)
	}
	if in = fromBuildInfo(nil, "", ""); in.Version != "devel" || in.Commit != "unknown" || in.Go == "" {
		t.Fatalf("no build info: %+v", in)
	}
}
