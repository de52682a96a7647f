package main

// Interactive mode: `taritools` with no command (or `taritools interactive`)
// opens menus (User menu, Admin menu, Profiles) built with charmbracelet/huh.
// Every menu entry runs the same code as the matching command line, so the
// two never drift apart, and a menu lists only the entries the profile's
// roles allow (the roles of the server route each entry calls).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/huh"
	"github.com/charmbracelet/lipgloss"
	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/tari-payment/tps/client"
	"github.com/tari-payment/tps/cmd/taritools/internal/notify"
	"github.com/tari-payment/tps/cmd/taritools/internal/profiles"
	"github.com/tari-payment/tps/core"
)

const banner = `
 _____          _ _              _
|_   _|_ _ _ __(_) |_ ___   ___ | |___
  | |/ _' | '__| | __/ _ \ / _ \| / __|
  | | (_| | |  | | || (_) | (_) | \__ \
  |_|\__,_|_|  |_|\__\___/ \___/|_|___/
`

// menuItem is one entry: a label, the roles its server route needs (all
// of them; super_admin passes everything) and what it does.
type menuItem struct {
	label string
	roles []core.Role
	run   func(ctx context.Context, ui *tui, s *session) error
}

// Role sets of the admin entries, as the server's route table requires.
var (
	needReadAll    = []core.Role{core.RoleReadAll}
	needWrite      = []core.Role{core.RoleWrite}
	needSuperAdmin = []core.Role{core.RoleSuperAdmin}
)

// allows says whether a profile asking for roles at login may use it.
func (it menuItem) allows(roles []string) bool {
	have := map[string]bool{}
	for _, r := range roles {
		have[r] = true
	}
	if have[string(core.RoleSuperAdmin)] {
		return true
	}
	for _, r := range it.roles {
		if !have[string(r)] {
			return false
		}
	}
	return true
}

// allowedItems is the entries of items a profile with roles may use.
func allowedItems(items []menuItem, roles []string) []menuItem {
	var out []menuItem
	for _, it := range items {
		if it.allows(roles) {
			out = append(out, it)
		}
	}
	return out
}

// Menu labels that navigate rather than act.
const (
	menuBack    = "Back"
	menuExit    = "Exit"
	menuLogout  = "Logout"
	menuUser    = "User Menu"
	menuAdmin   = "Admin Menu"
	menuProfile = "Profiles"
)

var mainMenu = []string{menuUser, menuAdmin, menuProfile, menuLogout, menuExit}

// tui holds the interactive state: the chosen profile's session.
type tui struct {
	in   io.Reader
	out  io.Writer
	sess *session
}

