package store

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// SQLite appends every commit to the write-ahead log and copies the log back
// into the database file at checkpoints. Left to itself it checkpoints inside
// the commit that takes the log past 1000 pages: that commit then writes every
// page changed since the last checkpoint and waits for two fsyncs, about a
// fifth of an engine operation's cost on average and a long stall at times.
// Here a goroutine checkpoints instead, beside the writer (a PASSIVE
// checkpoint blocks no one): after checkpointEvery writes, or checkpointAfter
// once any write happened. SQLite's own automatic checkpoint stays on as a
// backstop at autocheckpointPages, for a log this goroutine cannot keep short.
const (
	checkpointEvery     = 100
	checkpointAfter     = time.Second
	autocheckpointPages = 10000
)

// checkpointer runs the background checkpoints of a SQLite database file.
type checkpointer struct {
	db     *DB
	kick   chan struct{} // a write committed
	stop   chan struct{}
	closed sync.Once
	done   sync.WaitGroup
	writes atomic.Int64 // since the last checkpoint
}

func startCheckpointer(db *DB) *checkpointer {
	c := &checkpointer{db: db, kick: make(chan struct{}, 1), stop: make(chan struct{})}
	c.done.Add(1)
	go c.loop()
	return c
}

// wrote notes a committed write; cheap enough for every transaction.
func (c *checkpointer) wrote() {
	if n := c.writes.Add(1); n == 1 || n >= checkpointEvery {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}

func (c *checkpointer) loop() {
	defer c.done.Done()
	timer := time.NewTimer(checkpointAfter)
	timer.Stop()
	for {
		select {
		case <-c.stop:
			timer.Stop()
			return
		case <-c.kick:
			if c.writes.Load() < checkpointEvery {
				timer.Reset(checkpointAfter) // the first write of a quiet spell
				continue
			}
		case <-timer.C:
		}
		timer.Stop()
		c.writes.Store(0)
		c.checkpoint()
	}
}

// checkpoint copies what it can of the log into the database file. Errors
// are not fatal (SQLITE_BUSY while another process checkpoints, a closing
// database): the next round or SQLite's own checkpoint catches up.
func (c *checkpointer) checkpoint() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var busy, log, done int
	_ = c.db.bun.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &done)
}

// close stops the goroutine and waits for a checkpoint in progress.
func (c *checkpointer) close() {
	c.closed.Do(func() { close(c.stop) })
	c.done.Wait()
}
