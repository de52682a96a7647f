package crash

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/tari-payment/tps/api/apitest"
	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/store/storetest"
	"github.com/tari-payment/tps/internal/wasmbuild"
	"github.com/tari-payment/tps/test/browser"
	"github.com/tari-payment/tps/test/dbcheck"
)

// dashTotals is the dashboard plugin's /totals.json.
type dashTotals struct {
	Totals struct {
		OrdersPaid      int64 `json:"orders_paid"`
		OrdersPaidMicro int64 `json:"orders_paid_total"`
		Payments        int64 `json:"payments_received"`
		PaymentsMicro   int64 `json:"payments_received_total"`
	} `json:"totals"`
	Days []dashDay `json:"days"`
}

// dashDay is one UTC day of /totals.json.
type dashDay struct {
	Date          string `json:"date"`
	OrdersPaid    int64  `json:"orders_paid"`
	OrdersMicro   int64  `json:"orders_paid_total"`
	Payments      int64  `json:"payments_received"`
	PaymentsMicro int64  `json:"payments_received_total"`
}

// expectedTotals computes from the committed events what the dashboard must
// show: every OrderPaid and PaymentReceived counted exactly once.
func expectedTotals(t *testing.T, db *store.DB) dashTotals {
	t.Helper()
	evs, err := dbcheck.AllEvents(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	var want dashTotals
	days := map[string]int{}
	day := func(ev core.Event) int {
		d := ev.CreatedAt.UTC().Format(time.DateOnly)
		i, ok := days[d]
		if !ok {
			i = len(want.Days)
			days[d] = i
			want.Days = append(want.Days, dashDay{Date: d})
		}
		return i
	}
	for _, ev := range evs {
		switch ev.Type {
		case core.EventOrderPaid:
			var p core.OrderEvent
			if err := json.Unmarshal(ev.Payload, &p); err != nil {
				t.Fatal(err)
			}
			want.Totals.OrdersPaid++
			want.Totals.OrdersPaidMicro += int64(p.Order.TotalPrice)
			d := &want.Days[day(ev)]
			d.OrdersPaid++
			d.OrdersMicro += int64(p.Order.TotalPrice)
		case core.EventPaymentReceived:
			var p core.PaymentEvent
			if err := json.Unmarshal(ev.Payload, &p); err != nil {
				t.Fatal(err)
			}
			want.Totals.Payments++
			want.Totals.PaymentsMicro += int64(p.Payment.Amount)
			d := &want.Days[day(ev)]
			d.Payments++
			d.PaymentsMicro += int64(p.Payment.Amount)
		}
	}
	return want
}

// TestDashboardExactAfterKills runs the dashboard example plugin in the real
// server binary under the paid-order load, SIGKILLs the server
// TPG_CRASH_ROUNDS times (default 2) under the load and once more while it
// works through the backlog of deliveries the kills left (the moment its
// totals move, so in the middle of a delivery), restarting it each time, then
// checks that the dashboard's totals (overall and per day) equal exactly
// what the committed events say: a delivery cut by a kill is delivered again
// and its state writes, committed with its acknowledgement, never count
// twice. The page is then loaded in headless Chromium as an admin: the
// totals are on it, both SVG charts are drawn with their nonce'd styles and
// no CSP violation or console error occurs; without a token it is 401, with
// a plain user's token 403.
func TestDashboardExactAfterKills(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	rounds := envInt(t, "TPG_CRASH_ROUNDS", 2)
	roundMax := envDuration(t, "TPG_CRASH_ROUND_MAX", 3*time.Second)
	root := wasmbuild.RepoRoot()
	wasm := filepath.Join(t.TempDir(), "dashboard.wasm")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := wasmbuild.Build(ctx, root, filepath.Join(root, "examples/dashboard"), wasm); err != nil {
		t.Fatal(err)
	}
	dbs := map[string]func(testing.TB) string{"sqlite": storetest.SQLiteURL}
	if os.Getenv(storetest.PostgresEnv) != "" {
		dbs["postgres"] = storetest.PostgresURL
	}
	for name, mk := range dbs {
		t.Run(name, func(t *testing.T) {
			t.Parallel() // most of the run is waiting for the dead instance's lease to lapse
			r := newRig(t, mk(t), rigOptions{instances: 1, hotWallets: 3})
			p := r.procs[0]
			installDashboard(t, p, root, wasm)
			p.start(t)
			r.login()
			stop := r.load("paid")
			var kills []time.Duration
			for range rounds {
				d := roundMax/4 + rand.N(roundMax*3/4)
				time.Sleep(d)
				p.kill()
				kills = append(kills, d.Round(time.Millisecond))
				time.Sleep(rand.N(300 * time.Millisecond))
				p.start(t)
			}
			time.Sleep(roundMax / 2)
			stop()

			db, err := store.Connect(r.dbURL)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			want := expectedTotals(t, db)
			if want.Totals.OrdersPaid == 0 || want.Totals.Payments == 0 {
				t.Fatalf("the load paid no orders: %+v", want.Totals)
			}
			// After the kills the dead instance's lease (60 s) lapses, then the
			// restarted server works through the backlog, one delivery after
			// another: killed the moment its totals move, it is cut in the
			// middle of a delivery (handler run, acknowledgement not yet
			// committed, or committed and not yet answered).
			totals := func() (dashTotals, bool) {
				st, b, err := r.call(context.Background(), p.base(), "GET", "/plugins/dashboard/totals.json", nil, map[string]string{"tpg_access_token": r.token})
				if err != nil || st != 200 {
					return dashTotals{}, false
				}
				var got dashTotals
				if err := json.Unmarshal(b, &got); err != nil {
					t.Fatalf("totals.json %s: %v", b, err)
				}
				if got.Totals.OrdersPaid > want.Totals.OrdersPaid || got.Totals.Payments > want.Totals.Payments {
					t.Fatalf("the dashboard counted more than happened: got %+v, want %+v", got.Totals, want.Totals)
				}
				return got, true
			}
			first, _ := totals()
			cut := "no backlog left to cut"
			for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				cur, ok := totals()
				if !ok || cur.Totals == first.Totals {
					continue
				}
				if cur.Totals != want.Totals {
					p.kill()
					cut = fmt.Sprintf("killed once more while catching up, at %d of %d paid orders", cur.Totals.OrdersPaid, want.Totals.OrdersPaid)
					p.start(t)
				}
				break
			}
			var got dashTotals
			for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(time.Second) {
				cur, ok := totals()
				if ok && cur.Totals == want.Totals {
					got = cur
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("dashboard totals %+v, want %+v", cur.Totals, want.Totals)
				}
			}
			gotDays, _ := json.Marshal(got.Days)
			wantDays, _ := json.Marshal(want.Days)
			if string(gotDays) != string(wantDays) {
				t.Fatalf("per-day totals:\n got %s\nwant %s", gotDays, wantDays)
			}

			for _, c := range []struct {
				hdr  map[string]string
				want int
			}{{nil, 401}, {map[string]string{"tpg_access_token": userToken(t, r)}, 403}} {
				if st, b, err := r.call(context.Background(), p.base(), "GET", "/plugins/dashboard/", nil, c.hdr); err != nil || st != c.want {
					t.Fatalf("dashboard page with %v: %d %s %v, want %d", c.hdr, st, b, err, c.want)
				}
			}
			checkDashboardPage(t, p.base(), r.token, want)
			// The webhook plugin shares the kills: its duplicates show that
			// kills cut deliveries in flight.
			r.rcv.mu.Lock()
			dups := r.rcv.duplicates
			r.rcv.mu.Unlock()
			t.Logf("dashboard (%s): exact after %d SIGKILLs (after %v): %d paid orders (%d µT), %d payments (%d µT) over %d day(s); %s; the webhook plugin saw %d redelivered events",
				name, rounds, kills, want.Totals.OrdersPaid, want.Totals.OrdersPaidMicro, want.Totals.Payments, want.Totals.PaymentsMicro, len(want.Days), cut, dups)
		})
	}
}

