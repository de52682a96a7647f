package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tari-payment/tps/client"
	"github.com/tari-payment/tps/cmd/taritools/internal/notify"
	"github.com/tari-payment/tps/core"
)

// adminCommands builds the admin group's commands over the group's session
// flags.
type adminCommands struct{ opts sessionOpts }

// run adapts a session function to a cobra RunE on the admin group.
func (a *adminCommands) run(fn func(ctx context.Context, s *session, args []string) error) func(*cobra.Command, []string) error {
	return withSession(&a.opts, fn)
}

func (a *adminCommands) leaf(use, short string, args cobra.PositionalArgs, fn func(ctx context.Context, s *session, args []string) error) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Args: args, RunE: a.run(fn)}
}

func newAdminCommand() *cobra.Command {
	a := &adminCommands{}
	adminCmd := &cobra.Command{
		Use:   "admin",
		Short: "Merchant and admin commands (need the read_all, write or super_admin role)",
		Long: `Admin commands act on any order, payment or account. The profile must ask for the
roles they need at login (taritools profile add --roles user,read_all,write ...), and
the server must have granted them (taritools admin roles, or taritools setup add-user).`,
	}
	addSessionFlags(adminCmd, &a.opts)

	var reason string
	withReason := func(c *cobra.Command, required bool) *cobra.Command {
		c.Flags().StringVar(&reason, "reason", "", "reason for the change (sent to the server with it)")
		if required {
			_ = c.MarkFlagRequired("reason")
		}
		return c
	}

	credit := withReason(a.leaf("credit CUSTOMER_ID AMOUNT", "Issue a credit note (AMOUNT: µT, \"<decimal> T\"; negative takes money away)",
		cobra.ExactArgs(2), func(ctx context.Context, s *session, a []string) error {
			amt, err := notify.ParseAmount(a[1])
			if err != nil {
				return err
			}
			r, err := s.client.Credit(ctx, a[0], amt, reason)
			if err != nil {
				return err
			}
			if !s.json {
				fmt.Fprintf(s.out, "Credited %s to customer %s.\n", notify.FormatMicroTari(amt), a[0])
			}
			return printSettlement(s, &r)
		}), false)

	fulfil := withReason(a.leaf("fulfil ORDER_ID", "Mark an open order as paid by hand (issues a matching credit)",
		cobra.ExactArgs(1), func(ctx context.Context, s *session, a []string) error {
			o, err := s.client.Fulfil(ctx, a[0], reason)
			return printOrder(s, o, err)
		}), true)
	fulfil.Aliases = []string{"fulfill", "mark-paid"}

	cancel := withReason(a.leaf("cancel ORDER_ID", "Cancel an open order", cobra.ExactArgs(1),
		func(ctx context.Context, s *session, a []string) error {
			o, err := s.client.Cancel(ctx, a[0], reason)
			return printOrder(s, o, err)
		}), true)

	reassign := withReason(a.leaf("reassign ORDER_ID NEW_CUSTOMER_ID", "Move an order to another customer", cobra.ExactArgs(2),
		func(ctx context.Context, s *session, a []string) error {
			r, err := s.client.Reassign(ctx, a[0], a[1], reason)
			if err != nil {
				return err
			}
			if s.json {
				return s.printJSON(r)
			}
			fmt.Fprintf(s.out, "Order %s moved from customer %s to %s.\n", a[0], r.Orders.OldOrder.CustomerID, r.Orders.NewOrder.CustomerID)
			ordersTable(s.out, []core.Order{r.Orders.NewOrder})
			if len(r.Settlements) > 0 {
				section(s.out, "Settlements")
				settlementsTable(s.out, r.Settlements)
			}
			return nil
		}), true)

	price := withReason(a.leaf("price ORDER_ID AMOUNT", "Change a New order's price (AMOUNT: µT or \"<decimal> T\")", cobra.ExactArgs(2),
		func(ctx context.Context, s *session, a []string) error {
			amt, err := notify.ParseAmount(a[1])
			if err != nil {
				return err
			}
			o, err := s.client.UpdatePrice(ctx, a[0], amt, reason)
			return printOrder(s, o, err)
		}), false)

	memo := withReason(a.leaf("memo ORDER_ID MEMO", "Replace an order's memo", cobra.ExactArgs(2),
		func(ctx context.Context, s *session, a []string) error {
			o, err := s.client.UpdateMemo(ctx, a[0], a[1], reason)
			return printOrder(s, o, err)
		}), false)

	reset := withReason(a.leaf("reset ORDER_ID", "Bring an expired or cancelled order back to New", cobra.ExactArgs(1),
		func(ctx context.Context, s *session, a []string) error {
			raw, err := s.client.ResetOrder(ctx, a[0], reason)
			if err != nil {
				return err
			}
			return printOrderChange(s, raw)
		}), true)

	var settleAddr, settleCustomer string
	settle := a.leaf("settle", "Pay an account's open orders from its balances (--address or --customer)", cobra.NoArgs,
		func(ctx context.Context, s *session, _ []string) error {
			var r *core.MultiAccountPayment
			var err error
			switch {
			case (settleAddr == "") == (settleCustomer == ""):
				return errors.New("give exactly one of --address or --customer")
			case settleAddr != "":
				r, err = s.client.SettleAddress(ctx, settleAddr)
			default:
				r, err = s.client.SettleCustomer(ctx, settleCustomer)
			}
			if err != nil {
				return err
			}
			return printSettlement(s, r)
		})
	settle.Flags().StringVar(&settleAddr, "address", "", "wallet address (this or --customer is required)")
	settle.Flags().StringVar(&settleCustomer, "customer", "", "customer id")
	settle.MarkFlagsOneRequired("address", "customer")
	settle.MarkFlagsMutuallyExclusive("address", "customer")

	var q client.OrderSearch
	search := a.leaf("search", "Search orders (filters are ANDed)", cobra.NoArgs,
		func(ctx context.Context, s *session, _ []string) error {
			orders, err := s.client.SearchOrders(ctx, q)
			if err != nil {
				return err
			}
			if s.json {
				return s.printJSON(orders)
			}
			ordersTable(s.out, orders)
			return nil
		})
	sf := search.Flags()
	sf.StringVar(&q.Memo, "memo", "", "memo contains")
	sf.StringVar(&q.OrderID, "order-id", "", "order id")
	sf.StringVar(&q.AltID, "alt-id", "", "storefront order name (e.g. #1001)")
	sf.StringVar(&q.CustomerID, "customer", "", "customer id")
	sf.StringVar(&q.Currency, "currency", "", "currency")
	sf.StringVar(&q.Since, "since", "", "created at or after (RFC 3339)")
	sf.StringVar(&q.Until, "until", "", "created at or before (RFC 3339)")
	sf.StringSliceVar(&q.Statuses, "status", nil, "statuses: Unclaimed,New,Paid,Expired,Cancelled")

	order := a.leaf("order ORDER_ID", "Find an order by its storefront id (or name)", cobra.ExactArgs(1),
		func(ctx context.Context, s *session, a []string) error { return showOrder(ctx, s, a[0]) })

	var openOnly bool
	orders := a.leaf("orders ADDRESS", "Orders linked to a wallet address", cobra.ExactArgs(1),
		func(ctx context.Context, s *session, a []string) error {
			var r core.OrderResult
			var err error
			if openOnly {
				r, err = s.client.UnfulfilledOrdersFor(ctx, a[0])
			} else {
				r, err = s.client.OrdersFor(ctx, a[0])
			}
			if err != nil {
				return err
			}
			return printOrderResult(s, r)
		})
	orders.Flags().BoolVar(&openOnly, "open", false, "only New and Unclaimed orders")

	payments := a.leaf("payments ADDRESS", "Payments sent by a wallet address", cobra.ExactArgs(1),
		func(ctx context.Context, s *session, a []string) error {
			r, err := s.client.PaymentsFor(ctx, a[0])
			if err != nil {
				return err
			}
			return printPaymentsResult(s, r)
		})

	paymentsForOrder := a.leaf("order-payments ORDER_ID", "Payments that name an order", cobra.ExactArgs(1),
		func(ctx context.Context, s *session, a []string) error {
			ps, err := s.client.PaymentsForOrder(ctx, a[0])
			if err != nil {
				return err
			}
			if s.json {
				return s.printJSON(ps)
			}
			paymentsTable(s.out, ps)
			return nil
		})

	balance := a.leaf("balance ADDRESS", "A wallet address's balance", cobra.ExactArgs(1),
		func(ctx context.Context, s *session, a []string) error {
			b, err := s.client.BalanceFor(ctx, a[0])
			if err != nil {
				return err
			}
			if s.json {
				return s.printJSON(b)
			}
			balanceTable(s.out, b)
			return nil
		})

	var histAddr, histCustomer string
	history := a.leaf("history", "Account history (--address or --customer)", cobra.NoArgs,
		func(ctx context.Context, s *session, _ []string) error {
			switch {
			case (histAddr == "") == (histCustomer == ""):
				return errors.New("give exactly one of --address or --customer")
			case histAddr != "":
				h, err := s.client.HistoryForAddress(ctx, histAddr)
				if err != nil {
					return err
				}
				return printAddressHistory(s, h)
			}
			h, err := s.client.HistoryForCustomer(ctx, histCustomer)
			if err != nil {
				return err
			}
			if s.json {
				return s.printJSON(h)
			}
			fmt.Fprintf(s.out, "Customer: %s\nConfirmed: %s  Paid: %s  Balance: %s\n", h.CustomerID,
				fmtXTR(h.Balance.TotalConfirmed), fmtXTR(h.Balance.TotalPaid), fmtXTR(h.Balance.CurrentBalance))
			fmt.Fprintf(s.out, "Orders open: %s  paid: %s  expired: %s  cancelled: %s\n", fmtXTR(h.OrderBalance.TotalCurrent),
				fmtXTR(h.OrderBalance.TotalPaid), fmtXTR(h.OrderBalance.TotalExpired), fmtXTR(h.OrderBalance.TotalCancelled))
			section(s.out, "Addresses")
			for _, b := range h.Balance.Addresses {
				balanceTable(s.out, b)
			}
			section(s.out, "Orders")
			ordersTable(s.out, h.Orders)
			section(s.out, "Settlements")
			settlementsTable(s.out, h.Settlements)
			return nil
		})
	history.Flags().StringVar(&histAddr, "address", "", "wallet address (this or --customer is required)")
	history.Flags().StringVar(&histCustomer, "customer", "", "customer id")
	history.MarkFlagsOneRequired("address", "customer")
	history.MarkFlagsMutuallyExclusive("address", "customer")

	creditors := a.leaf("creditors", "Customers with unpaid New orders", cobra.NoArgs,
		func(ctx context.Context, s *session, _ []string) error {
			rows, err := s.client.Creditors(ctx)
			if err != nil {
				return err
			}
			if s.json {
				return s.printJSON(rows)
			}
			if len(rows) == 0 {
				fmt.Fprintln(s.out, "No creditors.")
				return nil
			}
			t := newTextTable(s.out, "CUSTOMER", "STATUS", "TOTAL")
			for _, r := range rows {
				t.row(r.CustomerID, string(r.Status), fmtXTR(r.TotalOrders))
			}
			t.flush()
			return nil
		})

	var offset, count int
	listStrings := func(use, short string, fetch func(*client.Client) func(context.Context, int, int) ([]string, error)) *cobra.Command {
		c := a.leaf(use, short, cobra.NoArgs, func(ctx context.Context, s *session, _ []string) error {
			items, err := fetch(s.client)(ctx, offset, count)
			if err != nil {
				return err
			}
			if s.json {
				return s.printJSON(items)
			}
			for _, it := range items {
				fmt.Fprintln(s.out, it)
			}
			return nil
		})
		c.Flags().IntVar(&offset, "offset", 0, "skip this many")
		c.Flags().IntVar(&count, "count", 0, "at most this many (0 = all)")
		return c
	}
	customers := listStrings("customers", "All customer ids", func(c *client.Client) func(context.Context, int, int) ([]string, error) { return c.CustomerIDs })
	addresses := listStrings("addresses", "All paying wallet addresses", func(c *client.Client) func(context.Context, int, int) ([]string, error) { return c.Addresses })

	rate := &cobra.Command{Use: "rate", Short: "Exchange rates (µT per unit of a currency)"}
	rate.AddCommand(
		a.leaf("get CURRENCY", "The current rate", cobra.ExactArgs(1), func(ctx context.Context, s *session, a []string) error {
			r, err := s.client.ExchangeRate(ctx, a[0])
			if err != nil {
				return err
			}
			if s.json {
				return s.printJSON(r)
			}
			fmt.Fprintf(s.out, "1 %s = %s (%d µT), updated %s\n", r.Currency, fmtXTR(r.Rate), int64(r.Rate), fmtTime(r.UpdatedAt))
			return nil
		}),
		a.leaf("set CURRENCY RATE", "Set the rate: RATE is µT (or \"<decimal> T\") per 1 unit; reprices Shopify products", cobra.ExactArgs(2),
			func(ctx context.Context, s *session, a []string) error {
				r, err := notify.ParseAmount(a[1])
				if err != nil {
					return err
				}
				if r <= 0 {
					return errors.New("the rate must be positive")
				}
				if err := s.client.SetExchangeRate(ctx, a[0], r); err != nil {
					return err
				}
				set := core.ExchangeRate{Currency: strings.ToUpper(a[0]), Rate: core.MicroTari(r)}
				return s.result(set, func(w io.Writer) {
					fmt.Fprintf(w, "1 %s = %s\n", set.Currency, fmtXTR(set.Rate))
				})
			}),
		a.leaf("list", "Every currency's current rate", cobra.NoArgs, func(ctx context.Context, s *session, _ []string) error {
			rs, err := s.client.ExchangeRates(ctx)
			if err != nil {
				return err
			}
			return s.result(rs, func(w io.Writer) { ratesTable(w, rs) })
		}),
	)

	var walletIP string
	var walletNonce int64
	wallets := &cobra.Command{Use: "wallets", Short: "Authorised hot wallets"}
	addWallet := a.leaf("add ADDRESS", "Authorise a hot wallet (super_admin)", cobra.ExactArgs(1),
		func(ctx context.Context, s *session, a []string) error {
			w := client.NewWallet{Address: a[0], IPAddress: walletIP, InitialNonce: walletNonce}
			if err := s.client.AddWallet(ctx, w); err != nil {
				return err
			}
			return s.result(w, func(out io.Writer) { fmt.Fprintf(out, "Wallet %s authorised from %s.\n", a[0], walletIP) })
		})
	addWallet.Flags().StringVar(&walletIP, "ip", "", "the IP address the wallet calls from")
	addWallet.Flags().Int64Var(&walletNonce, "initial-nonce", 0, "starting nonce")
	_ = addWallet.MarkFlagRequired("ip")
	wallets.AddCommand(
		a.leaf("list", "List authorised wallets", cobra.NoArgs, func(ctx context.Context, s *session, _ []string) error {
			ws, err := s.client.Wallets(ctx)
			if err != nil {
				return err
			}
			if s.json {
				return s.printJSON(ws)
			}
			if len(ws) == 0 {
				fmt.Fprintln(s.out, "No authorised wallets.")
				return nil
			}
			t := newTextTable(s.out, "ADDRESS", "IP", "LAST NONCE")
			for _, w := range ws {
				t.row(w.Address, w.IPAddress, fmt.Sprint(w.LastNonce))
			}
			t.flush()
			return nil
		}),
		addWallet,
		a.leaf("remove ADDRESS", "Remove an authorised wallet (super_admin)", cobra.ExactArgs(1),
			func(ctx context.Context, s *session, a []string) error {
				if err := s.client.RemoveWallet(ctx, a[0]); err != nil {
					return err
				}
				return s.result(map[string]any{"address": a[0], "removed": true}, func(w io.Writer) { fmt.Fprintf(w, "Wallet %s removed.\n", a[0]) })
			}),
	)

	var roleAddr string
	var apply, revoke []string
	roles := a.leaf("roles", "Grant or revoke roles for an address (super_admin); roles show ADDRESS lists them", cobra.NoArgs,
		func(ctx context.Context, s *session, _ []string) error {
			if len(apply) == 0 && len(revoke) == 0 {
				return errors.New("give --apply and/or --revoke")
			}
			if err := s.client.UpdateRoles(ctx, []client.RoleUpdate{{Address: roleAddr, Apply: apply, Revoke: revoke}}); err != nil {
				return err
			}
			now, err := s.client.RolesFor(ctx, roleAddr)
			if err != nil {
				return err
			}
			return s.result(now, func(w io.Writer) {
				fmt.Fprintf(w, "Roles updated for %s (applied: %s; revoked: %s).\n", roleAddr, strings.Join(apply, ","), strings.Join(revoke, ","))
				fmt.Fprintf(w, "%s now has roles: %s\n", now.Address, strings.Join(now.Roles, ", "))
			})
		})
	roles.Example = "  taritools admin roles --address ADDRESS --apply read_all,write --revoke super_admin\n  taritools admin roles show ADDRESS"
	roles.Flags().StringVar(&roleAddr, "address", "", "address")
	roles.Flags().StringSliceVar(&apply, "apply", nil, "roles to grant: read_all,write,payment_wallet,super_admin")
	roles.Flags().StringSliceVar(&revoke, "revoke", nil, "roles to revoke")
	_ = roles.MarkFlagRequired("address")
	roles.AddCommand(a.leaf("show ADDRESS", "The roles an address holds (super_admin)", cobra.ExactArgs(1),
		func(ctx context.Context, s *session, a []string) error {
			r, err := s.client.RolesFor(ctx, a[0])
			if err != nil {
				return err
			}
			return s.result(r, func(w io.Writer) { fmt.Fprintf(w, "%s has roles: %s\n", r.Address, strings.Join(r.Roles, ", ")) })
		}))

	plugins := &cobra.Command{Use: "plugins", Short: "Plugins and their event deliveries"}
	plugins.AddCommand(
		a.leaf("list", "Loaded plugins", cobra.NoArgs, func(ctx context.Context, s *session, _ []string) error {
			raw, err := s.client.Plugins(ctx)
			if err != nil {
				return err
			}
			return printRaw(s, raw, pluginCols...)
		}),
		a.leaf("failed", "Deliveries parked as failed", cobra.NoArgs, func(ctx context.Context, s *session, _ []string) error {
			raw, err := s.client.FailedDeliveries(ctx)
			if err != nil {
				return err
			}
			return printRaw(s, raw, deliveryCols...)
		}),
		a.leaf("redeliver [DELIVERY_ID]", "Queue one failed delivery again, or all of them without an id", cobra.MaximumNArgs(1),
			func(ctx context.Context, s *session, a []string) error {
				var raw json.RawMessage
				var err error
				if len(a) == 1 {
					raw, err = s.client.Redeliver(ctx, a[0])
				} else {
					raw, err = s.client.RedeliverAll(ctx)
				}
				if err != nil {
					return err
				}
				return printMessage(s, raw)
			}),
		a.leaf("enable PLUGIN_ID", "Re-enable a plugin disabled for crashing", cobra.ExactArgs(1),
			func(ctx context.Context, s *session, a []string) error {
				raw, err := s.client.EnablePlugin(ctx, a[0])
				if err != nil {
					return err
				}
				if !s.json {
					fmt.Fprintf(s.out, "Plugin %s enabled.\n", a[0])
				}
				return printRaw(s, raw, pluginCols...)
			}),
		a.leaf("reload", "Rescan the server's plugin folder now (added, replaced, removed plugins)", cobra.NoArgs,
			func(ctx context.Context, s *session, _ []string) error {
				raw, err := s.client.ReloadPlugins(ctx)
				if err != nil {
					return err
				}
				return printRaw(s, raw, pluginCols...)
			}),
		a.leaf("remove PLUGIN_ID", "Drop a removed plugin's cursor and failed deliveries for good", cobra.ExactArgs(1),
			func(ctx context.Context, s *session, a []string) error {
				raw, err := s.client.RemovePlugin(ctx, a[0])
				if err != nil {
					return err
				}
				return printRaw(s, raw)
			}),
	)

	rescan := a.leaf("rescan", "Fetch open Shopify orders the server missed", cobra.NoArgs,
		func(ctx context.Context, s *session, _ []string) error {
			rs, err := s.client.RescanOpenOrders(ctx)
			if err != nil {
				return err
			}
			if s.json {
				return s.printJSON(rs)
			}
			for _, r := range rs {
				fmt.Fprintf(s.out, "%v\t%s\n", r.Success, r.Message)
			}
			fmt.Fprintf(s.out, "%d orders scanned.\n", len(rs))
			return nil
		})

	health := a.leaf("health", "Check the server is up", cobra.NoArgs, func(ctx context.Context, s *session, _ []string) error {
		if err := s.client.Health(ctx); err != nil {
			return err
		}
		return s.result(map[string]any{"server": s.client.BaseURL, "up": true}, func(w io.Writer) { fmt.Fprintf(w, "%s is up.\n", s.client.BaseURL) })
	})

	adminCmd.AddCommand(credit, fulfil, cancel, reassign, price, memo, reset, settle, search, order, orders, payments,
		paymentsForOrder, balance, history, creditors, customers, addresses, rate, wallets, roles, plugins, rescan, health,
		newPayLinkCommand(&a.opts), newCustomerDataCommand(a))
	return adminCmd
}

