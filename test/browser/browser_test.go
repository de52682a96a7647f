package browser

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The helper must catch what page tests rely on it to catch: a script error
// and a CSP violation; and a clean page must come out clean.
func TestBrowserReportsPageProblems(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/clean":
			w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'")
			w.Write([]byte(`<!doctype html><title>ok</title><p id="p">hello</p>`))
		case "/broken":
			w.Header().Set("Content-Security-Policy", "default-src 'none'")
			w.Write([]byte(`<!doctype html><title>bad</title><p id="p">x</p><script>nope()</script>`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	b := Open(t, 360, 740)
	var text string
	b.Run(30*time.Second, chromedp.Navigate(srv.URL+"/clean"), chromedp.Text("#p", &text))
	if text != "hello" {
		t.Fatalf("text = %q", text)
	}
	b.RequireNoProblems()

	b.Run(30*time.Second, chromedp.Navigate(srv.URL+"/broken"), chromedp.WaitVisible("#p"))
	deadline := time.Now().Add(5 * time.Second)
	for len(b.Problems()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	got := strings.Join(b.Problems(), "\n")
	if !strings.Contains(got, "Content Security Policy") && !strings.Contains(got, "Content-Security-Policy") {
		t.Fatalf("the blocked inline script was not reported: %q", got)
	}
	if p := b.Screenshot("broken"); !strings.HasSuffix(p, ".png") {
		t.Fatal(p)
	}
}
