package core

import "time"

// EventTick is a scheduled event addressed to one subscriber (a plugin whose
// manifest has a schedule), appended once per period per database however
// many server instances share it. It is not an engine event, so it is not in
// AllEventTypes: a subscription to every type ("*") receives only the Ticks
// addressed to it.
const EventTick EventType = "Tick"

// TickEvent is the payload of a Tick: the period it stands for. PeriodStart is
// a multiple of the period since the Unix epoch, so every instance names a
// period the same way.
type TickEvent struct {
	PeriodStart   time.Time `json:"period_start"`
	PeriodSeconds int64     `json:"period_seconds"`
}
