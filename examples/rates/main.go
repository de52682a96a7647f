// Command rates is an example plugin that keeps exchange rates current. At
// every Tick of its schedule (manifest "schedule", every 5 minutes) it reads
// the price of one Tari in each of the shop's currencies from an HTTP JSON
// source and sets each currency's rate through the rates:write action, which
// stores it and reprices the store's products as the admin route does.
//
// A price that moved more than MAX_CHANGE_PERCENT since the last accepted one
// is refused: logged at error level, and the rate is left as it was, so a
// broken or manipulated source cannot reprice the shop. The last accepted
// price of each currency is kept in plugin state ("price/<CUR>"); to accept
// a jump the merchant meant, raise the bound for one run.
//
// Settings (TPG_PLUGIN_RATES_<KEY>):
//
//	PRICE_URL           the source, e.g. https://api.coingecko.com/api/v3/simple/price?ids=tari&vs_currencies=usd,eur
//	CURRENCIES          the shop currencies, comma separated: USD,EUR
//	PRICE_PATH          where each price is in the JSON, dot separated, with
//	                    {currency} (lower case) or {CURRENCY}: default tari.{currency}
//	MAX_CHANGE_PERCENT  the largest accepted move since the last price: default 10
//	MIN_PRICE, MAX_PRICE  optional absolute bounds on any price, the first one
//	                    included (it has no last price to compare with)
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/tari-payment/tps/sdk"
)

func init() { sdk.OnTick(tick) }

func main() {}

func tick(ev sdk.Event, t sdk.TickEvent) error {
	url, _ := sdk.Config("PRICE_URL")
	path := sdk.ConfigOr("PRICE_PATH", "tari.{currency}")
	maxPct, ok := new(big.Rat).SetString(sdk.ConfigOr("MAX_CHANGE_PERCENT", "10"))
	if !ok || maxPct.Sign() < 0 {
		return sdk.Permanent(errors.New("MAX_CHANGE_PERCENT must be a non-negative number"))
	}
	resp, err := sdk.Get(url, map[string]string{"Accept": "application/json"})
	if err != nil {
		return err // retried with backoff
	}
	if !resp.OK() {
		return fmt.Errorf("price source answered %d", resp.Status)
	}
	dec := json.NewDecoder(strings.NewReader(string(resp.Body)))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("price source: not JSON: %w", err)
	}
	var failed []string
	for _, cur := range strings.Split(sdk.ConfigOr("CURRENCIES", ""), ",") {
		cur = strings.ToUpper(strings.TrimSpace(cur))
		if cur == "" {
			continue
		}
		if err := update(doc, path, cur, maxPct); err != nil {
			sdk.Errorf("rate for %s not updated: %v", cur, err)
			failed = append(failed, cur)
		}
	}
	if len(failed) > 0 {
		// Refusals are decisions, not faults: the Tick is done, the next
		// one looks again. The log line above says why.
		sdk.Warnf("rates left unchanged this period: %s", strings.Join(failed, ", "))
	}
	return nil
}

// update sets cur's rate from the price in doc, within the bound.
func update(doc any, pathTmpl, cur string, maxPct *big.Rat) error {
	path := strings.NewReplacer("{currency}", strings.ToLower(cur), "{CURRENCY}", cur).Replace(pathTmpl)
	raw, err := lookup(doc, path)
	if err != nil {
		return err
	}
	price, ok := new(big.Rat).SetString(raw)
	if !ok || price.Sign() <= 0 {
		return fmt.Errorf("price %q at %s is not a positive number", raw, path)
	}
	for _, b := range []struct {
		name string
		sign int
	}{{"MIN_PRICE", -1}, {"MAX_PRICE", 1}} {
		v := sdk.ConfigOr(b.name, "")
		if v == "" {
			continue
		}
		bound, ok := new(big.Rat).SetString(v)
		if !ok {
			return fmt.Errorf("%s %q is not a number", b.name, v)
		}
		if price.Cmp(bound) == b.sign {
			return fmt.Errorf("refused price %s: outside the merchant's bound %s=%s", raw, b.name, v)
		}
	}
	key := "price/" + cur
	last, found, err := sdk.StateGet(key)
	if err != nil {
		return err
	}
	if found {
		prev, ok := new(big.Rat).SetString(string(last))
		if ok && prev.Sign() > 0 {
			// |price - prev| / prev × 100
			move := new(big.Rat).Sub(price, prev)
			move.Abs(move).Quo(move, prev).Mul(move, big.NewRat(100, 1))
			if move.Cmp(maxPct) > 0 {
				return fmt.Errorf("refused price %s: it moved %s%% since the last accepted price %s, more than MAX_CHANGE_PERCENT=%s",
					raw, move.FloatString(2), string(last), maxPct.FloatString(2))
			}
		}
	}
	// µT per whole unit of the currency: 1 000 000 µT (one Tari) / price, rounded.
	q := new(big.Rat).Quo(big.NewRat(1_000_000, 1), price)
	rate := new(big.Int).Quo(new(big.Int).Add(new(big.Int).Mul(q.Num(), big.NewInt(2)), q.Denom()), new(big.Int).Mul(q.Denom(), big.NewInt(2)))
	if !rate.IsInt64() || rate.Sign() <= 0 {
		return fmt.Errorf("price %s gives a rate out of range", raw)
	}
	if prevRate, err := sdk.StateInt("rate/" + cur); err == nil && prevRate == rate.Int64() {
		return sdk.StateSet(key, []byte(raw)) // unchanged: no new rate row, no repricing
	}
	ch, err := sdk.SetRate(cur, rate.Int64())
	if err != nil {
		return err
	}
	if ch.RepriceError != "" {
		sdk.Warnf("rate for %s stored, but the store's products were not repriced: %s", cur, ch.RepriceError)
	}
	sdk.Infof("rate for %s set to %d µT (price %s, %d product variants repriced)", cur, rate.Int64(), raw, ch.Repriced)
	if err := sdk.StateSetInt("rate/"+cur, rate.Int64()); err != nil {
		return err
	}
	return sdk.StateSet(key, []byte(raw))
}

// lookup follows a dot-separated path through objects (and array indexes)
// to a number or numeric string.
func lookup(doc any, path string) (string, error) {
	cur := doc
	for _, part := range strings.Split(path, ".") {
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[part]
			if !ok {
				return "", fmt.Errorf("price source has no %q (PRICE_PATH %s)", part, path)
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(v) {
				return "", fmt.Errorf("price source: no element %q (PRICE_PATH %s)", part, path)
			}
			cur = v[i]
		default:
			return "", fmt.Errorf("price source: %q is not an object (PRICE_PATH %s)", part, path)
		}
	}
	switch v := cur.(type) {
	case json.Number:
		return v.String(), nil
	case string:
		return strings.TrimSpace(v), nil
	}
	return "", fmt.Errorf("price source: %s is not a number", path)
}
