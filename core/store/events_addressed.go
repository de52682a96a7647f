package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tari-payment/tps/core"
)

// AppendEventTo appends one event, created at now, addressed to a single
// subscriber (column events.subscriber; NULL, as AppendEvent writes, means
// every subscriber). Other subscribers' reads skip it. It goes through
// AppendEvents like every event, so it is staged and sequenced the same way.
func AppendEventTo(ctx context.Context, tx EventExecer, dialect Dialect, now time.Time, subscriber string, typ core.EventType, payload any) (core.Event, error) {
	data, err := json.Marshal(payload)
	if err != nil {
		return core.Event{}, fmt.Errorf("encode %s event: %w", typ, err)
	}
	evs := []core.Event{{ID: NewEventID(), Type: typ, CreatedAt: now.UTC().Truncate(time.Microsecond), Payload: data, Subscriber: subscriber}}
	if err := AppendEvents(ctx, tx, dialect, evs); err != nil {
		return core.Event{}, err
	}
	return evs[0], nil
}