// installDashboard drops the example into the server's plugin folder with
// its own manifest, as a merchant would.
func installDashboard(t *testing.T, p *proc, root, wasm string) {
	t.Helper()
	var dir string
	for _, kv := range p.env {
		if v, ok := strings.CutPrefix(kv, "TPG_PLUGINS_DIR="); ok {
			dir = filepath.Join(v, "dashboard")
		}
	}
	if dir == "" {
		t.Fatal("no TPG_PLUGINS_DIR in the server's environment")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for src, dst := range map[string]string{wasm: "plugin.wasm", filepath.Join(root, "examples/dashboard/manifest.json"): "manifest.json"} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// userToken is an access token of a fresh address holding only user.
func userToken(t *testing.T, r *rig) string {
	tok := apitest.LoginToken(t, apitest.NewWallet(), apitest.NextNonce(), "user")
	st, b, err := r.call(context.Background(), r.procs[0].base(), "POST", "/auth", nil, map[string]string{"tpg_auth_token": tok})
	if err != nil || st != 200 {
		t.Fatalf("user login: %d %s %v", st, b, err)
	}
	var v struct {
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal(b, &v) == nil && v.AccessToken != "" {
		return v.AccessToken
	}
	return strings.Trim(strings.TrimSpace(string(b)), `"`)
}

// checkDashboardPage loads the page in Chromium with the admin's access
// token as a cookie and checks what it shows.
func checkDashboardPage(t *testing.T, base, token string, want dashTotals) {
	t.Helper()
	b := browser.Open(t, 1024, 900)
	var ordersPaid, ordersTotal, payments, paymentsTotal string
	var bars struct {
		Orders, Payments int
		Width, Tallest   float64
		Fill             string
	}
	b.Run(60*time.Second,
		network.SetCookie("tpg_access_token", token).WithURL(base+"/plugins/dashboard/").WithHTTPOnly(true),
		chromedp.Navigate(base+"/plugins/dashboard/"),
		chromedp.WaitVisible("#chart-payments"),
		chromedp.Text("#orders-paid", &ordersPaid),
		chromedp.Text("#orders-paid-total", &ordersTotal),
		chromedp.Text("#payments-received", &payments),
		chromedp.Text("#payments-received-total", &paymentsTotal),
		// Measured by the browser: the charts have a layout box, bars are
		// drawn, and the bar colour comes from the nonce'd <style> (a CSP
		// that blocked it would leave SVG's default black).
		chromedp.Evaluate(`(() => {
			const svg = document.querySelector('#chart-orders');
			const rects = [...document.querySelectorAll('#chart-orders rect')];
			return {
				Orders: rects.length,
				Payments: document.querySelectorAll('#chart-payments rect').length,
				Width: svg.getBoundingClientRect().width,
				Tallest: Math.max(...rects.map(r => r.getBBox().height)),
				Fill: getComputedStyle(rects[0]).fill,
			};
		})()`, &bars),
	)
	b.Screenshot("dashboard")
	b.RequireNoProblems()
	xtr := func(Micro int64) string { return fmt.Sprintf("%d.%06d XTR", Micro/1_000_000, Micro%1_000_000) }
	if ordersPaid != strconv.FormatInt(want.Totals.OrdersPaid, 10) || ordersTotal != xtr(want.Totals.OrdersPaidMicro) ||
		payments != strconv.FormatInt(want.Totals.Payments, 10) || paymentsTotal != xtr(want.Totals.PaymentsMicro) {
		t.Fatalf("page shows %s / %s / %s / %s, want %+v", ordersPaid, ordersTotal, payments, paymentsTotal, want.Totals)
	}
	if bars.Orders < len(want.Days) || bars.Payments != bars.Orders || bars.Width < 100 || bars.Tallest < 50 || bars.Fill != "rgb(59, 125, 216)" {
		t.Fatalf("charts: %+v for %d day(s)", bars, len(want.Days))
	}
}
