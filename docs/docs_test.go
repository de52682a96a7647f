// Package docs holds the contract the code cites. Its test checks that every
// citation in the Go sources and the Markdown documents resolves inside the
// repository.
package docs

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// contractDocs are the documents under docs/ that code comments cite by
// section; a citation of another *.md must name a file that exists somewhere
// in the repository.
var contractDocs = map[string]bool{
	"decisions.md": true, "engine.md": true, "http-api.md": true, "tari-formats.md": true, "operations.md": true,
}

// retired are the documents of the original specification, which live
// outside the repository: the code must cite their docs/ replacements.
var retired = map[string]string{
	"tari-crypto.md":     "tari-formats.md",
	"tari-seed-words.md": "tari-formats.md §7",
	"platform-notes.md":  "ARCHITECTURE.md or docs/",
}

var (
	// A citation: a document name, then optional section numbers
	// ("engine.md §2.4.1", "§3.2.2–§3.3", "§3.6.A", "§3.1, §3.2 and §4.2").
	// A Markdown link ("[engine.md](engine.md) §2.2") counts as the name.
	citeRe    = regexp.MustCompile(`([A-Za-z0-9_-]+\.md)(?:\]\([^)\s]*\))?((?:(?:\s*(?:,|and|–|-|to)?\s*)§\s?[0-9]+(?:\.[0-9]+)*(?:\.[A-Z])?)*)`)
	sectionRe = regexp.MustCompile(`§\s?([0-9]+(?:\.[0-9]+)*)`)
	dRe       = regexp.MustCompile(`\bD([0-9]{1,2})\b`)
	headingRe = regexp.MustCompile(`(?m)^#+\s+([0-9]+(?:\.[0-9]+)*)[.\s]`)
	definedRe = regexp.MustCompile(`\*\*D([0-9]+) —`)
)

func TestCitationsResolve(t *testing.T) {
	root := ".."
	sections := map[string]map[string]bool{}
	for name := range contractDocs {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("docs/%s: %v", name, err)
		}
		sections[name] = map[string]bool{}
		for _, m := range headingRe.FindAllStringSubmatch(string(b), -1) {
			sections[name][m[1]] = true
		}
	}
	decisions, _ := os.ReadFile("decisions.md")
	defined := map[int]bool{}
	for _, m := range definedRe.FindAllStringSubmatch(string(decisions), -1) {
		n, _ := strconv.Atoi(m[1])
		defined[n] = true
	}
	for n := 1; n <= 28; n++ {
		if !defined[n] {
			t.Errorf("docs/decisions.md does not define D%d (a bullet starting **D%d —)", n, n)
		}
	}

	mdFiles := map[string]bool{}
	var goFiles []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "dist", "data":
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(path, ".md") {
			mdFiles[d.Name()] = true
		}
		if strings.HasSuffix(path, ".md") || strings.HasSuffix(path, ".go") {
			goFiles = append(goFiles, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(goFiles)

	citations, dRefs := 0, 0
	for _, path := range goFiles {
		if filepath.Base(path) == "docs_test.go" {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, path)
		for i, line := range strings.Split(string(b), "\n") {
			at := rel + ":" + strconv.Itoa(i+1)
			if strings.Contains(line, "shared/spec") || strings.Contains(line, "shared/vectors") {
				t.Errorf("%s points outside the repository (shared/…): cite docs/ instead", at)
			}
			for _, m := range citeRe.FindAllStringSubmatch(line, -1) {
				name := m[1]
				if repl, ok := retired[name]; ok {
					t.Errorf("%s cites %s, which is not in the repository: cite %s", at, name, repl)
					continue
				}
				if !contractDocs[name] {
					if !mdFiles[name] {
						t.Errorf("%s cites %s, which does not exist in the repository", at, name)
					}
					continue
				}
				citations++
				for _, s := range sectionRe.FindAllStringSubmatch(m[2], -1) {
					if !sections[name][s[1]] {
						t.Errorf("%s cites %s §%s, but docs/%s has no heading numbered %s", at, name, s[1], name, s[1])
					}
				}
			}
			for _, m := range dRe.FindAllStringSubmatch(line, -1) {
				n, _ := strconv.Atoi(m[1])
				dRefs++
				if !defined[n] {
					t.Errorf("%s cites D%d, which docs/decisions.md does not define", at, n)
				}
			}
		}
	}
	if citations < 40 || dRefs < 100 {
		t.Fatalf("found only %d document citations and %d D-numbers: is the walk rooted at the module?", citations, dRefs)
	}
}

// TestDocLinksResolve: relative links between the documents point at files.
func TestDocLinksResolve(t *testing.T) {
	link := regexp.MustCompile(`\]\(([^)#:]+\.md)(#[^)]*)?\)`)
	names, _ := filepath.Glob("*.md")
	for _, name := range names {
		b, _ := os.ReadFile(name)
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			if _, err := os.Stat(m[1]); err != nil {
				t.Errorf("docs/%s links to %s, which does not exist", name, m[1])
			}
		}
	}
}
