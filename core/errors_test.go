package core

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"testing"
)

// TestEveryCodeHasASentinel reads the Code constants from the source, so a
// code added without a sentinel (and so missing from Codes, which the API's
// mapping test walks) fails here.
func TestEveryCodeHasASentinel(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	codes := Codes()
	declared := 0
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
				continue
			}
			for i, name := range vs.Names {
				declared++
				lit := vs.Values[i].(*ast.BasicLit).Value
				if !slices.Contains(codes, Code(lit[1:len(lit)-1])) {
					t.Errorf("%s has no sentinel in the sentinels list", name.Name)
				}
			}
		}
	}
	if declared == 0 || declared != len(codes) {
		t.Fatalf("%d Code constants, %d sentinels", declared, len(codes))
	}
	seen := map[Code]bool{}
	for _, c := range codes {
		if seen[c] {
			t.Errorf("code %s has two sentinels", c)
		}
		seen[c] = true
	}
}

func TestErrorsMatchByCode(t *testing.T) {
	wrapped := fmt.Errorf("context: %w", ErrRateNotFound.With("USD"))
	if !errors.Is(wrapped, ErrRateNotFound) || errors.Is(wrapped, ErrUnsupportedCurrency) {
		t.Fatal("errors.Is must match by code")
	}
	if c, ok := CodeOf(wrapped); !ok || c != CodeRateNotFound || DetailOf(wrapped) != "USD" {
		t.Fatalf("CodeOf %q %v, DetailOf %q", c, ok, DetailOf(wrapped))
	}
	if wrapped.Error() != "context: The requested exchange rate does not exist: USD" {
		t.Fatalf("text %q", wrapped)
	}
	if ErrRateNotFound.Detail != "" {
		t.Fatal("With changed the sentinel")
	}
	for _, err := range []error{OrderNotFound("7"), &RolesNotAllowedError{Count: 2}} {
		c, ok := CodeOf(err)
		if !ok || (c != CodeOrderNotFound && c != CodeRolesNotAllowed) {
			t.Errorf("%v: code %q %v", err, c, ok)
		}
	}
	if !errors.Is(OrderNotFound("7"), ErrOrderNotFound) || !errors.Is(&RolesNotAllowedError{1}, ErrRolesNotAllowed) {
		t.Fatal("concrete errors must match their sentinels")
	}
	if _, ok := CodeOf(errors.New("database is locked")); ok {
		t.Fatal("an uncoded error has no code")
	}
}
