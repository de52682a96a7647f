package config

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// TestLoadReadsOnlyListedVars: every variable Load asks for is in Vars, so
// the help (printed from Vars) cannot miss one.
func TestLoadReadsOnlyListedVars(t *testing.T) {
	read := map[string]bool{}
	if _, err := Load(func(k string) string { read[k] = true; return "" }); err != nil {
		t.Fatal(err)
	}
	if len(read) < 30 {
		t.Fatalf("Load read only %d variables: the recording getenv is not used?", len(read))
	}
	for k := range read {
		if _, ok := LookupVar(k); !ok {
			t.Errorf("Load reads %s but config.Vars does not list it: add it to vars.go", k)
		}
	}
}

func TestVarsAreWellFormed(t *testing.T) {
	seen := map[string]bool{}
	name := regexp.MustCompile(`^TPG_[A-Z0-9_]*[A-Z0-9]$`)
	for _, g := range Vars {
		for _, v := range g.Vars {
			if !name.MatchString(v.Name) || seen[v.Name] || v.Help == "" || strings.Contains(v.Help, "\n") {
				t.Errorf("%+v: bad name, duplicate or missing/multi-line help", v)
			}
			seen[v.Name] = true
		}
	}
}

// TestEveryVariableInTheSourcesIsListed: a "TPG_…" name written anywhere in
// the server's sources (Go outside tests and examples, the shipped plugins'
// manifests) is in Vars. Prefixes ("TPG_PLUGIN_") and the test suite's own
// TPG_TEST_* variables are not settings.
func TestEveryVariableInTheSourcesIsListed(t *testing.T) {
	root := filepath.Join("..", "..")
	lit := regexp.MustCompile(`"(TPG_[A-Z0-9_]*[A-Z0-9])"`)
	found := 0
	var all strings.Builder // every scanned source, for the reverse check
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			switch rel {
			case ".git", "examples", "test", "data", "dist", "node_modules":
				return filepath.SkipDir
			}
			return nil
		}
		if filepath.ToSlash(rel) == "core/config/vars.go" { // the table itself
			return nil
		}
		isGo := strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go")
		isManifest := strings.HasPrefix(filepath.ToSlash(rel), "plugins/defaults/") && strings.HasSuffix(path, "manifest.json")
		if !isGo && !isManifest {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		all.Write(b)
		for _, m := range lit.FindAllStringSubmatch(string(b), -1) {
			if strings.HasPrefix(m[1], "TPG_TEST_") {
				continue
			}
			found++
			if _, ok := LookupVar(m[1]); !ok {
				t.Errorf("%s names %s, which config.Vars (core/config/vars.go) does not list", rel, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 50 {
		t.Fatalf("found only %d TPG_ names: is the walk rooted at the module?", found)
	}
	// The reverse: a listed variable nothing mentions any more is stale help.
	for _, g := range Vars {
		for _, v := range g.Vars {
			if !strings.Contains(all.String(), v.Name) {
				t.Errorf("config.Vars lists %s, which no source reads or mentions: remove it from vars.go", v.Name)
			}
		}
	}
}

// TestDocumentedDefaultsAreTheDefaults: setting a variable to the default
// the help shows changes nothing, so the table cannot drift from Load.
// Descriptive defaults ("<data directory>/plugins", "… (the Tari donation
// address)") are skipped.
func TestDocumentedDefaultsAreTheDefaults(t *testing.T) {
	base, err := Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, g := range Vars {
		for _, v := range g.Vars {
			if v.Default == "" || strings.ContainsAny(v.Default, "< ") {
				continue
			}
			got, err := Load(func(k string) string {
				if k == v.Name {
					return v.Default
				}
				return ""
			})
			if err != nil {
				t.Errorf("%s=%s (its documented default): %v", v.Name, v.Default, err)
				continue
			}
			if !reflect.DeepEqual(got, base) {
				t.Errorf("%s=%s (its documented default) changes the configuration:\nunset: %+v\nset:   %+v", v.Name, v.Default, base, got)
			}
			checked++
		}
	}
	if checked < 20 {
		t.Fatalf("only %d defaults checked", checked)
	}
}
