package main

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"

	"github.com/tari-payment/tps/api"
	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/plugins"
)

// pluginActions implements plugins.Engine: the engine operations plugins may
// call when their manifest grants them. Setting a rate goes through the
// admin route's own function (api.Server.SetExchangeRateAndReprice), which
// exists only once the API is built, after the plugins started: until then
// a rates.set fails (and the plugin's delivery is retried).
type pluginActions struct {
	eng *engine.Engine
	api atomic.Pointer[api.Server]
}

var errStarting = errors.New("the server is still starting")

func (a *pluginActions) SetExchangeRate(ctx context.Context, currency string, rate core.MicroTari) (plugins.RateChange, error) {
	srv := a.api.Load()
	if srv == nil {
		return plugins.RateChange{}, errStarting
	}
	r, n, err := srv.SetExchangeRateAndReprice(ctx, currency, rate)
	var re *api.RepricingError
	if errors.As(err, &re) {
		return plugins.RateChange{Rate: r, Repriced: re.Repriced, RepriceError: re.Err.Error()}, nil
	}
	if err != nil {
		return plugins.RateChange{}, err
	}
	return plugins.RateChange{Rate: r, Repriced: max(n, 0)}, nil
}

func (a *pluginActions) ExchangeRate(ctx context.Context, currency string) (core.ExchangeRate, error) {
	return a.eng.ExchangeRate(ctx, currency)
}

func (a *pluginActions) Order(ctx context.Context, orderID string) (*core.Order, error) {
	o, err := a.eng.OrderByIDStrict(ctx, orderID)
	if err == nil && o == nil {
		err = &core.OrderNotFoundError{OrderID: orderID}
	}
	return o, err
}

func (a *pluginActions) Orders(ctx context.Context, q core.OrderQuery) ([]core.Order, error) {
	return a.eng.SearchOrders(ctx, q)
}

func (a *pluginActions) Payments(ctx context.Context, f plugins.PaymentFilter) ([]core.Payment, error) {
	if f.OrderID == "" {
		q := engine.PaymentQuery{Statuses: f.Statuses, Page: core.Page{Count: &f.Limit}}
		if f.TxID != "" {
			q.TxID = &f.TxID
		}
		if f.Sender != "" {
			q.Sender = &f.Sender
		}
		return a.eng.SearchPayments(ctx, q)
	}
	ps, err := a.eng.PaymentsForOrder(ctx, f.OrderID)
	if err != nil {
		return nil, err
	}
	ps = slices.DeleteFunc(ps, func(p core.Payment) bool {
		return (f.TxID != "" && p.TxID != f.TxID) || (f.Sender != "" && p.Sender != f.Sender) ||
			(len(f.Statuses) > 0 && !slices.Contains(f.Statuses, p.Status))
	})
	return ps[:min(len(ps), f.Limit)], nil
}
