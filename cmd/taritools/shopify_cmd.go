package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/joho/godotenv"
	"github.com/spf13/cobra"

	"github.com/tari-payment/tps/api/shopify"
	"github.com/tari-payment/tps/core/config"
)

// shopifyWebhooks are the webhooks the payment server needs: GraphQL topic →
// server path (http-api.md §3.7, plus orders/cancelled). The compliance
// webhooks (customers/data_request, customers/redact, shop/redact) are set in
// the app's configuration in the Dev Dashboard, not through the API.
var shopifyWebhooks = []struct{ Topic, Path string }{
	{"ORDERS_CREATE", "/shopify/webhook/checkout_create"},
	{"PRODUCTS_UPDATE", "/shopify/webhook/product_updated"},
	{"ORDER_TRANSACTIONS_CREATE", "/shopify/webhook/transaction_create"},
	{"ORDERS_UPDATED", "/shopify/webhook/no_op"},
	{"ORDERS_CANCELLED", "/shopify/webhook/order_cancelled"},
}

type shopifyOpts struct {
	apiURL, shop, token, version string
	json                         bool
}

// shopifyConn is the Admin API client and, with app credentials, the token
// source (for the granted scopes).
type shopifyConn struct {
	*shopify.Client
	creds *shopify.ClientCredentials
}

func (o *shopifyOpts) client() (*shopifyConn, error) {
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
	base := env(o.apiURL, "TPG_SHOPIFY_API_URL", "")
	if base == "" {
		shop := env(o.shop, "TPG_SHOPIFY_SHOP", "")
		if shop == "" {
			return nil, errors.New("no shop: set TPG_SHOPIFY_SHOP (e.g. my-shop.myshopify.com) or pass --shop")
		}
		base = "https://" + shop + "/admin/api/" + env(o.version, "TPG_SHOPIFY_API_VERSION", config.DefaultShopifyAPIVersion)
	}
	id, secret := os.Getenv("TPG_SHOPIFY_CLIENT_ID"), os.Getenv("TPG_SHOPIFY_CLIENT_SECRET")
	if o.token == "" && id != "" && secret != "" {
		cc, err := shopify.NewClientCredentials(base, id, secret)
		if err != nil {
			return nil, err
		}
		return &shopifyConn{Client: shopify.NewWithTokens(base, cc, nil), creds: cc}, nil
	}
	token := env(o.token, "TPG_SHOPIFY_ADMIN_ACCESS_TOKEN", "")
	if token == "" {
		return nil, errors.New("no Shopify credentials: set TPG_SHOPIFY_CLIENT_ID and TPG_SHOPIFY_CLIENT_SECRET (or TPG_SHOPIFY_ADMIN_ACCESS_TOKEN)")
	}
	return &shopifyConn{Client: shopify.New(base, token)}, nil
}

// installWebhooks creates the missing subscriptions and points existing ones
// for the same topics at serverURL. It returns one line per topic.
func installWebhooks(ctx context.Context, c *shopifyConn, serverURL string) ([]string, error) {
	existing, err := c.WebhookSubscriptions(ctx)
	if err != nil {
		return nil, err
	}
	serverURL = strings.TrimRight(serverURL, "/")
	var lines []string
	for _, w := range shopifyWebhooks {
		addr := serverURL + w.Path
		var found *shopify.WebhookSubscription
		for i := range existing {
			if existing[i].Topic == w.Topic {
				found = &existing[i]
				break
			}
		}
		switch {
		case found != nil && found.URI == addr:
			lines = append(lines, fmt.Sprintf("%-26s already installed → %s", w.Topic, addr))
		case found != nil:
			if err := c.UpdateWebhook(ctx, found.ID, addr); err != nil {
				return lines, err
			}
			lines = append(lines, fmt.Sprintf("%-26s updated → %s (was %s)", w.Topic, addr, found.URI))
		default:
			if err := c.CreateWebhook(ctx, w.Topic, addr); err != nil {
				return lines, err
			}
			lines = append(lines, fmt.Sprintf("%-26s installed → %s", w.Topic, addr))
		}
	}
	return lines, nil
}

