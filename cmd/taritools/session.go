package main

// Shared plumbing for the commands that talk to a server: resolving a
// profile into an API client, explaining errors with the command that fixes
// them, and printing results as tables or JSON.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tari-payment/tps/client"
	"github.com/tari-payment/tps/cmd/taritools/internal/notify"
	"github.com/tari-payment/tps/cmd/taritools/internal/profiles"
	"github.com/tari-payment/tps/core"
)

// sessionOpts are the flags every server command shares (--json is the
// root's, read per command by newPrinter).
type sessionOpts struct {
	profile string
	server  string
	json    bool
}

// addSessionFlags registers --profile and --server on a command group, and
// copies the root's --json into o.json before any of its commands runs.
func addSessionFlags(c *cobra.Command, o *sessionOpts) {
	c.PersistentFlags().StringVarP(&o.profile, "profile", "p", "", "profile to use (default: the default profile)")
	c.PersistentFlags().StringVar(&o.server, "server", "", "server URL (overrides the profile's)")
	c.PersistentPreRun = func(cmd *cobra.Command, _ []string) { o.json = newPrinter(cmd).json }
}

// session is a resolved profile and its client.
type session struct {
	profile *profiles.Profile
	client  *client.Client
	out     io.Writer
	json    bool
}

// openSession loads the named profile (or the default) and builds a client.
func openSession(o *sessionOpts, out io.Writer) (*session, error) {
	f, err := profiles.Load()
	if err != nil {
		return nil, err
	}
	p, err := f.Get(o.profile)
	if err != nil {
		return nil, missingProfileError(err, o.profile, f)
	}
	return sessionFor(p, o, out)
}

func sessionFor(p *profiles.Profile, o *sessionOpts, out io.Writer) (*session, error) {
	id, err := p.Identity()
	if err != nil {
		return nil, err
	}
	if o != nil && o.server != "" {
		// A copy, so the cached token is keyed by the server actually used.
		cp := *p
		cp.Server = strings.TrimRight(o.server, "/")
		p = &cp
	}
	c := client.New(p.Server, id.Key, id.Address, p.RolesOrDefault())
	c.Cache = profiles.NewTokenCache(p)
	return &session{profile: p, client: c, out: out, json: o != nil && o.json}, nil
}

// missingProfileError explains how to create or pick a profile.
func missingProfileError(err error, name string, f *profiles.File) error {
	var have []string
	for _, p := range f.Profiles {
		have = append(have, p.Name)
	}
	fix := "create one with: taritools profile add --name NAME --secret-key HEX (or --seed-words \"...\") --server URL"
	if len(have) > 0 {
		fix = fmt.Sprintf("known profiles: %s; pick one with --profile NAME or set a default with: taritools profile default NAME", strings.Join(have, ", "))
	}
	return fmt.Errorf("%w\n  %s", err, fix)
}

// explain turns client errors into messages that say what to do next.
func (s *session) explain(err error) error {
	if err == nil {
		return nil
	}
	var unreachable *client.UnreachableError
	if errors.As(err, &unreachable) {
		return fmt.Errorf("%w\n  is the server running? Start it with `tari-payment-server`, or point the profile at the right URL: taritools profile add --name %q --server URL ... (or pass --server URL)", err, s.profile.Name)
	}
	var se *client.Error
	if errors.As(err, &se) {
		switch se.Status {
		case http.StatusForbidden:
			return fmt.Errorf("%w\n  profile %q logs in with roles [%s]; an admin must grant the role (taritools admin roles --address %s --apply ROLE) and the profile must ask for it (taritools profile add --name %q --roles user,read_all,write ...)",
				err, s.profile.Name, strings.Join(s.profile.RolesOrDefault(), ","), s.profile.Address, s.profile.Name)
		case http.StatusUnauthorized:
			if strings.HasPrefix(se.Path, "/wallet/") {
				return fmt.Errorf("%w\n  the server refused the wallet signature: is %s an authorised wallet (taritools admin wallets add --address %s --ip IP) calling from its registered IP?", err, s.profile.Address, s.profile.Address)
			}
		}
	}
	return err
}

