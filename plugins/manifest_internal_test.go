package plugins

import (
	"net/url"
	"strings"
	"testing"
)

func TestHostAllowed(t *testing.T) {
	grants := []string{"*.myshopify.com", "api.mail.example", "127.0.0.1:8080"}
	for raw, want := range map[string]bool{
		"https://shop.myshopify.com/admin":    true,
		"https://a.b.myshopify.com/":          true,
		"https://myshopify.com/":              false, // the wildcard is for sub-domains
		"https://evilmyshopify.com/":          false,
		"https://api.mail.example:444/send":   true, // no port in the grant: any port
		"https://API.MAIL.EXAMPLE/send":       true,
		"http://127.0.0.1:8080/x":             true,
		"http://127.0.0.1:8081/x":             false,
		"http://127.0.0.1/x":                  false,
		"https://api.mail.example.evil.com/x": false,
	} {
		u, _ := url.Parse(raw)
		if got := hostAllowed(grants, u); got != want {
			t.Errorf("hostAllowed(%s) = %v, want %v", raw, got, want)
		}
	}
	if g := grantHost("https://Shop.example:8443/admin/api"); g != "shop.example:8443" {
		t.Fatal(g)
	}
	if g := grantHost("shop.myshopify.com"); g != "shop.myshopify.com" {
		t.Fatal(g)
	}
}

// Only a plugin with a shipped plugin's id may read whole TPG_* variables,
// and only those the shipped manifest lists.
func TestConfigAccess(t *testing.T) {
	env := map[string]string{
		"TPG_SHOPIFY_ADMIN_ACCESS_TOKEN": "secret", "TPG_JWT_SIGNER_KEY": "jwt",
		"TPG_PLUGIN_MY_PLUGIN_API_KEY": "k", "TPG_PLUGIN_SHOPIFY_X": "x",
	}
	mgr := &Manager{cfg: Config{Env: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}}
	shipped, err := defaultManifest("shopify")
	if err != nil {
		t.Fatal(err)
	}
	merchant := &Manifest{ID: "my-plugin", Env: []string{"TPG_SHOPIFY_ADMIN_ACCESS_TOKEN", "TPG_JWT_SIGNER_KEY"}}
	cfg := mgr.configFunc(merchant, nil)
	if v, ok := cfg("api-key"); !ok || v != "k" {
		t.Fatalf("own key: %q %v", v, ok)
	}
	if _, ok := cfg("TPG_SHOPIFY_ADMIN_ACCESS_TOKEN"); ok {
		t.Fatal("a merchant plugin read the Shopify token")
	}
	copyOfShipped := *shipped
	copyOfShipped.Env = append(copyOfShipped.Env, "TPG_JWT_SIGNER_KEY")
	cfg = mgr.configFunc(&copyOfShipped, shipped)
	if v, ok := cfg("TPG_SHOPIFY_ADMIN_ACCESS_TOKEN"); !ok || v != "secret" {
		t.Fatal("the shipped plugin cannot read its variable")
	}
	if _, ok := cfg("TPG_JWT_SIGNER_KEY"); ok {
		t.Fatal("a manifest extended its env grants beyond the shipped one")
	}
	if v, _ := cfg("x"); v != "x" {
		t.Fatal("prefixed key")
	}
	missing := missingConfig(&Manifest{ID: "my-plugin", Requires: []string{"API_KEY", "URL|HOST"}}, mgr.configFunc(merchant, nil))
	if len(missing) != 1 || missing[0] != "TPG_PLUGIN_MY_PLUGIN_URL or TPG_PLUGIN_MY_PLUGIN_HOST" {
		t.Fatalf("missing = %v", missing)
	}
}

func TestManifestValidation(t *testing.T) {
	for _, c := range []struct {
		m    Manifest
		want string
	}{
		{Manifest{ID: "Bad_ID", ABI: 1, Events: []string{"*"}}, "must be lower-case"},
		{Manifest{ID: "ok", ABI: 3, Events: []string{"*"}}, "ABI version 3"},
		{Manifest{ID: "ok", ABI: 1}, "subscribes to no events"},
		{Manifest{ID: "ok", ABI: 1, Events: []string{"OrderPayed"}}, "unknown event type"},
		{Manifest{ID: "ok", ABI: 1, Events: []string{"*"}, HTTP: []string{"https://x"}}, "must be a host name"},
		{Manifest{ID: "ok", ABI: 1, Events: []string{"*"}, Limits: Limits{MemoryPages: 1 << 20}}, "over the maximum"},
	} {
		if err := c.m.validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err %v, want %q", c.m, err, c.want)
		}
	}
	m := Manifest{ID: "ok", ABI: 1, Events: []string{"OrderPaid"}}
	if err := m.validate(); err != nil || m.Limits.MemoryPages != 256 || m.Limits.TimeoutMS != 10000 {
		t.Fatalf("defaults: %+v %v", m.Limits, err)
	}
}
