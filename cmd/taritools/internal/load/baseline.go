package load

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tari-payment/tps/core/store"
)

// Baseline is the yardstick the server's figures are divided by: a bare gin
// handler on a loopback port that reads the body and INSERTs it as one row in
// one transaction, on a SQLite file opened exactly as the server opens its
// own (store.Open: WAL, busy_timeout, IMMEDIATE transactions), or, when the
// server runs on PostgreSQL, in the server's own PostgreSQL database through
// the same pool settings (store.Connect). Driven by the same client code and
// concurrency, it is the best a server on this machine and this database
// that writes each request durably could do.
type Baseline struct {
	URL  string
	db   *store.DB
	srv  *http.Server
	done chan struct{}
}

// StartBaseline starts it with its database file in dir, or on the
// PostgreSQL database at pgURL when that is not "" (its table bench_rows sits
// beside the server's tables; the database is a scratch one).
func StartBaseline(ctx context.Context, dir, pgURL string) (*Baseline, error) {
	var (
		db    *store.DB
		err   error
		table = "CREATE TABLE IF NOT EXISTS bench_rows (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL, created_at TIMESTAMP NOT NULL)"
	)
	if pgURL != "" {
		db, err = store.Connect(pgURL)
		table = "CREATE TABLE IF NOT EXISTS bench_rows (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL)"
	} else {
		db, err = store.Open(ctx, "sqlite://"+filepath.Join(dir, "baseline.db"))
	}
	if err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, table); err != nil {
		db.Close()
		return nil, err
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.POST("/shopify/webhook/checkout_create", func(c *gin.Context) {
		body, err := io.ReadAll(io.LimitReader(c.Request.Body, 1<<20))
		if err != nil {
			c.JSON(http.StatusBadRequest, gin.H{"error": err.Error()})
			return
		}
		err = db.WriteTx(c.Request.Context(), func(stx *store.Tx) error {
			ctx, tx := stx.Context(), stx.IDB()
			_, err := tx.ExecContext(ctx, "INSERT INTO bench_rows (body, created_at) VALUES (?, ?)", string(body), time.Now().UTC())
			return err
		}, store.NoEvents)
		if err != nil {
			c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
			return
		}
		c.JSON(http.StatusOK, gin.H{"success": true, "message": "stored"})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		db.Close()
		return nil, err
	}
	b := &Baseline{URL: "http://" + ln.Addr().String(), db: db, done: make(chan struct{}),
		srv: &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		defer close(b.done)
		if err := b.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // reported through the client's errors
		}
	}()
	return b, nil
}

// Close stops the server and closes its database.
func (b *Baseline) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = b.srv.Shutdown(ctx)
	<-b.done
	b.db.Close()
}
