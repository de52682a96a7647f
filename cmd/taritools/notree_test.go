package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoGlobalCommandTree keeps the command tree built by constructors
// (newRootCommand and the per-area new...Command functions): no
// package-level *cobra.Command, no package-level option struct a command
// binds its flags to, and no init function that registers commands or
// flags. A tree held in globals keeps flag values between runs, so
// in-process tests leak state into each other.
func TestNoGlobalCommandTree(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.GenDecl:
				if d.Tok != token.VAR {
					continue
				}
				for _, spec := range d.Specs {
					vs := spec.(*ast.ValueSpec)
					if isCommandType(vs.Type) || isOptionsType(vs.Type) {
						t.Errorf("%s: package-level variable %s of a command type: build it in a constructor", fset.Position(vs.Pos()), vs.Names[0].Name)
					}
					for i, v := range vs.Values {
						if u, ok := v.(*ast.UnaryExpr); ok && u.Op == token.AND {
							v = u.X
						}
						if cl, ok := v.(*ast.CompositeLit); ok && isCommandType(cl.Type) {
							t.Errorf("%s: package-level variable %s holds a *cobra.Command: build it in a constructor", fset.Position(vs.Pos()), vs.Names[i].Name)
						}
					}
				}
			case *ast.FuncDecl:
				if d.Name.Name != "init" || d.Recv != nil {
					continue
				}
				ast.Inspect(d.Body, func(n ast.Node) bool {
					if sel, ok := n.(*ast.SelectorExpr); ok {
						switch sel.Sel.Name {
						case "AddCommand", "Flags", "PersistentFlags", "SetHelpFunc":
							t.Errorf("%s: init calls %s: register commands in a constructor", fset.Position(sel.Pos()), sel.Sel.Name)
						}
					}
					return true
				})
			}
		}
	}
	if checked < 10 {
		t.Fatalf("checked only %d files; run from the package directory", checked)
	}
}

// isCommandType reports whether e is cobra.Command or *cobra.Command.
func isCommandType(e ast.Expr) bool {
	if s, ok := e.(*ast.StarExpr); ok {
		e = s.X
	}
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return ok && pkg.Name == "cobra" && sel.Sel.Name == "Command"
}

// isOptionsType reports whether e names one of the option structs commands
// bind their flags to (sessionOpts, shopifyOpts, ...).
func isOptionsType(e ast.Expr) bool {
	if s, ok := e.(*ast.StarExpr); ok {
		e = s.X
	}
	id, ok := e.(*ast.Ident)
	return ok && strings.HasSuffix(id.Name, "Opts")
}
