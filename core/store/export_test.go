package store

import "github.com/uptrace/bun"

// WaitingWriters is the number of SQLite writes waiting for the writer queue.
func WaitingWriters(db *DB) int { return int(db.writersWaiting.Load()) }

// Bun is the database's bun handle (migration tests run old migrators).
func Bun(db *DB) *bun.DB { return db.bun }
