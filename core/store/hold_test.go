package store_test

import (
	"context"
	"testing"

	"github.com/tari-payment/tps/core/store"
)

// holdWriteAlone starts a write that runs alone (it holds the writers lock
// exclusively once its first statement is sent) and returns when it holds
// it; release ends that write and returns its error.
func holdWriteAlone(t *testing.T, db *store.DB) (release func() error) {
	t.Helper()
	held, end, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- db.WriteTx(context.Background(), func(tx *store.Tx) error {
			tx.NoEventsAppended()
			if _, err := tx.IDB().ExecContext(tx.Context(), "SELECT 1"); err != nil {
				return err
			}
			close(held)
			<-end
			return nil
		})
	}()
	select {
	case <-held:
	case err := <-done:
		t.Fatalf("the write meant to run alone ended early: %v", err)
	}
	return func() error {
		close(end)
		return <-done
	}
}
