package store

import "github.com/uptrace/bun"

// QueuedWrites is the number of PostgreSQL writes waiting for a batch.
func QueuedWrites(db *DB) int {
	db.batch.mu.Lock()
	defer db.batch.mu.Unlock()
	return len(db.batch.queue)
}

// SetGroupCommit turns PostgreSQL group commit on or off (benchmarks).
func SetGroupCommit(db *DB, on bool) {
	if on {
		db.batch = &batcher{db: db.bun}
	} else {
		db.batch = nil
	}
}

// WaitingWriters is the number of SQLite writes waiting for the writer queue.
func WaitingWriters(db *DB) int { return int(db.writersWaiting.Load()) }

// Bun is the database's bun handle (migration tests run old migrators).
func Bun(db *DB) *bun.DB { return db.bun }
