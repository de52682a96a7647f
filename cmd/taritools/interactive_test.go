package main

import (
	"bytes"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/tari-payment/tps/core/store/storetest"
	"github.com/tari-payment/tps/core/tari"
)

// term drives taritools' interactive mode through a pseudo-terminal, as a
// person at a keyboard would.
type term struct {
	t *testing.T
	f *os.File
	// ttyFD is the terminal side, kept open to see what is unread; closed
	// (and exited closed) once taritools exits.
	ttyFD  int
	exited chan struct{}
	mu     sync.Mutex
	raw    bytes.Buffer
	mark   int // expect() searches the screen text after this offset
	done   chan struct{}
}

var ansiRe = regexp.MustCompile(`\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][0-9A-B]|\x1b[=>78]`)

func startTerm(t *testing.T, c *cli) *term {
	t.Helper()
	cmd := c.cmd()
	cmd.Env = append(cmd.Env, "TERM=xterm-256color", "COLORTERM=", "NO_COLOR=")
	// pty.Start would close the terminal side once taritools has it; this
	// test keeps it open to ask the kernel how much typed input taritools
	// has not read yet (see send), and closes it when taritools exits so
	// reading the screen ends.
	f, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	if err := pty.Setsize(f, &pty.Winsize{Rows: 60, Cols: 200}); err != nil {
		t.Fatal(err)
	}
	ttyFD := int(tty.Fd())
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		tty.Close()
		close(exited)
	}()
	tm := &term{t: t, f: f, ttyFD: ttyFD, exited: exited, done: make(chan struct{})}
	go func() {
		defer close(tm.done)
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			if n > 0 {
				chunk := buf[:n]
				tm.mu.Lock()
				tm.raw.Write(chunk)
				tm.mu.Unlock()
				// Answer the cursor-position query as a terminal without
				// colour queries would, so the UI library does not wait 5 s
				// for a background-colour answer at start-up.
				if bytes.Contains(chunk, []byte("\x1b[6n")) {
					f.Write([]byte("\x1b[1;1R"))
				}
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		f.Close()
	})
	return tm
}

// screen is all output so far without escape sequences; text is the part
// after the mark.
func (tm *term) screen() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return ansiRe.ReplaceAllString(tm.raw.String(), "")
}

func (tm *term) text() string {
	s := tm.screen()
	return s[min(tm.mark, len(s)):]
}

// expect waits until want appears after the last mark, then moves the mark
// to the end of the output.
func (tm *term) expect(want string) string {
	tm.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		s := tm.text()
		if i := strings.Index(s, want); i >= 0 {
			tm.mark += i + len(want)
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
	tm.mu.Lock()
	raw := tm.raw.String()
	tm.mu.Unlock()
	tm.t.Fatalf("timed out waiting for %q; screen since last step:\n%s\nraw tail: %q", want, tm.text(), raw[max(0, len(raw)-3000):])
	return ""
}

func (tm *term) send(s string) {
	tm.t.Helper()
	// Keys go one at a time, as typed: each once taritools has read the one
	// before; an escape sequence is one key (split up, its ESC would read as
	// the Escape key).
	for _, k := range keyRe.FindAllString(s, -1) {
		if _, err := tm.f.Write([]byte(k)); err != nil {
			tm.t.Fatal(err)
		}
		tm.waitRead(k)
	}
}

// waitRead waits until taritools has read everything typed so far: the
// terminal holds no unread input. (While no menu reads, the terminal is in
// line mode, where an unfinished line does not count as unread.)
func (tm *term) waitRead(key string) {
	tm.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-tm.exited:
			return
		default:
		}
		n, err := unix.IoctlGetInt(tm.ttyFD, unix.TIOCINQ)
		if err != nil || n == 0 {
			return // read (or the terminal is gone)
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("taritools did not read the key %q; screen since last step:\n%s", key, tm.text())
		}
		time.Sleep(time.Millisecond)
	}
}

