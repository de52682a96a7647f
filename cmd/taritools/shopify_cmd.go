package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/joho/godotenv"
	"github.com/spf13/cobra"
)

// shopifyWebhooks are the webhooks the payment server needs: Shopify topic →
// server path (http-api.md §3.7).
var shopifyWebhooks = []struct{ Topic, Path string }{
	{"orders/create", "/shopify/webhook/checkout_create"},
	{"products/update", "/shopify/webhook/product_updated"},
	{"order_transactions/create", "/shopify/webhook/transaction_create"},
	{"orders/updated", "/shopify/webhook/no_op"},
}

type shopifyOpts struct {
	apiURL, shop, token, version string
	json                         bool
}

var shopOpts shopifyOpts

var shopifyCmd = &cobra.Command{
	Use:   "shopify",
	Short: "Shopify Admin API: install the server's webhooks; get, cancel or mark paid an order",
	Long: `Reads TPG_SHOPIFY_SHOP, TPG_SHOPIFY_ADMIN_ACCESS_TOKEN, TPG_SHOPIFY_API_VERSION and
TPG_SHOPIFY_API_URL from the environment (or a .env file in the current directory);
flags override them.`,
}

// shopifyREST is a minimal Admin REST API client.
type shopifyREST struct {
	base, token string
	http        *http.Client
}

func (o *shopifyOpts) client() (*shopifyREST, error) {
	_ = godotenv.Load() // optional .env, as the server reads it
	env := func(flag, name, def string) string {
		if flag != "" {
			return flag
		}
		if v := os.Getenv(name); v != "" {
			return v
		}
		return def
	}
	token := env(o.token, "TPG_SHOPIFY_ADMIN_ACCESS_TOKEN", "")
	if token == "" {
		return nil, errors.New("no Shopify admin token: set TPG_SHOPIFY_ADMIN_ACCESS_TOKEN or pass --token shpat_...")
	}
	base := env(o.apiURL, "TPG_SHOPIFY_API_URL", "")
	if base == "" {
		shop := env(o.shop, "TPG_SHOPIFY_SHOP", "")
		if shop == "" {
			return nil, errors.New("no shop: set TPG_SHOPIFY_SHOP (e.g. my-shop.myshopify.com) or pass --shop")
		}
		base = "https://" + shop + "/admin/api/" + env(o.version, "TPG_SHOPIFY_API_VERSION", "2024-04")
	}
	return &shopifyREST{base: strings.TrimRight(base, "/"), token: token, http: &http.Client{Timeout: 30 * time.Second}}, nil
}

// do sends a JSON request and decodes a 2xx answer into out.
func (c *shopifyREST) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("X-Shopify-Access-Token", c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach Shopify at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("Shopify %s %s: %d %s: %s", method, path, resp.StatusCode, http.StatusText(resp.StatusCode), clip(strings.TrimSpace(string(b)), 400))
	}
	if out == nil || len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	return json.Unmarshal(b, out)
}

type shopifyWebhook struct {
	ID        int64  `json:"id,omitempty"`
	Address   string `json:"address"`
	Topic     string `json:"topic,omitempty"`
	Format    string `json:"format,omitempty"`
	CreatedAt string `json:"created_at,omitempty"`
}

func (c *shopifyREST) webhooks(ctx context.Context) ([]shopifyWebhook, error) {
	var r struct {
		Webhooks []shopifyWebhook `json:"webhooks"`
	}
	err := c.do(ctx, http.MethodGet, "/webhooks.json", nil, &r)
	return r.Webhooks, err
}

// installWebhooks creates the missing webhooks and points existing ones for
// the same topics at serverURL. It returns one line per topic.
func (c *shopifyREST) installWebhooks(ctx context.Context, serverURL string) ([]string, error) {
	existing, err := c.webhooks(ctx)
	if err != nil {
		return nil, err
	}
	serverURL = strings.TrimRight(serverURL, "/")
	var lines []string
	for _, w := range shopifyWebhooks {
		addr := serverURL + w.Path
		var found *shopifyWebhook
		for i := range existing {
			if existing[i].Topic == w.Topic {
				found = &existing[i]
				break
			}
		}
		switch {
		case found != nil && found.Address == addr:
			lines = append(lines, fmt.Sprintf("%-26s already installed → %s", w.Topic, addr))
		case found != nil:
			body := map[string]shopifyWebhook{"webhook": {ID: found.ID, Address: addr}}
			if err := c.do(ctx, http.MethodPut, fmt.Sprintf("/webhooks/%d.json", found.ID), body, nil); err != nil {
				return lines, err
			}
			lines = append(lines, fmt.Sprintf("%-26s updated → %s (was %s)", w.Topic, addr, found.Address))
		default:
			body := map[string]shopifyWebhook{"webhook": {Topic: w.Topic, Address: addr, Format: "json"}}
			if err := c.do(ctx, http.MethodPost, "/webhooks.json", body, nil); err != nil {
				return lines, err
			}
			lines = append(lines, fmt.Sprintf("%-26s installed → %s", w.Topic, addr))
		}
	}
	return lines, nil
}

