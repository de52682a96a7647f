package sdk_test

import (
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/plugins"
	"github.com/tari-payment/tps/sdk"
)

// The SDK is built for wasip1 with the standard library only, so it cannot
// import core's payload types: it declares its own. These tests keep the two
// in step: an event type or payload field added to core (or renamed) without
// the SDK fails here, not in a merchant's plugin.

func TestSDKKnowsEveryEventType(t *testing.T) {
	sdkTypes := map[string]bool{
		sdk.NewOrder: true, sdk.OrderPaid: true, sdk.OrderAnnulled: true, sdk.OrderModified: true,
		sdk.OrderClaimed: true, sdk.PaymentReceived: true, sdk.PaymentConfirmed: true,
	}
	for _, typ := range core.AllEventTypes {
		if !sdkTypes[string(typ)] {
			t.Errorf("core event type %q has no sdk constant", typ)
		}
		delete(sdkTypes, string(typ))
	}
	for typ := range sdkTypes {
		t.Errorf("sdk constant %q is not a core event type", typ)
	}
}

func TestSDKPayloadsMatchCore(t *testing.T) {
	pairs := []struct{ core, sdk any }{
		{core.OrderEvent{}, sdk.OrderEvent{}},
		{core.OrderAnnulledEvent{}, sdk.OrderAnnulledEvent{}},
		{core.OrderModifiedEvent{}, sdk.OrderModifiedEvent{}},
		{core.OrderClaimedEvent{}, sdk.OrderClaimedEvent{}},
		{core.PaymentEvent{}, sdk.PaymentEvent{}},
		{core.TickEvent{}, sdk.TickEvent{}},
		{core.ExchangeRate{}, sdk.ExchangeRate{}},
		{plugins.RateChange{}, sdk.RateChange{}},
	}
	if sdk.Tick != string(core.EventTick) {
		t.Errorf("sdk.Tick = %q, core.EventTick = %q", sdk.Tick, core.EventTick)
	}
	for _, p := range pairs {
		want := jsonShape(reflect.TypeOf(p.core), "")
		got := jsonShape(reflect.TypeOf(p.sdk), "")
		if strings.Join(want, "\n") != strings.Join(got, "\n") {
			t.Errorf("%T and %T differ:\ncore: %v\nsdk:  %v", p.core, p.sdk, want, got)
		}
	}
}

// jsonShape lists every JSON path of t with the JSON kind found there.
func jsonShape(t reflect.Type, prefix string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeOf(time.Time{}) {
		return []string{prefix + ": time"}
	}
	if t.Kind() != reflect.Struct {
		kind := t.Kind().String()
		switch t.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			kind = "integer"
		}
		return []string{prefix + ": " + kind}
	}
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, jsonShape(f.Type, prefix+"."+name)...)
	}
	sort.Strings(out)
	return out
}
