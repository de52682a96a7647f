package load

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tari-payment/tps/core/store"
)

// LockWait is how much of the servers' transaction time went to waiting on
// locks, sampled from PostgreSQL's pg_stat_activity every 10 ms while the
// servers (not the baseline) run: of the backends inside a transaction, the
// share waiting on an advisory lock (the writers' and the event sequencer's)
// and on any other lock (rows, transaction ids). Backends are the servers', the baseline idles.
type LockWait struct {
	Samples       int     `json:"samples"`
	InTx          int64   `json:"backend_samples_in_transaction"`
	AdvisoryShare float64 `json:"advisory_wait_share"`
	OtherShare    float64 `json:"other_lock_wait_share"`
}

type lockSampler struct {
	db      *store.DB
	on      atomic.Bool
	mu      sync.Mutex
	samples int
	inTx    int64
	adv     int64
	other   int64
	stop    chan struct{}
	done    chan struct{}
}

func startLockSampler(pgURL string) (*lockSampler, error) {
	db, err := store.Connect(pgURL)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	s := &lockSampler{db: db, stop: make(chan struct{}), done: make(chan struct{})}
	go s.loop()
	return s, nil
}

func (s *lockSampler) loop() {
	defer close(s.done)
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		if !s.on.Load() {
			continue
		}
		var inTx, adv, other int64
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := s.db.QueryRowContext(ctx, `SELECT
			count(*) FILTER (WHERE xact_start IS NOT NULL),
			count(*) FILTER (WHERE xact_start IS NOT NULL AND wait_event_type = 'Lock' AND wait_event = 'advisory'),
			count(*) FILTER (WHERE xact_start IS NOT NULL AND wait_event_type = 'Lock' AND wait_event <> 'advisory')
			FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`).Scan(&inTx, &adv, &other)
		cancel()
		if err != nil {
			continue
		}
		s.mu.Lock()
		s.samples++
		s.inTx += inTx
		s.adv += adv
		s.other += other
		s.mu.Unlock()
	}
}

func (s *lockSampler) result() *LockWait {
	close(s.stop)
	<-s.done
	s.db.Close()
	lw := &LockWait{Samples: s.samples, InTx: s.inTx}
	if s.inTx > 0 {
		lw.AdvisoryShare = float64(s.adv) / float64(s.inTx)
		lw.OtherShare = float64(s.other) / float64(s.inTx)
	}
	return lw
}