var keyRe = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z~]|(?s).`)

const keyDown, keyEnter = "\x1b[B", "\r"

// pick moves down to the index of label in options and presses enter. The
// caller has seen the menu drawn (expect); keys typed wait in the terminal
// until the menu reads them (send).
func (tm *term) pick(options []string, label string) {
	tm.t.Helper()
	i := slices.Index(options, label)
	if i < 0 {
		tm.t.Fatalf("no menu entry %q", label)
	}
	tm.send(strings.Repeat(keyDown, i) + keyEnter)
}

// labelsFor is the entries a profile with roles sees, then Back.
func labelsFor(items []menuItem, roles ...string) []string {
	return labels(allowedItems(items, roles))
}

func labels(items []menuItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.label)
	}
	return append(out, menuBack)
}

// TestInteractiveMode drives the menus in a pseudo-terminal: a customer
// claims an order from the User menu and finds no admin entries, then the
// admin marks it paid and checks a customer's history from the Admin menu.
func TestInteractiveMode(t *testing.T) {
	srv := startServer(t, storetest.SQLiteURL(t))
	c := newCLI(t)
	setupMerchant(t, srv, c)
	srv.newOrder(t, 1001, 9, "3.00")
	profileNames := []string{hotWalletProfile, "admin", "alice"} // as stored: sorted

	tm := startTerm(t, c)
	tm.expect("No command given")
	// Alice is a plain user: the Admin menu has nothing for her and says how
	// to get the roles; the main menu then stops offering it.
	tm.expect(menuUser)
	tm.pick(mainMenu, menuAdmin)
	tm.expect("Select profile")
	tm.pick(profileNames, "alice")
	tm.expect(`Profile "alice" logs in with roles [user]`)
	tm.expect("taritools admin roles --address " + officialProfileAddr)
	aliceMain := []string{menuUser, menuProfile, menuLogout, menuExit}
	if out := tm.expect(menuExit); strings.Contains(out, menuAdmin) {
		t.Fatalf("the main menu still offers %q to alice:\n%s", menuAdmin, out)
	}
	tm.pick(aliceMain, menuUser)
	tm.expect("Claim Order")
	tm.pick(labels(userMenu), "Claim Order")
	tm.expect("Enter order ID:")
	tm.send("1001" + keyEnter)
	out := tm.expect("tari://pay?")
	for _, want := range []string{"Claimed order details", "Order id: 1001", "Status: New", "3.000000 XTR"} {
		if !strings.Contains(out, want) {
			t.Fatalf("claim screen lacks %q:\n%s", want, out)
		}
	}
	tm.expect("My Account")
	tm.pick(labels(userMenu), "My Open Orders")
	out = tm.expect("CUSTOMER")
	tm.expect(menuBack)
	tm.pick(labels(userMenu), menuBack)

	tm.expect(menuExit)
	tm.pick(aliceMain, menuLogout)
	tm.expect("Logged out of alice")
	tm.pick(mainMenu, menuAdmin)
	tm.expect("Select profile")
	tm.pick(profileNames, "admin")
	tm.expect("Order by Id")
	tm.pick(labels(adminMenu), "Mark order as Paid")
	tm.expect("Order id:")
	tm.send("1001" + keyEnter)
	tm.expect("Reason:")
	tm.send("paid in cash" + keyEnter)
	out = tm.expect("Paid")
	if !strings.Contains(out, "1001") {
		t.Fatalf("fulfil screen:\n%s", out)
	}
	tm.expect("Order by Id")
	tm.pick(labels(adminMenu), "History for Customer Id")
	tm.expect("Customer id:")
	tm.send("9" + keyEnter)
	tm.expect("Customer 9:")

	// An error from the server is shown with its status, and the menu goes on.
	tm.expect("Order by Id")
	tm.pick(labels(adminMenu), "Cancel Order")
	tm.expect("Order id:")
	tm.send("no-such-order" + keyEnter)
	tm.expect("Reason:")
	tm.send("x" + keyEnter)
	tm.expect("404")
	tm.expect("Order by Id")

	// ctrl-c leaves the admin menu, a second one leaves taritools. A ctrl-c
	// that lands while no form is reading the terminal (between two menus)
	// is lost, as in a real terminal, so press it again until it exits.
	tm.send("\x03")
	tm.expect(menuUser)
	for i := 0; ; i++ {
		tm.send("\x03")
		select {
		case <-tm.done:
			return
		case <-time.After(time.Second):
		}
		if i == 10 {
			t.Fatalf("taritools did not exit; screen:\n%s", tm.text())
		}
	}
}

// TestInteractiveProfiles adds a profile from the Profiles menu (the secret
// key is typed blind) and lists it, then leaves with Exit.
func TestInteractiveProfiles(t *testing.T) {
	c := newCLI(t)
	key := tari.GenerateSecretKey()
	tm := startTerm(t, c)
	tm.expect(menuProfile)
	tm.pick(mainMenu, menuProfile)
	tm.expect("Add profile")
	tm.pick(labels(profileMenu), "Add profile")
	tm.expect("Profile name:")
	tm.send("pty" + keyEnter)
	tm.expect("Key source")
	tm.pick([]string{"Seed words", "Secret key", "Environment variable"}, "Secret key")
	tm.expect("Secret key (64 hex):")
	tm.send(key.Hex() + keyEnter)
	tm.expect("Network")
	tm.pick([]string{"mainnet", "stagenet", "nextnet", "esmeralda"}, "nextnet")
	tm.expect("Server URL")
	tm.send("http://127.0.0.1:9" + keyEnter)
	tm.expect("Roles")
	tm.send("user,read_all" + keyEnter)
	out := tm.expect("Saved profile")
	want := tari.NewAddress(tari.Nextnet, key.PublicKey()).Base58()
	tm.expect(want)
	tm.expect("Profiles: list")
	tm.pick(labels(profileMenu), "Profiles: list")
	out += tm.expect("user,read_all")
	if strings.Contains(tm.screen(), key.Hex()) {
		t.Fatalf("the secret key was shown on screen:\n%s", out)
	}
	tm.expect(menuBack)
	tm.pick(labels(profileMenu), menuBack)
	tm.expect(menuExit)
	tm.pick(mainMenu, menuExit)
	select {
	case <-tm.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("taritools did not exit; screen:\n%s", tm.text())
	}
	var views []profileView
	c.okJSON(&views, "profile", "list")
	if len(views) != 1 || views[0].Network != "nextnet" || views[0].Server != "http://127.0.0.1:9" || views[0].Address != want {
		t.Fatalf("stored profile %+v", views)
	}
}

// TestInteractiveMenusFollowRoles: a profile that asks for read_all sees the
// Admin menu's read entries and none that change anything, and can use them.
func TestInteractiveMenusFollowRoles(t *testing.T) {
	srv := startServer(t, storetest.SQLiteURL(t))
	c := newCLI(t)
	setupMerchant(t, srv, c)
	srv.newOrder(t, 3001, 5, "1.00")
	reader := tari.GenerateSecretKey()
	c.ok("profile", "add", "--name", "reader", "--secret-key", reader.Hex(), "--server", srv.URL, "--roles", "user,read_all")
	c.ok("admin", "roles", "--address", addr(reader), "--apply", "read_all", "--profile", "admin")

	tm := startTerm(t, c)
	tm.expect(menuAdmin)
	tm.pick(mainMenu, menuAdmin)
	tm.expect("Select profile")
	tm.pick([]string{hotWalletProfile, "admin", "alice", "reader"}, "reader")
	seen := tm.expect("List authorized wallets")
	seen += tm.expect(menuBack)
	for _, hidden := range []string{"Mark order as Paid", "Cancel Order", "Issue Credit", "Assign roles", "Show roles", "Plugins"} {
		if strings.Contains(seen, hidden) {
			t.Fatalf("read_all profile is offered %q:\n%s", hidden, seen)
		}
	}
	menu := labelsFor(adminMenu, "user", "read_all")
	tm.pick(menu, "Order by Id")
	tm.expect("Order id:")
	tm.send("3001" + keyEnter)
	if out := tm.expect("Unclaimed"); !strings.Contains(out, "3001") {
		t.Fatalf("order by id:\n%s", out)
	}
	tm.expect(menuBack)
	tm.pick(menu, menuBack)
	tm.expect(menuExit)
	tm.pick(mainMenu, menuExit)
	select {
	case <-tm.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("taritools did not exit; screen:\n%s", tm.text())
	}
}

// TestMenuRoles: which entries each kind of profile is offered.
func TestMenuRoles(t *testing.T) {
	if got := allowedItems(adminMenu, []string{"user"}); len(got) != 0 {
		t.Errorf("a plain user is offered admin entries: %v", labels(got))
	}
	if got := allowedItems(adminMenu, []string{"super_admin"}); len(got) != len(adminMenu) {
		t.Errorf("super_admin sees %d of %d admin entries", len(got), len(adminMenu))
	}
	if got := allowedItems(userMenu, []string{"user"}); len(got) != len(userMenu) {
		t.Errorf("a user sees %d of %d user entries", len(got), len(userMenu))
	}
	rw := labelsFor(adminMenu, "user", "read_all", "write")
	for _, want := range []string{"Order by Id", "Mark order as Paid", "Reset Order", "List exchange rates", "Enable plugin"} {
		if !slices.Contains(rw, want) {
			t.Errorf("read_all+write lacks %q: %v", want, rw)
		}
	}
	for _, admin := range []string{"Add authorized wallet", "Remove authorized wallet", "Assign roles", "Show roles"} {
		if slices.Contains(rw, admin) {
			t.Errorf("read_all+write is offered %q", admin)
		}
	}
	// write alone: changes, but none of the read_all views.
	w := labelsFor(adminMenu, "user", "write")
	if slices.Contains(w, "Search Orders") || !slices.Contains(w, "Cancel Order") {
		t.Errorf("write only: %v", w)
	}
}
