package client

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tari-payment/tps/core/tari"
)

// stub is a loopback server that checks what the client sends the way the
// payment server does (login token and wallet signatures verified) and
// answers with canned bodies. The full API is exercised against the real
// server by cmd/taritools' end-to-end tests.
type stub struct {
	*httptest.Server
	server tari.SecretKey
	mu     sync.Mutex
	logins []tari.LoginClaims
	reject int // answer 401 to this many authenticated calls
}

func newStub(t *testing.T) *stub {
	s := &stub{server: tari.GenerateSecretKey()}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *stub) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	switch r.URL.Path {
	case "/auth":
		claims, err := tari.ParseLoginToken(r.Header.Get("tpg_auth_token"))
		if err != nil {
			http.Error(w, `{"error":"Authentication Error. Login token signature is invalid."}`, 401)
			return
		}
		if n := len(s.logins); n > 0 && claims.Nonce <= s.logins[n-1].Nonce {
			http.Error(w, `{"error":"Nonce is not strictly increasing."}`, 401)
			return
		}
		s.logins = append(s.logins, claims)
		tok, _ := tari.NewAccessToken(s.server, claims.Address, claims.DesiredRoles, time.Now())
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, tok)
	case "/api/balance":
		if s.reject > 0 {
			s.reject--
			http.Error(w, "An error occurred, the provided jwt could not be processed.", 401)
			return
		}
		if _, err := tari.ParseAccessToken(r.Header.Get("tpg_access_token"), s.server.PublicKey(), time.Now()); err != nil {
			http.Error(w, "An error occurred, the provided jwt could not be processed.", 401)
			return
		}
		io.WriteString(w, `{"address":"x","total_confirmed":5,"total_paid":1,"current_balance":4,"last_update":"2024-03-11T16:00:00Z"}`)
	case "/api/order/id/#1001":
		w.WriteHeader(404)
		io.WriteString(w, `{"error":"The data was not found. The requested order #1001 does not exist"}`)
	case "/api/creditors":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(403)
		io.WriteString(w, "Insufficient permissions.")
	case "/wallet/incoming_payment":
		var in struct {
			Payment NewPayment `json:"payment"`
			Auth    WalletAuth `json:"auth"`
		}
		if json.Unmarshal(body, &in) != nil {
			http.Error(w, "bad json", 400)
			return
		}
		a, _ := tari.ParseAddress(in.Auth.Address)
		sender, _ := tari.ParseAddress(in.Payment.Sender)
		sig, err := tari.ParseSignature(in.Auth.Signature)
		payload := tari.PaymentPayloadJSON(sender, in.Payment.Amount, in.Payment.TxID, in.Payment.Memo, in.Payment.OrderID)
		if err != nil || !tari.VerifyWallet(a, in.Auth.Nonce, payload, sig) {
			w.WriteHeader(401)
			return
		}
		io.WriteString(w, `{"success":true,"message":"ok"}`)
	default:
		http.NotFound(w, r)
	}
}

type memCache struct {
	token   string
	expires time.Time
	nonce   uint64
}

func (m *memCache) Load() (string, time.Time, bool) { return m.token, m.expires, m.token != "" }
func (m *memCache) Store(t string, e time.Time)     { m.token, m.expires = t, e }
func (m *memCache) LastNonce() uint64               { return m.nonce }
func (m *memCache) SetLastNonce(n uint64)           { m.nonce = n }

func newTestClient(s *stub) (*Client, tari.Address) {
	k := tari.GenerateSecretKey()
	a := tari.NewAddress(tari.Mainnet, k.PublicKey())
	c := New(s.URL+"/", k, a, []string{"user", "read_all"})
	c.Cache = &memCache{}
	return c, a
}

func TestLoginCachingAndRelogin(t *testing.T) {
	s := newStub(t)
	c, a := newTestClient(s)
	ctx := context.Background()
	b, err := c.Balance(ctx)
	if err != nil || b.CurrentBalance != 4 {
		t.Fatalf("balance %+v %v", b, err)
	}
	if _, err := c.Balance(ctx); err != nil {
		t.Fatal(err)
	}
	if len(s.logins) != 1 {
		t.Fatalf("%d logins, want 1 (token cached)", len(s.logins))
	}
	got := s.logins[0]
	if got.Address.Base58() != a.Base58() || strings.Join(got.DesiredRoles, ",") != "user,read_all" {
		t.Fatalf("login claims %+v", got)
	}
	if got.Nonce < uint64(time.Now().Add(-time.Minute).UnixMilli()) {
		t.Fatalf("nonce %d is not Unix milliseconds", got.Nonce)
	}
	// A rejected cached token triggers exactly one fresh login.
	s.reject = 1
	if _, err := c.Balance(ctx); err != nil {
		t.Fatal(err)
	}
	if len(s.logins) != 2 {
		t.Fatalf("%d logins, want 2", len(s.logins))
	}
	// Logins in the same millisecond still get increasing nonces.
	c.Now = func() time.Time { return time.UnixMilli(1) }
	for range 3 {
		if _, err := c.Login(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// A second client on the same cache uses the cached token.
	c2 := New(s.URL, c.Key, a, c.Roles)
	c2.Cache = c.Cache
	if _, err := c2.Balance(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(s.logins); n != 5 {
		t.Fatalf("%d logins, want 5", n)
	}
}

func TestServerErrors(t *testing.T) {
	s := newStub(t)
	c, _ := newTestClient(s)
	ctx := context.Background()
	_, err := c.OrderByID(ctx, "#1001")
	var se *Error
	if !errors.As(err, &se) || se.Status != 404 || !strings.Contains(se.Message, "order #1001 does not exist") {
		t.Fatalf("404: %#v", err)
	}
	if !strings.Contains(err.Error(), "404 Not Found") {
		t.Fatalf("message %q", err.Error())
	}
	_, err = c.Creditors(ctx)
	if StatusOf(err) != 403 || !strings.Contains(err.Error(), "Insufficient permissions.") {
		t.Fatalf("403: %v", err)
	}
	dead := New("http://127.0.0.1:1", c.Key, c.Address, nil)
	var ue *UnreachableError
	if err := dead.Health(ctx); !errors.As(err, &ue) {
		t.Fatalf("unreachable: %v", err)
	}
}

func TestIncomingPaymentSignature(t *testing.T) {
	s := newStub(t)
	c, _ := newTestClient(s)
	sender := tari.NewAddress(tari.Mainnet, tari.GenerateSecretKey().PublicKey())
	memo, oid := `{"note":"héllo </b>"}`, "1001"
	// The sender goes out as emoji; the signature covers its base58 form.
	res, err := c.IncomingPayment(context.Background(), NewPayment{Sender: sender.Emoji(), Amount: -5, TxID: "t1", Memo: &memo, OrderID: &oid}, 42)
	if err != nil || !res.Success {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestOrderSearchQuery(t *testing.T) {
	q := OrderSearch{CustomerID: "bob", Since: "2024-03-11T0:0:0Z", Statuses: []string{"Paid", "New"}, Memo: "50%_off"}
	if got := q.Query(); got != "customer_id=bob&memo=50%25_off&since=2024-03-11T0%3A0%3A0Z&status=Paid%2CNew" {
		t.Fatalf("query %q", got)
	}
	if (OrderSearch{}).Query() != "" {
		t.Fatal("empty search must have no query")
	}
}
