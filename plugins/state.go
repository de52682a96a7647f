package plugins

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tetratelabs/wazero/api"
	"github.com/uptrace/bun"

	"github.com/tari-payment/tps/core/outbox"
	"github.com/tari-payment/tps/core/store"
)

// Limits of plugin state (ABI.md "State").
const (
	maxStateKey       = 256
	maxStateValue     = 64 << 10
	DefaultStateQuota = 1 << 20 // bytes per plugin when the operator sets none
)

// stateStore is one plugin's key-value state in the plugin_state table.
// Reads go to the database; writes are buffered for the duration of one
// event's call and handed to the outbox as an Ack, which commits them in the
// transaction that acknowledges the event. A call that fails, traps or times
// out drops its buffer, so it leaves nothing behind.
//
// Committed state read or written under one unbroken hold of the plugin's
// delivery lease (outbox.LeaseEpoch) is cached: no other instance can write
// the plugin's state meanwhile, and an acknowledgement that fails to commit
// ends the hold, so a warm read costs no database round trip.
type stateStore struct {
	db       *store.DB
	pluginID string
	quota    int64 // bytes: sum over the plugin's rows of len(key)+len(value)

	mu         sync.Mutex
	epoch      uint64            // lease hold the cache belongs to; 0: no cache
	cache      map[string][]byte // committed values (nil: known absent)
	usage      int64             // committed total size, if usageKnown
	usageKnown bool
}

// stateCall is the per-call view: the buffered writes and what the call has
// learnt of the stored rows (for the quota).
type stateCall struct {
	st      *stateStore
	ctx     context.Context
	epoch   uint64 // 0: this call neither reads nor fills the cache
	entries map[string]*stateEntry
	usage   int64 // stored bytes before this call; -1 until read
	// readOnly refuses writes: a route call (routes.go) has no event
	// acknowledgement to commit them with.
	readOnly bool
}

type stateEntry struct {
	stored     bool   // the row exists in the database
	storedSize int64  // its size there
	value      []byte // current value as the call sees it (nil: absent)
	dirty      bool   // written by this call
}

func (st *stateStore) begin(ctx context.Context) *stateCall {
	c := &stateCall{st: st, ctx: ctx, entries: map[string]*stateEntry{}, usage: -1, epoch: outbox.LeaseEpoch(ctx)}
	st.mu.Lock()
	defer st.mu.Unlock()
	if c.epoch == 0 || c.epoch != st.epoch {
		st.epoch, st.cache, st.usageKnown = c.epoch, map[string][]byte{}, false
	}
	if c.epoch != 0 && st.usageKnown {
		c.usage = st.usage
	}
	return c
}

// cached looks key up in the committed-state cache of this lease hold.
func (c *stateCall) cached(key string) ([]byte, bool) {
	if c.epoch == 0 {
		return nil, false
	}
	c.st.mu.Lock()
	defer c.st.mu.Unlock()
	if c.st.epoch != c.epoch {
		return nil, false
	}
	v, ok := c.st.cache[key]
	return v, ok
}

// remember records committed values (after a read, or once an ack's writes
// are part of the acknowledging transaction) for later calls of this hold.
func (c *stateCall) remember(values map[string][]byte, usage int64) {
	if c.epoch == 0 {
		return
	}
	c.st.mu.Lock()
	defer c.st.mu.Unlock()
	if c.st.epoch != c.epoch {
		return
	}
	for k, v := range values {
		c.st.cache[k] = v
	}
	if usage >= 0 {
		c.st.usage, c.st.usageKnown = usage, true
	}
}

// entry loads what the database holds for key, once per call.
func (c *stateCall) entry(key string) (*stateEntry, error) {
	if e, ok := c.entries[key]; ok {
		return e, nil
	}
	if v, ok := c.cached(key); ok {
		e := &stateEntry{value: v}
		if v != nil {
			e.stored, e.storedSize = true, int64(len(key)+len(v))
		}
		c.entries[key] = e
		return e, nil
	}
	var v []byte
	err := c.st.db.QueryRowContext(c.ctx, `SELECT value FROM plugin_state WHERE plugin_id = ? AND key = ?`,
		c.st.pluginID, []byte(key)).Scan(&v)
	e := &stateEntry{}
	switch {
	case err == nil:
		if v == nil {
			v = []byte{}
		}
		e.stored, e.storedSize, e.value = true, int64(len(key)+len(v)), v
	case errors.Is(err, sql.ErrNoRows):
	default:
		return nil, fmt.Errorf("state: read %q: %w", key, err)
	}
	c.entries[key] = e
	c.remember(map[string][]byte{key: e.value}, -1)
	return e, nil
}

func (c *stateCall) get(key string) ([]byte, bool, error) {
	if len(key) > maxStateKey {
		return nil, false, fmt.Errorf("state: key of %d bytes is over the %d-byte limit", len(key), maxStateKey)
	}
	e, err := c.entry(key)
	if err != nil || e.value == nil {
		return nil, false, err
	}
	return e.value, true, nil
}