func printOrder(s *session, o core.Order, err error) error {
	if err != nil {
		return err
	}
	if s.json {
		return s.printJSON(o)
	}
	ordersTable(s.out, []core.Order{o})
	return nil
}

// Columns shown for the plugin routes' rows (their shape is the server's;
// other fields still appear with --json).
var (
	pluginCols   = []string{"id", "version", "state", "source", "events", "pending", "failed", "error"}
	deliveryCols = []string{"id", "plugin_id", "event_type", "event_seq", "attempts", "state", "failed_at", "last_error"}
)

// printRaw shows a JSON value of unknown shape: indented JSON with --json,
// else a table for an array of objects (the preferred columns that exist, or
// every field), else indented JSON.
func printRaw(s *session, raw json.RawMessage, preferred ...string) error {
	var rows []map[string]any
	if !s.json && json.Unmarshal(raw, &rows) == nil {
		if len(rows) == 0 {
			fmt.Fprintln(s.out, "None.")
			return nil
		}
		keys := map[string]bool{}
		for _, r := range rows {
			for k := range r {
				keys[k] = true
			}
		}
		var cols []string
		for _, k := range preferred {
			if keys[k] {
				cols = append(cols, k)
			}
		}
		if len(cols) == 0 {
			for k := range keys {
				cols = append(cols, k)
			}
			sort.Slice(cols, func(i, j int) bool {
				if (cols[i] == "id") != (cols[j] == "id") {
					return cols[i] == "id"
				}
				return cols[i] < cols[j]
			})
		}
		t := newTextTable(s.out, upper(cols)...)
		for _, r := range rows {
			var vals []string
			for _, c := range cols {
				vals = append(vals, clip(cell(r[c]), 48))
			}
			t.row(vals...)
		}
		t.flush()
		return nil
	}
	var obj map[string]any
	if !s.json && json.Unmarshal(raw, &obj) == nil && obj != nil {
		t := newTextTable(s.out)
		for _, k := range fieldOrder(obj, preferred) {
			t.row(strings.ToUpper(k)+":", clip(cell(obj[k]), 120))
		}
		t.flush()
		return nil
	}
	if !json.Valid(raw) {
		fmt.Fprintln(s.out, strings.TrimSpace(string(raw)))
		return nil
	}
	return s.printJSON(raw)
}

