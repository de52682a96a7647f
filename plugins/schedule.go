package plugins

import (
	"fmt"
	"slices"
	"time"

	"github.com/tari-payment/tps/core"
)

// Schedule is a manifest's "schedule": {"every": "5m"} delivers a Tick event
// to the plugin at the start of every period (periods are aligned to the
// Unix epoch, so "1h" ticks on the hour). Ticks go through the outbox like
// any event (core/outbox/schedule.go): one per period per database however
// many server instances share it, retried, parked and redeliverable.
type Schedule struct {
	Every string `json:"every"` // a Go duration: "30s", "5m", "1h"

	every time.Duration
}

const (
	minSchedule = time.Second
	maxSchedule = 7 * 24 * time.Hour
)

// validateScheduleAndActions checks the manifest's schedule and actions.
func (m *Manifest) validateScheduleAndActions() error {
	if slices.Contains(m.Events, string(core.EventTick)) {
		return fmt.Errorf("manifest: plugin %s: Tick events come from \"schedule\", not \"events\"", m.ID)
	}
	if s := m.Schedule; s != nil {
		d, err := time.ParseDuration(s.Every)
		if err != nil || d < minSchedule || d > maxSchedule || d%time.Second != 0 {
			return fmt.Errorf("manifest: plugin %s: schedule.every %q must be a whole number of seconds between %s and %s (e.g. \"5m\")",
				m.ID, s.Every, minSchedule, maxSchedule)
		}
		s.every = d
	}
	for _, a := range m.Actions {
		if _, ok := actionGrants[a]; !ok {
			return fmt.Errorf("manifest: plugin %s: unknown action grant %q (known: %s)", m.ID, a, knownGrants())
		}
	}
	return nil
}

// Period implements outbox.ScheduledSubscriber: the manifest's schedule, or
// 0 for a plugin without one.
func (p *plugin) Period() time.Duration {
	if p.m.Schedule == nil {
		return 0
	}
	return p.m.Schedule.every
}
