package shopify_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every Admin call goes through GraphQL: no legacy REST endpoint
// ("/orders/….json", "/webhooks.json", …) is left in the code that talks to
// Shopify (the fakes report REST calls at run time too).
func TestNoRESTEndpoints(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	files = append(files, "../../plugins/defaults/shopify/main.go", "../../cmd/taritools/shopify_cmd.go",
		"../handlers_shopify.go", "../handlers_shopify_cancel.go", "../handlers_shopify_privacy.go")
	rest := regexp.MustCompile(`/[A-Za-z0-9_{}%]+\.json`)
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, m := range rest.FindAllString(string(b), -1) {
			if m != "/graphql.json" {
				t.Errorf("%s: REST endpoint %s", f, m)
			}
		}
	}
	if checked < 6 {
		t.Fatalf("checked %d files", checked)
	}
}
