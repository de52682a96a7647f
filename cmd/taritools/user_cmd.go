package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/skip2/go-qrcode"
	"github.com/spf13/cobra"

	"github.com/tari-payment/tps/client"
	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/tari"
)

func newUserCommand() *cobra.Command {
	var userOpts sessionOpts
	userCmd := &cobra.Command{
		Use:   "user",
		Short: "Customer commands: claim an order, balance, orders, payments, history, settle",
	}
	addSessionFlags(userCmd, &userOpts)
	userCmd.AddCommand(
		&cobra.Command{
			Use:   "claim ORDER_ID",
			Short: "Claim an order for this profile's wallet and show where to pay (with a QR code)",
			Args:  cobra.ExactArgs(1),
			RunE:  withSession(&userOpts, func(ctx context.Context, s *session, a []string) error { return userClaim(ctx, s, a[0]) }),
		},
		&cobra.Command{
			Use: "balance", Short: "My balance", Args: cobra.NoArgs,
			RunE: withSession(&userOpts, func(ctx context.Context, s *session, _ []string) error { return userBalance(ctx, s) }),
		},
		&cobra.Command{
			Use: "orders", Short: "My orders (all statuses)", Args: cobra.NoArgs,
			RunE: withSession(&userOpts, func(ctx context.Context, s *session, _ []string) error { return userOrders(ctx, s, false) }),
		},
		&cobra.Command{
			Use: "open-orders", Short: "My unpaid (New and Unclaimed) orders", Args: cobra.NoArgs,
			RunE: withSession(&userOpts, func(ctx context.Context, s *session, _ []string) error { return userOrders(ctx, s, true) }),
		},
		&cobra.Command{
			Use: "payments", Short: "Payments sent by my wallet", Args: cobra.NoArgs,
			RunE: withSession(&userOpts, func(ctx context.Context, s *session, _ []string) error { return userPayments(ctx, s) }),
		},
		&cobra.Command{
			Use: "history", Short: "My account history: balance, orders, payments, settlements", Args: cobra.NoArgs,
			RunE: withSession(&userOpts, func(ctx context.Context, s *session, _ []string) error {
				h, err := s.client.History(ctx)
				if err != nil {
					return err
				}
				return printAddressHistory(s, h)
			}),
		},
		&cobra.Command{
			Use: "settle", Short: "Pay my open orders from my balance", Args: cobra.NoArgs,
			RunE: withSession(&userOpts, func(ctx context.Context, s *session, _ []string) error {
				r, err := s.client.Settle(ctx)
				if err != nil {
					return err
				}
				return printSettlement(s, r)
			}),
		},
		&cobra.Command{
			Use: "order ORDER_ID", Short: "Show one of my orders", Args: cobra.ExactArgs(1),
			RunE: withSession(&userOpts, func(ctx context.Context, s *session, a []string) error { return showOrder(ctx, s, a[0]) }),
		},
		&cobra.Command{
			Use: "whoami", Short: "This profile's address and roles, checked with the server", Args: cobra.NoArgs,
			RunE: withSession(&userOpts, func(ctx context.Context, s *session, _ []string) error {
				err := s.client.CheckToken(ctx)
				if s.json {
					return errors.Join(err, s.printJSON(map[string]any{"profile": s.profile.Name, "address": s.client.Address.Base58(),
						"network": s.profile.Network, "server": s.client.BaseURL, "roles": s.client.Roles, "token_valid": err == nil}))
				}
				fmt.Fprintf(s.out, "Profile: %s\nAddress: %s\nEmoji:   %s\nServer:  %s\nRoles:   %s\n", s.profile.Name,
					s.client.Address.Base58(), s.client.Address.Emoji(), s.client.BaseURL, strings.Join(s.client.Roles, ","))
				if err != nil {
					return err
				}
				fmt.Fprintln(s.out, "Logged in: the server accepted this profile's token.")
				return nil
			}),
		},
		&cobra.Command{
			Use: "send-to", Short: "The hot-wallet addresses to pay (with QR codes)", Args: cobra.NoArgs,
			RunE: withSession(&userOpts, func(ctx context.Context, s *session, _ []string) error { return userSendTo(ctx, s) }),
		},
	)
	return userCmd
}

// payLink is the wallet-integration link a wallet scans to pay a claimed
// order: tari://pay?network=..&address=<base58>&amount=<µT>&order_id=...
func payLink(sendTo tari.Address, amount core.MicroTari, orderID string) string {
	q := url.Values{}
	q.Set("network", sendTo.Network.String())
	q.Set("address", sendTo.Base58())
	q.Set("amount", strconv.FormatInt(int64(amount), 10))
	q.Set("order_id", orderID)
	return "tari://pay?" + q.Encode()
}

// qrText renders a QR code with half-block characters for a terminal.
func qrText(content string) string {
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return ""
	}
	return q.ToSmallString(false)
}

