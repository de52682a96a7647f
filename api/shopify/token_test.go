package shopify_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tari-payment/tps/api/shopify"
	"github.com/tari-payment/tps/api/shopify/shopifytest"
)

// The client-credentials source fetches a token once, reuses it, renews it
// before it expires (not after), and renews once when Shopify answers 401.
func TestClientCredentialsRenewal(t *testing.T) {
	fake := shopifytest.New("cid", "csecret")
	defer fake.Close()
	fake.SetTokenTTL(time.Hour)
	cc, err := shopify.NewClientCredentials(fake.APIURL(), "cid", "csecret")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := time.Now()
	cc.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	c := shopify.NewWithTokens(fake.APIURL(), cc, nil)
	ctx := context.Background()
	for range 3 {
		if cur, err := c.ShopCurrency(ctx); err != nil || cur != "USD" {
			t.Fatal(cur, err)
		}
	}
	if n := fake.Stats().TokensIssued; n != 1 {
		t.Fatalf("%d tokens for three calls", n)
	}
	if cc.Scope() == "" || !strings.Contains(cc.Scope(), "write_orders") {
		t.Fatalf("scope %q", cc.Scope())
	}
	// 50 minutes in (10 before expiry): still the same token.
	advance(50 * time.Minute)
	if _, err := c.ShopCurrency(ctx); err != nil || fake.Stats().TokensIssued != 1 {
		t.Fatal("renewed too early", err)
	}
	// 56 minutes in: within the renewal margin, a new token is fetched
	// before the call, which therefore never meets a 401.
	advance(6 * time.Minute)
	if _, err := c.ShopCurrency(ctx); err != nil {
		t.Fatal(err)
	}
	if st := fake.Stats(); st.TokensIssued != 2 || st.Rejected != 0 {
		t.Fatalf("stats after renewal: %+v", st)
	}
	// Revoked early (app reinstalled): one 401, one renewal, the call passes.
	fake.ExpireTokens()
	if _, err := c.ShopCurrency(ctx); err != nil {
		t.Fatal(err)
	}
	if st := fake.Stats(); st.TokensIssued != 3 || st.Rejected != 1 {
		t.Fatalf("stats after a 401: %+v", st)
	}
	// Wrong secret: a clear error that names neither secret nor token.
	bad, _ := shopify.NewClientCredentials(fake.APIURL(), "cid", "not-the-secret")
	_, err = shopify.NewWithTokens(fake.APIURL(), bad, nil).ShopCurrency(ctx)
	if err == nil || !strings.Contains(err.Error(), "invalid_client") || strings.Contains(err.Error(), "not-the-secret") {
		t.Fatalf("bad secret: %v", err)
	}
}

// The token is only ever sent to the shop's host.
func TestTransportSendsTokenOnlyToTheShop(t *testing.T) {
	shop := shopifytest.New("cid", "csecret")
	defer shop.Close()
	other := shopifytest.New("cid", "csecret") // another host, same API
	defer other.Close()
	cc, _ := shopify.NewClientCredentials(shop.APIURL(), "cid", "csecret")
	tr := &shopify.Transport{Host: shop.Host(), Source: cc}
	c := shopify.NewWithTokens(other.APIURL(), cc, nil)
	c.HTTP.Transport = tr
	if _, err := c.ShopCurrency(context.Background()); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("a request to another host authenticated: %v", err)
	}
	if shop.Stats().TokensIssued != 0 {
		t.Fatal("a token was fetched for a request to another host")
	}
}

// THROTTLED answers are waited out by the reported cost, 5xx retried with
// backoff, userErrors returned at once as permanent.
func TestGraphQLThrottlingRetriesAndUserErrors(t *testing.T) {
	fake := shopifytest.New("cid", "csecret")
	defer fake.Close()
	fake.AddStaticToken("shpat_x")
	fake.AddVariant(11, shopifytest.Variant{ProductID: 1, Price: "10.00"})
	fake.AddVariant(12, shopifytest.Variant{ProductID: 1, Price: "2.50", TariPrice: "1"})
	fake.AddVariant(21, shopifytest.Variant{ProductID: 2, Price: "1.00"})
	c := shopify.New(fake.APIURL(), "shpat_x")
	var waits []time.Duration
	c.Sleep = func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	ctx := context.Background()
	fake.Fail("productVariants", shopifytest.Fault{Throttled: true}, shopifytest.Fault{Status: 503}, shopifytest.Fault{Status: 502})
	vs, err := c.AllProductVariants(ctx)
	if err != nil || len(vs) != 3 {
		t.Fatal(vs, err)
	}
	// The fake reports cost 52, 10 available, refilling 100/s: ~0.42 s.
	if len(waits) != 3 || waits[0] < 400*time.Millisecond || waits[0] > time.Second || waits[1] != 500*time.Millisecond || waits[2] != time.Second {
		t.Fatalf("waits = %v", waits)
	}
	// One productVariantsBulkUpdate per product.
	n, err := c.RepriceVariants(ctx, vs, 1_000_000)
	if err != nil || n != 3 {
		t.Fatal(n, err)
	}
	if fake.VariantTariPrice(11) != "10000000" || fake.VariantTariPrice(12) != "2500000" || fake.VariantTariPrice(21) != "1000000" {
		t.Fatal("prices not written")
	}
	if got := fake.Stats().Count("productVariantsBulkUpdate"); got != 2 {
		t.Fatalf("%d bulk updates for two products", got)
	}
	// A user error is permanent: no retry.
	waits = nil
	vs[0].Metafield = nil
	fake.Fail("productVariantsBulkUpdate", shopifytest.Fault{UserError: "Metafield value is invalid"})
	_, err = c.RepriceVariants(ctx, vs[:1], 2_000_000)
	var se *shopify.Error
	if !errors.As(err, &se) || !se.Permanent || !strings.Contains(err.Error(), "Metafield value is invalid") || len(waits) != 0 {
		t.Fatalf("user error: %v (waits %v)", err, waits)
	}
	// Persistent 5xx: bounded attempts.
	c.MaxAttempts = 3
	fake.Fail("shop", shopifytest.Fault{Status: 500}, shopifytest.Fault{Status: 500}, shopifytest.Fault{Status: 500}, shopifytest.Fault{Status: 500})
	if _, err := c.ShopCurrency(ctx); err == nil || !strings.Contains(err.Error(), "500") || len(waits) != 2 {
		t.Fatalf("persistent 5xx: %v (waits %v)", err, waits)
	}
	if len(fake.Stats().RESTCalls) != 0 {
		t.Fatal("REST call made")
	}
}
