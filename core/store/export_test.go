package store

// WaitingWriters is the number of SQLite writes waiting for the writer queue.
func WaitingWriters(db *DB) int { return int(db.writersWaiting.Load()) }