func userClaim(ctx context.Context, s *session, orderID string) error {
	res, err := s.client.ClaimOrder(ctx, orderID)
	if err != nil {
		return err
	}
	addr, aerr := res.SendTo.Address()
	link := ""
	if aerr == nil {
		link = payLink(addr, res.TotalPrice, res.OrderID)
	}
	if s.json {
		return s.printJSON(struct {
			client.ClaimedOrder
			PayLink string `json:"pay_link,omitempty"`
		}{res, link})
	}
	due := res.ExpiresAt
	if t, err := time.Parse(time.RFC3339Nano, due); err == nil {
		due = t.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	fmt.Fprintf(s.out, "## Claimed order details\nOrder id: %s  Status: %s\nAmount: %s\nPayment due before: %s\n",
		res.OrderID, res.Status, fmtXTR(res.TotalPrice), due)
	if aerr != nil {
		fmt.Fprintf(s.out, "Send payment to: (unreadable address: %v)\n", aerr)
		return nil
	}
	fmt.Fprintf(s.out, "Send payment to: %s\n                 %s\nPay link: %s\n%s", addr.Emoji(), addr.Base58(), link, qrText(link))
	return nil
}

func userBalance(ctx context.Context, s *session) error {
	b, err := s.client.Balance(ctx)
	if err != nil {
		return err
	}
	if s.json {
		return s.printJSON(b)
	}
	balanceTable(s.out, b)
	return nil
}

func userOrders(ctx context.Context, s *session, openOnly bool) error {
	var r core.OrderResult
	var err error
	if openOnly {
		r, err = s.client.UnfulfilledOrders(ctx)
	} else {
		r, err = s.client.Orders(ctx)
	}
	if err != nil {
		return err
	}
	return printOrderResult(s, r)
}

func printOrderResult(s *session, r core.OrderResult) error {
	if s.json {
		return s.printJSON(r)
	}
	fmt.Fprintf(s.out, "Address: %s\nTotal: %s in %d orders\n", r.Address, fmtXTR(r.TotalOrders), len(r.Orders))
	ordersTable(s.out, r.Orders)
	return nil
}

func userPayments(ctx context.Context, s *session) error {
	r, err := s.client.Payments(ctx)
	if err != nil {
		return err
	}
	return printPaymentsResult(s, r)
}

func printPaymentsResult(s *session, r core.PaymentsResult) error {
	if s.json {
		return s.printJSON(r)
	}
	fmt.Fprintf(s.out, "Address: %s\nTotal: %s in %d payments\n", r.Address, fmtXTR(r.TotalPayments), len(r.Payments))
	paymentsTable(s.out, r.Payments)
	return nil
}

func printAddressHistory(s *session, h core.AddressHistory) error {
	if s.json {
		return s.printJSON(h)
	}
	fmt.Fprintf(s.out, "Address: %s\n\nBalance\n", h.Address)
	balanceTable(s.out, h.Balance)
	section(s.out, "Orders")
	ordersTable(s.out, h.Orders)
	section(s.out, "Payments")
	paymentsTable(s.out, h.Payments)
	section(s.out, "Settlements")
	settlementsTable(s.out, h.Settlements)
	return nil
}

func section(out io.Writer, title string) { fmt.Fprintf(out, "\n%s\n", title) }

func printSettlement(s *session, r *core.MultiAccountPayment) error {
	if s.json {
		return s.printJSON(r)
	}
	if r == nil || len(r.OrdersPaid) == 0 {
		fmt.Fprintln(s.out, "Nothing was paid (no open orders, or not enough confirmed balance).")
		return nil
	}
	fmt.Fprintf(s.out, "%d orders paid\n", len(r.OrdersPaid))
	ordersTable(s.out, r.OrdersPaid)
	section(s.out, "Settlements")
	settlementsTable(s.out, r.Settlements)
	return nil
}

func showOrder(ctx context.Context, s *session, id string) error {
	o, err := s.client.OrderByID(ctx, id)
	if err != nil {
		return err
	}
	if s.json {
		return s.printJSON(o)
	}
	if o == nil {
		return fmt.Errorf("order %q not found (or not yours)", id)
	}
	ordersTable(s.out, []core.Order{*o})
	return nil
}

func userSendTo(ctx context.Context, s *session) error {
	addrs, err := s.client.SendTo(ctx)
	if err != nil {
		return err
	}
	if s.json {
		return s.printJSON(addrs)
	}
	if len(addrs) == 0 {
		fmt.Fprintln(s.out, "The server has no authorised hot wallet yet.")
	}
	for _, a := range addrs {
		fmt.Fprintln(s.out, a)
		if p, err := tari.ParseAddress(a); err == nil {
			fmt.Fprintln(s.out, p.Emoji())
		}
		fmt.Fprint(s.out, qrText(a))
	}
	return nil
}
