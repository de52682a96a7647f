package plugins

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
)

// The shipped plugins live in the server binary: their manifests
// (plugins/defaults/<id>/manifest.json) and their modules, built by
// `make plugins` into plugins/embedded/<id>.wasm and committed (CI's
// `make plugins-check` fails when they differ from their source). So a plain
// `go build` or `go install` gives a complete server that needs neither its
// source tree nor a Go toolchain where it runs.
//
//go:embed defaults/*/manifest.json embedded/*.wasm
var shipped embed.FS

// DefaultPluginIDs lists the plugins shipped with the server.
func DefaultPluginIDs() []string {
	entries, _ := fs.ReadDir(shipped, "defaults")
	var ids []string
	for _, e := range entries {
		ids = append(ids, e.Name())
	}
	sort.Strings(ids)
	return ids
}

func defaultManifest(id string) (*Manifest, error) {
	b, err := shipped.ReadFile("defaults/" + id + "/manifest.json")
	if err != nil {
		return nil, err
	}
	m, err := parseManifest(b)
	if err != nil {
		return nil, fmt.Errorf("shipped manifest %s: %w", id, err)
	}
	return m, nil
}

// defaultModule returns the embedded module of shipped plugin id.
func defaultModule(id string) ([]byte, error) {
	b, err := shipped.ReadFile("embedded/" + id + ".wasm")
	if err != nil {
		return nil, fmt.Errorf("the server was built without the module of shipped plugin %s (run `make plugins` and rebuild)", id)
	}
	return b, nil
}