// projected is the plugin's stored size if the call's writes committed.
func (c *stateCall) projected() (int64, error) {
	if c.usage < 0 {
		var n int64
		if err := c.st.db.QueryRowContext(c.ctx, `SELECT COALESCE(SUM(size), 0) FROM plugin_state WHERE plugin_id = ?`,
			c.st.pluginID).Scan(&n); err != nil {
			return 0, fmt.Errorf("state: read usage: %w", err)
		}
		c.usage = n
		c.remember(nil, n)
	}
	total := c.usage
	for k, e := range c.entries {
		if !e.dirty {
			continue
		}
		total -= e.storedSize
		if e.value != nil {
			total += int64(len(k) + len(e.value))
		}
	}
	return total, nil
}

var errRouteWrite = errors.New("state: a route handler may read state but not write it (writes commit with event acknowledgements; see ABI.md \"Routes\")")

func (c *stateCall) set(key string, value []byte) error {
	switch {
	case c.readOnly:
		return errRouteWrite
	case key == "":
		return errors.New("state: empty key")
	case len(key) > maxStateKey:
		return fmt.Errorf("state: key of %d bytes is over the %d-byte limit", len(key), maxStateKey)
	case !utf8.ValidString(key):
		return errors.New("state: key is not UTF-8 text")
	case len(value) > maxStateValue:
		return fmt.Errorf("state: value of %d bytes is over the %d-byte limit", len(value), maxStateValue)
	}
	e, err := c.entry(key)
	if err != nil {
		return err
	}
	before, err := c.projected()
	if err != nil {
		return err
	}
	old, oldDirty := e.value, e.dirty
	if value == nil {
		value = []byte{}
	}
	e.value, e.dirty = value, true
	after := before - sizeOf(key, old) + sizeOf(key, value)
	if after > c.st.quota && after > before {
		e.value, e.dirty = old, oldDirty
		return fmt.Errorf("state: quota exceeded: %d bytes would be stored, plugin %s may keep %d (TPG_PLUGIN_STATE_QUOTA_KB)",
			after, c.st.pluginID, c.st.quota)
	}
	return nil
}

func sizeOf(key string, v []byte) int64 {
	if v == nil {
		return 0
	}
	return int64(len(key) + len(v))
}

func (c *stateCall) delete(key string) error {
	if c.readOnly {
		return errRouteWrite
	}
	if len(key) > maxStateKey {
		return fmt.Errorf("state: key of %d bytes is over the %d-byte limit", len(key), maxStateKey)
	}
	e, err := c.entry(key)
	if err != nil {
		return err
	}
	if e.value != nil || e.stored {
		e.value, e.dirty = nil, true
	}
	return nil
}