// addInteractive makes root open the menus when run without a command, and
// adds the interactive command.
func addInteractive(rootCmd *cobra.Command) {
	rootCmd.RunE = func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			return fmt.Errorf("unknown command %q; run taritools --help", args[0])
		}
		return startInteractive(c)
	}
	rootCmd.Args = cobra.ArbitraryArgs
	rootCmd.AddCommand(&cobra.Command{
		Use:     "interactive",
		Aliases: []string{"menu"},
		Short:   "Menus for customers and admins (also what taritools does with no command)",
		Long: `Opens menus in the terminal: a User menu (claim, balance, orders, payments,
settle), an Admin menu and Profiles. The User and Admin menus first ask which
profile to use and then offer only what that profile's roles allow.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return startInteractive(c) },
	})
}

func startInteractive(c *cobra.Command) error {
	// Menus need a terminal; from a script, say so instead of hanging.
	if !isatty.IsTerminal(os.Stdin.Fd()) && !isatty.IsCygwinTerminal(os.Stdin.Fd()) {
		c.Help()
		return errors.New("no command given (interactive mode needs a terminal)")
	}
	return runInteractive(c.Context(), c.InOrStdin(), c.OutOrStdout())
}

func runInteractive(ctx context.Context, in io.Reader, out io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ui := &tui{in: in, out: out}
	// Asking the terminal for its background colour races with keystrokes
	// (and stalls on terminals that never answer), so assume a dark one
	// unless told otherwise.
	lipgloss.SetHasDarkBackground(os.Getenv("TARITOOLS_LIGHT") == "")
	fmt.Fprint(out, banner)
	fmt.Fprintln(out, "No command given. If this was unintended, press CTRL-C to exit and run `taritools --help` to see all commands.")
	for {
		choice, err := ui.choose("Main "+ui.status(), ui.mainOptions())
		if err != nil || choice == menuExit {
			return nil
		}
		switch choice {
		case menuUser:
			ui.roleMenu(ctx, "Main » User", userMenu)
		case menuAdmin:
			ui.roleMenu(ctx, "Main » Admin", adminMenu)
		case menuProfile:
			ui.menu(ctx, "Main » Profiles", profileMenu)
		case menuLogout:
			ui.logout()
		}
	}
}

// mainOptions is the main menu; once a profile is in use, without the Admin
// menu if its roles allow nothing there.
func (ui *tui) mainOptions() []string {
	if ui.sess == nil || len(allowedItems(adminMenu, ui.sess.profile.RolesOrDefault())) > 0 {
		return mainMenu
	}
	var out []string
	for _, o := range mainMenu {
		if o != menuAdmin {
			out = append(out, o)
		}
	}
	return out
}

func (ui *tui) status() string {
	if ui.sess == nil {
		return "· Not logged in"
	}
	return "· " + ui.sess.profile.Name
}

func (ui *tui) logout() {
	if ui.sess != nil {
		ui.sess.client.Logout()
		fmt.Fprintf(ui.out, "Logged out of %s.\n", ui.sess.profile.Name)
	}
	ui.sess = nil
}

// choose shows a select list and returns the chosen label; an abort (ctrl-c,
// esc) is an error.
func (ui *tui) choose(title string, options []string) (string, error) {
	var v string
	opts := make([]huh.Option[string], len(options))
	for i, o := range options {
		opts[i] = huh.NewOption(o, o)
	}
	sel := huh.NewSelect[string]().Title(title).Options(opts...).Value(&v).Height(min(len(options)+2, 20))
	err := huh.NewForm(huh.NewGroup(sel)).WithInput(ui.in).WithOutput(ui.out).WithShowHelp(false).Run()
	return v, err
}

// ask prompts for text; required fields refuse empty answers.
func (ui *tui) ask(title string, required bool) (string, error) {
	var v string
	in := huh.NewInput().Title(title).Value(&v)
	if required {
		in = in.Validate(func(s string) error {
			if strings.TrimSpace(s) == "" {
				return errors.New("required")
			}
			return nil
		})
	}
	err := huh.NewForm(huh.NewGroup(in)).WithInput(ui.in).WithOutput(ui.out).WithShowHelp(false).Run()
	fmt.Fprintf(ui.out, "%s %s\n", title, v)
	return strings.TrimSpace(v), err
}

// roleMenu picks a profile if none is in use, then shows the entries of
// items its roles allow.
func (ui *tui) roleMenu(ctx context.Context, title string, items []menuItem) {
	if ui.sess == nil {
		if err := ui.pickProfile(); err != nil {
			fmt.Fprintf(ui.out, "Error: %v\n\n", err)
			return
		}
	}
	roles := ui.sess.profile.RolesOrDefault()
	allowed := allowedItems(items, roles)
	if len(allowed) == 0 {
		fmt.Fprintf(ui.out, "Profile %q logs in with roles [%s]: nothing here needs only those.\n"+
			"  The admin menu needs read_all, write or super_admin: an admin grants them (taritools admin roles --address %s --apply read_all,write)\n"+
			"  and the profile asks for them (taritools profile add --name %q --roles user,read_all,write --force ...).\n\n",
			ui.sess.profile.Name, strings.Join(roles, ","), ui.sess.profile.Address, ui.sess.profile.Name)
		return
	}
	ui.menu(ctx, title, allowed)
}

func (ui *tui) menu(ctx context.Context, title string, items []menuItem) {
	labels := make([]string, 0, len(items)+1)
	for _, it := range items {
		labels = append(labels, it.label)
	}
	labels = append(labels, menuBack)
	for {
		choice, err := ui.choose(title+" "+ui.status(), labels)
		if err != nil || choice == menuBack {
			return
		}
		for _, it := range items {
			if it.label != choice {
				continue
			}
			if err := ui.do(ctx, it); err != nil {
				fmt.Fprintf(ui.out, "Error: %v\n", err)
			}
			fmt.Fprintln(ui.out)
		}
	}
}

// do runs one entry, picking a profile first when it needs a server.
func (ui *tui) do(ctx context.Context, it menuItem) error {
	if ui.sess == nil && !strings.HasPrefix(it.label, "Profiles:") && it.label != "Add profile" {
		if err := ui.pickProfile(); err != nil {
			return err
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if ui.sess != nil {
		ui.sess.out = ui.out
	}
	err := it.run(cctx, ui, ui.sess)
	if ui.sess != nil {
		err = ui.sess.explain(err)
	}
	return err
}

func (ui *tui) pickProfile() error {
	f, err := profiles.Load()
	if err != nil {
		return err
	}
	if len(f.Profiles) == 0 {
		fmt.Fprintln(ui.out, "No profiles yet: add one first.")
		if err := ui.addProfile(); err != nil {
			return err
		}
		if f, err = profiles.Load(); err != nil {
			return err
		}
	}
	var names []string
	for _, p := range f.Profiles {
		names = append(names, p.Name)
	}
	name := names[0]
	if len(names) > 1 {
		if name, err = ui.choose("Select profile", names); err != nil {
			return err
		}
	}
	p, err := f.Get(name)
	if err != nil {
		return err
	}
	s, err := sessionFor(p, nil, ui.out)
	if err != nil {
		return err
	}
	ui.sess = s
	fmt.Fprintf(ui.out, "Using profile %s (%s, %s).\n", p.Name, p.Address, p.Server)
	return nil
}

func (ui *tui) addProfile() error {
	name, err := ui.ask("Profile name:", true)
	if err != nil {
		return err
	}
	kind, err := ui.choose("Key source", []string{"Seed words", "Secret key", "Environment variable"})
	if err != nil {
		return err
	}
	p := profiles.Profile{Name: name}
	switch kind {
	case "Seed words":
		var words string
		in := huh.NewText().Title("Seed words (24):").Value(&words)
		if err := huh.NewForm(huh.NewGroup(in)).WithInput(ui.in).WithOutput(ui.out).WithShowHelp(false).Run(); err != nil {
			return err
		}
		p.SeedWords = strings.Join(strings.Fields(words), " ")
	case "Secret key":
		var key string
		in := huh.NewInput().Title("Secret key (64 hex):").EchoMode(huh.EchoModePassword).Value(&key)
		if err := huh.NewForm(huh.NewGroup(in)).WithInput(ui.in).WithOutput(ui.out).WithShowHelp(false).Run(); err != nil {
			return err
		}
		p.SecretKey = strings.TrimSpace(key)
	default:
		if p.SecretKeyEnv, err = ui.ask("Environment variable name:", true); err != nil {
			return err
		}
	}
	if p.Network, err = ui.choose("Network", []string{"mainnet", "stagenet", "nextnet", "esmeralda"}); err != nil {
		return err
	}
	if p.Server, err = ui.ask("Server URL (empty: "+profiles.DefaultServer+"):", false); err != nil {
		return err
	}
	roles, err := ui.ask("Roles (comma separated, empty: user):", false)
	if err != nil {
		return err
	}
	for _, r := range strings.Split(roles, ",") {
		if r = strings.TrimSpace(r); r != "" {
			p.Roles = append(p.Roles, r)
		}
	}
	return saveProfile(ui.out, p, false)
}

// needSession guards entries that talk to the server.
func needSession(fn func(ctx context.Context, ui *tui, s *session) error) func(ctx context.Context, ui *tui, s *session) error {
	return func(ctx context.Context, ui *tui, s *session) error {
		if s == nil {
			return errors.New("no profile selected")
		}
		return fn(ctx, ui, s)
	}
}

// askArgs prompts for each title and passes the answers to fn.
func askArgs(titles []string, fn func(ctx context.Context, s *session, a []string) error) func(ctx context.Context, ui *tui, s *session) error {
	return needSession(func(ctx context.Context, ui *tui, s *session) error {
		var answers []string
		for _, title := range titles {
			required := !strings.Contains(title, "(optional)")
			v, err := ui.ask(title, required)
			if err != nil {
				return err
			}
			answers = append(answers, v)
		}
		return fn(ctx, s, answers)
	})
}

var userMenu = []menuItem{
	{"Claim Order", nil, askArgs([]string{"Enter order ID:"}, func(ctx context.Context, s *session, a []string) error { return userClaim(ctx, s, a[0]) })},
	{"My Account", nil, needSession(func(ctx context.Context, _ *tui, s *session) error { return userBalance(ctx, s) })},
	{"My Orders", nil, needSession(func(ctx context.Context, _ *tui, s *session) error { return userOrders(ctx, s, false) })},
	{"My Open Orders", nil, needSession(func(ctx context.Context, _ *tui, s *session) error { return userOrders(ctx, s, true) })},
	{"My Payments", nil, needSession(func(ctx context.Context, _ *tui, s *session) error { return userPayments(ctx, s) })},
	{"Account History", nil, needSession(func(ctx context.Context, _ *tui, s *session) error {
		h, err := s.client.History(ctx)
		if err != nil {
			return err
		}
		return printAddressHistory(s, h)
	})},
	{"Settle My Orders", nil, needSession(func(ctx context.Context, _ *tui, s *session) error {
		r, err := s.client.Settle(ctx)
		if err != nil {
			return err
		}
		return printSettlement(s, r)
	})},
	{"List payment addresses", nil, needSession(func(ctx context.Context, _ *tui, s *session) error { return userSendTo(ctx, s) })},
	{"Add profile", nil, func(_ context.Context, ui *tui, _ *session) error { return ui.addProfile() }},
	{"Server health", nil, needSession(func(ctx context.Context, _ *tui, s *session) error {
		if err := s.client.Health(ctx); err != nil {
			return err
		}
		fmt.Fprintf(s.out, "%s is up.\n", s.client.BaseURL)
		return nil
	})},
}

func parseAmountArg(s string) (int64, error) { return notify.ParseAmount(s) }

var adminMenu = []menuItem{
	{"Order by Id", []core.Role{core.RoleUser, core.RoleReadAll}, askArgs([]string{"Order id:"}, func(ctx context.Context, s *session, a []string) error { return showOrder(ctx, s, a[0]) })},
	{"Orders for Address", needReadAll, askArgs([]string{"Address:"}, func(ctx context.Context, s *session, a []string) error {
		r, err := s.client.OrdersFor(ctx, a[0])
		if err != nil {
			return err
		}
		return printOrderResult(s, r)
	})},
	{"Payments for Address", needReadAll, askArgs([]string{"Address:"}, func(ctx context.Context, s *session, a []string) error {
		r, err := s.client.PaymentsFor(ctx, a[0])
		if err != nil {
			return err
		}
		return printPaymentsResult(s, r)
	})},
	{"History for Address", needReadAll, askArgs([]string{"Address:"}, func(ctx context.Context, s *session, a []string) error {
		h, err := s.client.HistoryForAddress(ctx, a[0])
		if err != nil {
			return err
		}
		return printAddressHistory(s, h)
	})},
	{"History for Customer Id", needReadAll, askArgs([]string{"Customer id:"}, func(ctx context.Context, s *session, a []string) error {
		h, err := s.client.HistoryForCustomer(ctx, a[0])
		if err != nil {
			return err
		}
		fmt.Fprintf(s.out, "Customer %s: balance %s, open orders %s\n", h.CustomerID, fmtXTR(h.Balance.CurrentBalance), fmtXTR(h.OrderBalance.TotalCurrent))
		ordersTable(s.out, h.Orders)
		return nil
	})},
	{"Search Orders", needReadAll, askArgs([]string{"Customer id (optional):", "Memo contains (optional):", "Statuses, comma separated (optional):"},
		func(ctx context.Context, s *session, a []string) error {
			q := client.OrderSearch{CustomerID: a[0], Memo: a[1]}
			if a[2] != "" {
				q.Statuses = strings.Split(a[2], ",")
			}
			orders, err := s.client.SearchOrders(ctx, q)
			if err != nil {
				return err
			}
			ordersTable(s.out, orders)
			return nil
		})},
	{"Issue Credit", needWrite, askArgs([]string{"Customer id:", "Amount (µT or \"<decimal> T\"):", "Reason (optional):"},
		func(ctx context.Context, s *session, a []string) error {
			amt, err := parseAmountArg(a[1])
			if err != nil {
				return err
			}
			r, err := s.client.Credit(ctx, a[0], amt, a[2])
			if err != nil {
				return err
			}
			fmt.Fprintf(s.out, "Credited %s to customer %s.\n", notify.FormatMicroTari(amt), a[0])
			return printSettlement(s, &r)
		})},
	{"Mark order as Paid", needWrite, askArgs([]string{"Order id:", "Reason:"}, func(ctx context.Context, s *session, a []string) error {
		o, err := s.client.Fulfil(ctx, a[0], a[1])
		return printOrder(s, o, err)
	})},
	{"Cancel Order", needWrite, askArgs([]string{"Order id:", "Reason:"}, func(ctx context.Context, s *session, a []string) error {
		o, err := s.client.Cancel(ctx, a[0], a[1])
		return printOrder(s, o, err)
	})},
	{"Edit memo", needWrite, askArgs([]string{"Order id:", "New memo:", "Reason (optional):"}, func(ctx context.Context, s *session, a []string) error {
		o, err := s.client.UpdateMemo(ctx, a[0], a[1], a[2])
		return printOrder(s, o, err)
	})},
	{"Set order price", needWrite, askArgs([]string{"Order id:", "New price (µT or \"<decimal> T\"):", "Reason (optional):"}, func(ctx context.Context, s *session, a []string) error {
		amt, err := parseAmountArg(a[1])
		if err != nil {
			return err
		}
		o, err := s.client.UpdatePrice(ctx, a[0], amt, a[2])
		return printOrder(s, o, err)
	})},
	{"Reassign Order", needWrite, askArgs([]string{"Order id:", "New customer id:", "Reason:"}, func(ctx context.Context, s *session, a []string) error {
		r, err := s.client.Reassign(ctx, a[0], a[1], a[2])
		if err != nil {
			return err
		}
		ordersTable(s.out, []core.Order{r.Orders.NewOrder})
		return nil
	})},
	{"Reset Order", needWrite, askArgs([]string{"Order id:", "Reason:"}, func(ctx context.Context, s *session, a []string) error {
		raw, err := s.client.ResetOrder(ctx, a[0], a[1])
		if err != nil {
			return err
		}
		return printOrderChange(s, raw)
	})},
	{"Settle Customer", needWrite, askArgs([]string{"Customer id:"}, func(ctx context.Context, s *session, a []string) error {
		r, err := s.client.SettleCustomer(ctx, a[0])
		if err != nil {
			return err
		}
		return printSettlement(s, r)
	})},
	{"Creditors", needReadAll, needSession(func(ctx context.Context, _ *tui, s *session) error {
		rows, err := s.client.Creditors(ctx)
		if err != nil {
			return err
		}
		t := newTextTable(s.out, "CUSTOMER", "STATUS", "TOTAL")
		for _, r := range rows {
			t.row(r.CustomerID, string(r.Status), fmtXTR(r.TotalOrders))
		}
		t.flush()
		return nil
	})},
	{"Fetch Tari price", needReadAll, askArgs([]string{"Currency (e.g. USD):"}, func(ctx context.Context, s *session, a []string) error {
		r, err := s.client.ExchangeRate(ctx, a[0])
		if err != nil {
			return err
		}
		fmt.Fprintf(s.out, "1 %s = %s\n", r.Currency, fmtXTR(r.Rate))
		return nil
	})},
	{"List exchange rates", needReadAll, needSession(func(ctx context.Context, _ *tui, s *session) error {
		rs, err := s.client.ExchangeRates(ctx)
		if err != nil {
			return err
		}
		ratesTable(s.out, rs)
		return nil
	})},
	{"Set Tari price", needWrite, askArgs([]string{"Currency (e.g. USD):", "µT per unit (or \"<decimal> T\"):"}, func(ctx context.Context, s *session, a []string) error {
		r, err := parseAmountArg(a[1])
		if err != nil {
			return err
		}
		if err := s.client.SetExchangeRate(ctx, a[0], r); err != nil {
			return err
		}
		fmt.Fprintf(s.out, "1 %s = %s\n", strings.ToUpper(a[0]), notify.FormatMicroTari(r))
		return nil
	})},
	{"List authorized wallets", needReadAll, needSession(func(ctx context.Context, _ *tui, s *session) error {
		ws, err := s.client.Wallets(ctx)
		if err != nil {
			return err
		}
		t := newTextTable(s.out, "ADDRESS", "IP", "LAST NONCE")
		for _, w := range ws {
			t.row(w.Address, w.IPAddress, strconv.FormatInt(w.LastNonce, 10))
		}
		t.flush()
		return nil
	})},
	{"Add authorized wallet", needSuperAdmin, askArgs([]string{"Wallet address:", "IP address:"}, func(ctx context.Context, s *session, a []string) error {
		if err := s.client.AddWallet(ctx, client.NewWallet{Address: a[0], IPAddress: a[1]}); err != nil {
			return err
		}
		fmt.Fprintf(s.out, "Wallet %s authorised from %s.\n", a[0], a[1])
		return nil
	})},
	{"Remove authorized wallet", needSuperAdmin, askArgs([]string{"Wallet address:"}, func(ctx context.Context, s *session, a []string) error {
		if err := s.client.RemoveWallet(ctx, a[0]); err != nil {
			return err
		}
		fmt.Fprintf(s.out, "Wallet %s removed.\n", a[0])
		return nil
	})},
	{"Show roles", needSuperAdmin, askArgs([]string{"Address:"}, func(ctx context.Context, s *session, a []string) error {
		r, err := s.client.RolesFor(ctx, a[0])
		if err != nil {
			return err
		}
		fmt.Fprintf(s.out, "%s has roles: %s\n", r.Address, strings.Join(r.Roles, ", "))
		return nil
	})},
	{"Assign roles", needSuperAdmin, askArgs([]string{"Address:", "Roles to apply (comma separated, optional):", "Roles to revoke (optional):"},
		func(ctx context.Context, s *session, a []string) error {
			split := func(s string) []string {
				var out []string
				for _, r := range strings.Split(s, ",") {
					if r = strings.TrimSpace(r); r != "" {
						out = append(out, r)
					}
				}
				return out
			}
			if err := s.client.UpdateRoles(ctx, []client.RoleUpdate{{Address: a[0], Apply: split(a[1]), Revoke: split(a[2])}}); err != nil {
				return err
			}
			fmt.Fprintf(s.out, "Roles updated for %s.\n", a[0])
			return nil
		})},
	{"Plugins", needWrite, needSession(func(ctx context.Context, _ *tui, s *session) error {
		raw, err := s.client.Plugins(ctx)
		if err != nil {
			return err
		}
		return printRaw(s, raw, pluginCols...)
	})},
	{"Failed plugin deliveries", needWrite, needSession(func(ctx context.Context, _ *tui, s *session) error {
		raw, err := s.client.FailedDeliveries(ctx)
		if err != nil {
			return err
		}
		return printRaw(s, raw, deliveryCols...)
	})},
	{"Redeliver failed deliveries", needWrite, needSession(func(ctx context.Context, _ *tui, s *session) error {
		raw, err := s.client.RedeliverAll(ctx)
		if err != nil {
			return err
		}
		return printMessage(s, raw)
	})},
	{"Enable plugin", needWrite, askArgs([]string{"Plugin id:"}, func(ctx context.Context, s *session, a []string) error {
		raw, err := s.client.EnablePlugin(ctx, a[0])
		if err != nil {
			return err
		}
		fmt.Fprintf(s.out, "Plugin %s enabled.\n", a[0])
		return printRaw(s, raw, pluginCols...)
	})},
}

var profileMenu = []menuItem{
	{"Profiles: list", nil, func(_ context.Context, ui *tui, _ *session) error {
		f, err := profiles.Load()
		if err != nil {
			return err
		}
		return listProfiles(ui.out, f, false)
	}},
	{"Add profile", nil, func(_ context.Context, ui *tui, _ *session) error { return ui.addProfile() }},
	{"Profiles: switch", nil, func(_ context.Context, ui *tui, _ *session) error {
		ui.logout()
		return ui.pickProfile()
	}},
	{"Profiles: set default", nil, func(_ context.Context, ui *tui, _ *session) error {
		f, err := profiles.Load()
		if err != nil {
			return err
		}
		var names []string
		for _, p := range f.Profiles {
			names = append(names, p.Name)
		}
		if len(names) == 0 {
			return errors.New("no profiles")
		}
		name, err := ui.choose("Default profile", names)
		if err != nil {
			return err
		}
		f.Default = name
		if err := f.Save(); err != nil {
			return err
		}
		fmt.Fprintf(ui.out, "Default profile is now %q.\n", name)
		return nil
	}},
}
