package sdk

import "time"

// Tick is the event type of scheduled events: a plugin whose manifest has
// "schedule": {"every": "5m"} receives one Tick at the start of every period
// (plugins/ABI.md "Schedule"). Like any event it is retried when the handler
// fails and parked after its attempts; one is made per period however many
// servers share the database.
const Tick = "Tick"

// TickEvent is the payload of a Tick: the period it stands for.
// PeriodStart is a multiple of the period since the Unix epoch.
type TickEvent struct {
	PeriodStart   time.Time `json:"period_start"`
	PeriodSeconds int64     `json:"period_seconds"`
}

// OnTick registers the handler of the plugin's scheduled Ticks.
func OnTick(fn func(Event, TickEvent) error) { on(Tick, fn) }