// list returns the keys starting with prefix, in byte order, as the call
// sees them (its own writes included).
func (c *stateCall) list(prefix string) ([]string, error) {
	q := `SELECT key FROM plugin_state WHERE plugin_id = ? AND key >= ?`
	args := []any{c.st.pluginID, []byte(prefix)}
	if end := prefixEnd([]byte(prefix)); end != nil {
		q += ` AND key < ?`
		args = append(args, end)
	}
	rows, err := c.st.db.QueryContext(c.ctx, q+` ORDER BY key`, args...)
	if err != nil {
		return nil, fmt.Errorf("state: list: %w", err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	var keys []string
	for rows.Next() {
		var k []byte
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("state: list: %w", err)
		}
		seen[string(k)] = true
		if e, ok := c.entries[string(k)]; ok && e.dirty && e.value == nil {
			continue // deleted by this call
		}
		keys = append(keys, string(k))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("state: list: %w", err)
	}
	for k, e := range c.entries {
		if e.dirty && e.value != nil && !seen[k] && len(k) >= len(prefix) && k[:len(prefix)] == prefix {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return bytes.Compare([]byte(keys[i]), []byte(keys[j])) < 0 })
	return keys, nil
}

// prefixEnd is the smallest byte string greater than every string starting
// with p; nil when there is none (p is all 0xff).
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// ack turns the call's writes into the outbox acknowledgement's extra work;
// nil when the call wrote nothing.
func (c *stateCall) ack() outbox.Ack {
	type write struct {
		key   string
		value []byte
	}
	var writes []write
	for k, e := range c.entries {
		if e.dirty {
			writes = append(writes, write{k, e.value})
		}
	}
	if len(writes) == 0 {
		return nil
	}
	usage := int64(-1)
	if c.usage >= 0 {
		usage, _ = c.projected() // no query: the usage is known
	}
	sort.Slice(writes, func(i, j int) bool { return writes[i].key < writes[j].key }) // a stable lock order
	id := c.st.pluginID
	return func(ctx context.Context, tx bun.IDB) error {
		now := time.Now().UnixMilli()
		for _, w := range writes {
			var err error
			if w.value == nil {
				_, err = tx.ExecContext(ctx, `DELETE FROM plugin_state WHERE plugin_id = ? AND key = ?`, id, []byte(w.key))
			} else {
				_, err = tx.ExecContext(ctx, `INSERT INTO plugin_state (plugin_id, key, value, size, updated_ms) VALUES (?, ?, ?, ?, ?)
					ON CONFLICT (plugin_id, key) DO UPDATE SET value = EXCLUDED.value, size = EXCLUDED.size, updated_ms = EXCLUDED.updated_ms`,
					id, []byte(w.key), w.value, len(w.key)+len(w.value), now)
			}
			if err != nil {
				return fmt.Errorf("plugin %s state: %w", id, err)
			}
		}
		// If the transaction then fails, the dispatcher gives up the lease
		// hold and the next call starts with an empty cache.
		committed := make(map[string][]byte, len(writes))
		for _, w := range writes {
			committed[w.key] = w.value
		}
		c.remember(committed, usage)
		return nil
	}
}

// Host functions. Each reports a failure as a message the guest reads with
// state_read (the SDK turns it into an error).

var errNoState = errors.New("state: not available in this call")

func (p *plugin) stateFail(err error) uint64 {
	p.stateResp = []byte(err.Error())
	return api.EncodeI32(int32(len(p.stateResp)))
}

func (p *plugin) hostStateGet(_ context.Context, m api.Module, stack []uint64) {
	kptr, klen, buf, limit := api.DecodeU32(stack[0]), api.DecodeU32(stack[1]), api.DecodeU32(stack[2]), api.DecodeU32(stack[3])
	if p.stateCall == nil {
		p.stateFail(errNoState)
		stack[0] = api.EncodeI32(-2)
		return
	}
	if klen > maxStateKey {
		p.stateFail(fmt.Errorf("state: key of %d bytes is over the %d-byte limit", klen, maxStateKey))
		stack[0] = api.EncodeI32(-2)
		return
	}
	v, ok, err := p.stateCall.get(string(read(m, kptr, klen)))
	switch {
	case err != nil:
		p.stateFail(err)
		stack[0] = api.EncodeI32(-2)
	case !ok:
		stack[0] = api.EncodeI32(-1)
	default:
		stack[0] = writeIfFits(m, buf, limit, v)
	}
}

func (p *plugin) hostStateSet(_ context.Context, m api.Module, stack []uint64) {
	kptr, klen, vptr, vlen := api.DecodeU32(stack[0]), api.DecodeU32(stack[1]), api.DecodeU32(stack[2]), api.DecodeU32(stack[3])
	var err error
	switch {
	case p.stateCall == nil:
		err = errNoState
	case klen > maxStateKey:
		err = fmt.Errorf("state: key of %d bytes is over the %d-byte limit", klen, maxStateKey)
	case vlen > maxStateValue:
		err = fmt.Errorf("state: value of %d bytes is over the %d-byte limit", vlen, maxStateValue)
	default:
		err = p.stateCall.set(string(read(m, kptr, klen)), read(m, vptr, vlen))
	}
	stack[0] = 0
	if err != nil {
		stack[0] = p.stateFail(err)
	}
}

func (p *plugin) hostStateDelete(_ context.Context, m api.Module, stack []uint64) {
	kptr, klen := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
	var err error
	switch {
	case p.stateCall == nil:
		err = errNoState
	case klen > maxStateKey:
		err = fmt.Errorf("state: key of %d bytes is over the %d-byte limit", klen, maxStateKey)
	default:
		err = p.stateCall.delete(string(read(m, kptr, klen)))
	}
	stack[0] = 0
	if err != nil {
		stack[0] = p.stateFail(err)
	}
}

// hostStateList answers a JSON array of keys (read with state_read); a
// negative length means an error whose message state_read returns.
func (p *plugin) hostStateList(_ context.Context, m api.Module, stack []uint64) {
	pptr, plen := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
	var err error
	var keys []string
	switch {
	case p.stateCall == nil:
		err = errNoState
	case plen > maxStateKey:
		err = fmt.Errorf("state: prefix of %d bytes is over the %d-byte limit", plen, maxStateKey)
	default:
		keys, err = p.stateCall.list(string(read(m, pptr, plen)))
	}
	if err != nil {
		stack[0] = api.EncodeI32(-int32(api.DecodeI32(p.stateFail(err))))
		return
	}
	if keys == nil {
		keys = []string{}
	}
	p.stateResp, _ = json.Marshal(keys)
	stack[0] = api.EncodeI32(int32(len(p.stateResp)))
}

func (p *plugin) hostStateRead(_ context.Context, m api.Module, stack []uint64) {
	stack[0] = writeIfFits(m, api.DecodeU32(stack[0]), api.DecodeU32(stack[1]), p.stateResp)
}