// checkShopify reports the token, the scopes, the shop currency and the
// subscribed topics; it fails when something the server needs is missing.
func checkShopify(ctx context.Context, c *shopifyConn, out io.Writer) error {
	cur, err := c.ShopCurrency(ctx)
	if err != nil {
		return fmt.Errorf("token: cannot call the Admin API: %w", err)
	}
	how := "fixed Admin API token"
	if c.creds != nil {
		how = "client-credentials grant (renewed automatically)"
	}
	fmt.Fprintf(out, "token:      ok (%s)\n", how)
	scopes, err := c.AccessScopes(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "scopes:     %s\n", strings.Join(scopes, ", "))
	fmt.Fprintf(out, "currency:   %s\n", cur)
	subs, err := c.WebhookSubscriptions(ctx)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, w := range subs {
		have[w.Topic] = true
		fmt.Fprintf(out, "webhook:    %-26s → %s\n", w.Topic, w.URI)
	}
	var problems []string
	if m := shopify.MissingScopes(scopes); len(m) > 0 {
		problems = append(problems, "missing scopes: "+strings.Join(m, ", ")+" (add them to the app in the Dev Dashboard and reinstall)")
	}
	for _, w := range shopifyWebhooks {
		if !have[w.Topic] {
			problems = append(problems, "webhook "+w.Topic+" not subscribed (taritools shopify webhooks install https://your-payment-server)")
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	fmt.Fprintln(out, "Shopify connection OK.")
	return nil
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

func newShopifyCommand() *cobra.Command {
	var shopOpts shopifyOpts
	shopifyCmd := &cobra.Command{
		Use:   "shopify",
		Short: "Shopify Admin API (GraphQL): check the connection, install webhooks, get, cancel or mark paid an order",
		Long: `Reads TPG_SHOPIFY_SHOP, TPG_SHOPIFY_CLIENT_ID and TPG_SHOPIFY_CLIENT_SECRET (a Dev Dashboard
app: tokens come from the client-credentials grant), or TPG_SHOPIFY_ADMIN_ACCESS_TOKEN (a
fixed token), TPG_SHOPIFY_API_VERSION and TPG_SHOPIFY_API_URL from the environment (or a
.env file in the current directory); flags override them. The client secret is read from
the environment only, never from the command line.`,
	}
	pf := shopifyCmd.PersistentFlags()
	pf.StringVar(&shopOpts.apiURL, "api-url", "", "Admin API base URL (default $TPG_SHOPIFY_API_URL or https://<shop>/admin/api/<version>)")
	pf.StringVar(&shopOpts.shop, "shop", "", "shop domain (default $TPG_SHOPIFY_SHOP)")
	pf.StringVar(&shopOpts.token, "token", "", "fixed Admin API access token (default $TPG_SHOPIFY_ADMIN_ACCESS_TOKEN; app client credentials come from the environment)")
	pf.StringVar(&shopOpts.version, "api-version", "", "Admin API version (default $TPG_SHOPIFY_API_VERSION or "+config.DefaultShopifyAPIVersion+")")
	pf.BoolVar(&shopOpts.json, "json", false, "print JSON")

	shopRun := func(fn func(ctx context.Context, c *shopifyConn, out io.Writer, args []string) error) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, args []string) error {
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

	check := &cobra.Command{
		Use: "check", Short: "Check the connection: token, scopes, shop currency, subscribed webhooks", Args: cobra.NoArgs,
		RunE: shopRun(func(ctx context.Context, c *shopifyConn, out io.Writer, _ []string) error {
			return checkShopify(ctx, c, out)
		}),
	}
	webhooks := &cobra.Command{Use: "webhooks", Short: "The webhooks the payment server needs"}
	webhooks.AddCommand(
		&cobra.Command{
			Use: "list", Short: "List the app's webhook subscriptions", Args: cobra.NoArgs,
			RunE: shopRun(func(ctx context.Context, c *shopifyConn, out io.Writer, _ []string) error {
				ws, err := c.WebhookSubscriptions(ctx)
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
				t := newTextTable(out, "ID", "TOPIC", "URI")
				for _, w := range ws {
					t.row(w.ID, w.Topic, w.URI)
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
			RunE: shopRun(func(ctx context.Context, c *shopifyConn, out io.Writer, a []string) error {
				if !strings.HasPrefix(a[0], "https://") && !strings.HasPrefix(a[0], "http://") {
					return fmt.Errorf("SERVER_URL %q must be a URL such as https://pay.example.com (Shopify calls HTTPS endpoints)", a[0])
				}
				lines, err := installWebhooks(ctx, c, a[0])
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
			RunE: shopRun(func(ctx context.Context, c *shopifyConn, out io.Writer, a []string) error {
				o, err := c.Order(ctx, a[0])
				if err != nil {
					return err
				}
				if o == nil {
					return fmt.Errorf("Shopify has no order %s", a[0])
				}
				if shopOpts.json {
					return printJ(out, o)
				}
				for _, kv := range [][2]any{{"id", o.ID}, {"name", o.Name}, {"email", o.Email}, {"created_at", o.CreatedAt}, {"currency", o.CurrencyCode},
					{"total_price", o.TotalPriceSet.ShopMoney.Amount}, {"financial_status", o.DisplayFinancialStatus},
					{"cancelled_at", o.CancelledAt}, {"cancel_reason", o.CancelReason}, {"note", o.Note}} {
					fmt.Fprintf(out, "%-19s %s\n", kv[0].(string)+":", cell(kv[1]))
				}
				return nil
			}),
		},
		&cobra.Command{
			Use: "cancel ORDER_ID", Short: "Cancel an order on Shopify (restocked, not refunded)", Args: cobra.ExactArgs(1),
			RunE: shopRun(func(ctx context.Context, c *shopifyConn, out io.Writer, a []string) error {
				if err := c.CancelOrder(ctx, a[0], "Cancelled with taritools."); err != nil {
					return err
				}
				fmt.Fprintf(out, "Order %s cancelled on Shopify (restocked).\n", a[0])
				return nil
			}),
		},
		&cobra.Command{
			Use:   "pay ORDER_ID",
			Short: "Mark an order as paid on Shopify (orderMarkAsPaid; moves no money)",
			Args:  cobra.ExactArgs(1),
			RunE: shopRun(func(ctx context.Context, c *shopifyConn, out io.Writer, a []string) error {
				if err := c.MarkOrderPaid(ctx, a[0]); err != nil {
					return err
				}
				fmt.Fprintf(out, "Order %s marked paid on Shopify.\n", a[0])
				return nil
			}),
		},
	)
	shopifyCmd.AddCommand(check, webhooks, orders)
	return shopifyCmd
}