// ---- output ----

// printJSON writes v in the one JSON style (output.go).
func (s *session) printJSON(v any) error { return printer{out: s.out, json: true}.printJSON(v) }

// result prints v with --json, else the human text.
func (s *session) result(v any, human func(w io.Writer)) error {
	return printer{out: s.out, json: s.json}.result(v, human)
}

// textTable writes aligned columns.
type textTable struct {
	w *tabwriter.Writer
}

func newTextTable(out io.Writer, headers ...string) *textTable {
	t := &textTable{w: tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)}
	if len(headers) > 0 {
		t.row(headers...)
	}
	return t
}

func (t *textTable) row(cols ...string) { fmt.Fprintln(t.w, strings.Join(cols, "\t")) }
func (t *textTable) flush()             { t.w.Flush() }

func fmtXTR(m core.MicroTari) string { return notify.FormatMicroTari(int64(m)) }

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func fmtOpt(s *string) string {
	if s == nil || *s == "" {
		return "-"
	}
	return *s
}

func ordersTable(out io.Writer, orders []core.Order) {
	if len(orders) == 0 {
		fmt.Fprintln(out, "No orders.")
		return
	}
	t := newTextTable(out, "ORDER ID", "ALT ID", "CUSTOMER", "STATUS", "PRICE", "ORIGINAL", "CREATED", "MEMO")
	for _, o := range orders {
		orig := fmtOpt(o.OriginalPrice)
		if orig != "-" {
			orig += " " + o.Currency
		}
		t.row(o.OrderID, fmtOpt(o.AltID), o.CustomerID, string(o.Status), fmtXTR(o.TotalPrice), orig, fmtTime(o.CreatedAt), clip(fmtOpt(o.Memo), 40))
	}
	t.flush()
}

func paymentsTable(out io.Writer, payments []core.Payment) {
	if len(payments) == 0 {
		fmt.Fprintln(out, "No payments.")
		return
	}
	t := newTextTable(out, "TXID", "SENDER", "AMOUNT", "STATUS", "TYPE", "ORDER", "CREATED", "MEMO")
	for _, p := range payments {
		t.row(p.TxID, clip(p.Sender, 20), fmtXTR(p.Amount), string(p.Status), string(p.PaymentType), fmtOpt(p.OrderID), fmtTime(p.CreatedAt), clip(fmtOpt(p.Memo), 30))
	}
	t.flush()
}

func settlementsTable(out io.Writer, ss []core.SettlementJournalEntry) {
	if len(ss) == 0 {
		fmt.Fprintln(out, "No settlements.")
		return
	}
	t := newTextTable(out, "ID", "ORDER", "FROM ADDRESS", "TYPE", "AMOUNT", "CREATED")
	for _, s := range ss {
		t.row(fmt.Sprint(s.ID), s.OrderID, clip(s.PaymentAddress, 20), string(s.SettlementType), fmtXTR(s.Amount), fmtTime(s.CreatedAt))
	}
	t.flush()
}

func balanceTable(out io.Writer, b core.AddressBalance) {
	t := newTextTable(out, "ADDRESS", "CONFIRMED", "PAID", "BALANCE", "UPDATED")
	t.row(b.Address, fmtXTR(b.TotalConfirmed), fmtXTR(b.TotalPaid), fmtXTR(b.CurrentBalance), fmtTime(b.LastUpdate))
	t.flush()
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// cmdContext gives each command a bounded context.
func cmdContext(c *cobra.Command) (context.Context, context.CancelFunc) {
	ctx := c.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	return context.WithTimeout(ctx, 2*time.Minute)
}

// withSession wraps a server command: open the session, run fn, explain errors.
func withSession(o *sessionOpts, fn func(ctx context.Context, s *session, args []string) error) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, args []string) error {
		o.json = newPrinter(c).json
		s, err := openSession(o, c.OutOrStdout())
		if err != nil {
			return err
		}
		ctx, cancel := cmdContext(c)
		defer cancel()
		return s.explain(fn(ctx, s, args))
	}
}

func warnf(format string, a ...any) { fmt.Fprintf(os.Stderr, format, a...) }