func shopifyID(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func init() {
	pf := shopifyCmd.PersistentFlags()
	pf.StringVar(&shopOpts.apiURL, "api-url", "", "Admin API base URL (default $TPG_SHOPIFY_API_URL or https://<shop>/admin/api/<version>)")
	pf.StringVar(&shopOpts.shop, "shop", "", "shop domain (default $TPG_SHOPIFY_SHOP)")
	pf.StringVar(&shopOpts.token, "token", "", "Admin API access token (default $TPG_SHOPIFY_ADMIN_ACCESS_TOKEN)")
	pf.StringVar(&shopOpts.version, "api-version", "", "Admin API version (default $TPG_SHOPIFY_API_VERSION or 2024-04)")
	pf.BoolVar(&shopOpts.json, "json", false, "print JSON")

	shopRun := func(fn func(ctx context.Context, c *shopifyREST, out io.Writer, args []string) error) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, args []string) error {
			// Order ids go into URL paths: only numbers.
			if cmd.Parent() != nil && cmd.Parent().Name() == "orders" && !shopifyID(args[0]) {
				return fmt.Errorf("Shopify order id %q must be a number (the order's id, not its #name)", args[0])
			}
			c, err := shopOpts.client()
			if err != nil {
				return err
			}
			ctx, cancel := cmdContext(cmd)
			defer cancel()
			return fn(ctx, c, cmd.OutOrStdout(), args)
		}
	}
	printJ := func(out io.Writer, v any) error { return (&session{out: out}).printJSON(v) }

	webhooks := &cobra.Command{Use: "webhooks", Short: "The webhooks the payment server needs"}
	webhooks.AddCommand(
		&cobra.Command{
			Use: "list", Short: "List the shop's webhooks", Args: cobra.NoArgs,
			RunE: shopRun(func(ctx context.Context, c *shopifyREST, out io.Writer, _ []string) error {
				ws, err := c.webhooks(ctx)
				if err != nil {
					return err
				}
				if shopOpts.json {
					return printJ(out, ws)
				}
				if len(ws) == 0 {
					fmt.Fprintln(out, "No webhooks. Install them with: taritools shopify webhooks install https://your-payment-server")
					return nil
				}
				t := newTextTable(out, "ID", "TOPIC", "ADDRESS", "FORMAT", "CREATED")
				for _, w := range ws {
					t.row(fmt.Sprint(w.ID), w.Topic, w.Address, w.Format, w.CreatedAt)
				}
				t.flush()
				return nil
			}),
		},
		&cobra.Command{
			Use:     "install SERVER_URL",
			Short:   "Install (or repoint) the webhooks for a payment server's public URL",
			Example: "  taritools shopify webhooks install https://pay.example.com",
			Args:    cobra.ExactArgs(1),
			RunE: shopRun(func(ctx context.Context, c *shopifyREST, out io.Writer, a []string) error {
				if !strings.HasPrefix(a[0], "https://") && !strings.HasPrefix(a[0], "http://") {
					return fmt.Errorf("SERVER_URL %q must be a URL such as https://pay.example.com (Shopify calls HTTPS endpoints)", a[0])
				}
				lines, err := c.installWebhooks(ctx, a[0])
				for _, l := range lines {
					fmt.Fprintln(out, l)
				}
				return err
			}),
		},
	)

	orders := &cobra.Command{Use: "orders", Short: "Get, cancel or mark paid a Shopify order (the server normally does this)"}
	orders.AddCommand(
		&cobra.Command{
			Use: "get ORDER_ID", Short: "Fetch an order", Args: cobra.ExactArgs(1),
			RunE: shopRun(func(ctx context.Context, c *shopifyREST, out io.Writer, a []string) error {
				var r struct {
					Order map[string]any `json:"order"`
				}
				if err := c.do(ctx, http.MethodGet, "/orders/"+a[0]+".json", nil, &r); err != nil {
					return err
				}
				if shopOpts.json || r.Order == nil {
					return printJ(out, r.Order)
				}
				for _, k := range []string{"id", "name", "email", "created_at", "currency", "total_price", "total_outstanding",
					"financial_status", "fulfillment_status", "cancelled_at", "cancel_reason", "note"} {
					fmt.Fprintf(out, "%-19s %s\n", k+":", cell(r.Order[k]))
				}
				if cust, ok := r.Order["customer"].(map[string]any); ok {
					fmt.Fprintf(out, "%-19s %s\n", "customer:", cell(cust["id"]))
				}
				return nil
			}),
		},
		&cobra.Command{
			Use: "cancel ORDER_ID", Short: "Cancel an order on Shopify", Args: cobra.ExactArgs(1),
			RunE: shopRun(func(ctx context.Context, c *shopifyREST, out io.Writer, a []string) error {
				var r map[string]any
				if err := c.do(ctx, http.MethodPost, "/orders/"+a[0]+"/cancel.json", nil, &r); err != nil {
					return err
				}
				if shopOpts.json {
					return printJ(out, r)
				}
				fmt.Fprintf(out, "Order %s cancelled on Shopify.\n", a[0])
				return nil
			}),
		},
		&cobra.Command{
			Use:   "pay ORDER_ID AMOUNT CURRENCY",
			Short: "Mark an order as paid on Shopify (records a capture; moves no money)",
			Args:  cobra.ExactArgs(3),
			RunE: shopRun(func(ctx context.Context, c *shopifyREST, out io.Writer, a []string) error {
				body := map[string]any{"transaction": map[string]any{"parent_id": nil, "amount": a[1], "kind": "capture", "currency": strings.ToUpper(a[2])}}
				var r map[string]any
				if err := c.do(ctx, http.MethodPost, "/orders/"+a[0]+"/transactions.json", body, &r); err != nil {
					return err
				}
				if shopOpts.json {
					return printJ(out, r)
				}
				fmt.Fprintf(out, "Order %s marked paid on Shopify (%s %s).\n", a[0], a[1], strings.ToUpper(a[2]))
				return nil
			}),
		},
	)
	shopifyCmd.AddCommand(webhooks, orders)
	rootCmd.AddCommand(shopifyCmd)
}