// fieldOrder is the preferred keys present in obj, then the others sorted.
func fieldOrder(obj map[string]any, preferred []string) []string {
	var keys, rest []string
	seen := map[string]bool{}
	for _, k := range preferred {
		if _, ok := obj[k]; ok {
			keys = append(keys, k)
			seen[k] = true
		}
	}
	for k := range obj {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(keys, rest...)
}

// printMessage shows a {"success":..,"message":..} answer: the message as a
// sentence, or the raw answer with --json.
func printMessage(s *session, raw json.RawMessage) error {
	var m client.JSONResponse
	if s.json || json.Unmarshal(raw, &m) != nil || m.Message == "" {
		return printRaw(s, raw)
	}
	fmt.Fprintln(s.out, m.Message)
	return nil
}

// printOrderChange shows an {"old_order":..,"new_order":..} answer.
func printOrderChange(s *session, raw json.RawMessage) error {
	var ch core.OrderChanged
	if s.json || json.Unmarshal(raw, &ch) != nil || ch.NewOrder.OrderID == "" {
		return printRaw(s, raw)
	}
	fmt.Fprintf(s.out, "Order %s: %s -> %s\n", ch.NewOrder.OrderID, ch.OldOrder.Status, ch.NewOrder.Status)
	ordersTable(s.out, []core.Order{ch.NewOrder})
	return nil
}

func ratesTable(out io.Writer, rs []core.ExchangeRate) {
	if len(rs) == 0 {
		fmt.Fprintln(out, "No exchange rates yet (set one with: taritools admin rate set CURRENCY RATE).")
		return
	}
	t := newTextTable(out, "CURRENCY", "RATE (PER 1 UNIT)", "µT", "UPDATED")
	for _, r := range rs {
		t.row(r.Currency, fmtXTR(r.Rate), fmt.Sprint(int64(r.Rate)), fmtTime(r.UpdatedAt))
	}
	t.flush()
}

func upper(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToUpper(s)
	}
	return out
}

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case string:
		return x
	case float64:
		return fmt.Sprint(json.Number(fmt.Sprint(x)))
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}
