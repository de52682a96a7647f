package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tari-payment/tps/api/console"
	"github.com/tari-payment/tps/core"
)

// mountConsole serves the web console (api/console) at /console with the
// same engine, plugin host, Shopify rescan and repricing as the admin API.
func (s *Server) mountConsole(g *gin.Engine) {
	if s.eng == nil {
		return
	}
	o := console.Options{
		Engine:     s.eng,
		Rescan:     s.consoleRescan,
		SetRate:    s.consoleSetRate,
		Secure:     s.requestIsTLS,
		LoginLimit: s.limitPublic,
		Logger:     s.log,
		Now:        s.now,
	}
	if s.plugins != nil {
		o.Plugins = s.plugins
	}
	console.New(o).Register(g)
}

// requestIsTLS: TLS on the connection, or https named by a proxy whose
// forwarding headers the configuration trusts.
func (s *Server) requestIsTLS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if s.cfg.UseXForwardedFor && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		return true
	}
	return s.cfg.UseForwarded && strings.Contains(strings.ToLower(r.Header.Get("Forwarded")), "proto=https")
}

// consoleRescan is POST /api/rescan_open_orders for the console: fetch the
// store's open orders and add those the server missed.
func (s *Server) consoleRescan(ctx context.Context) (string, error) {
	sctx, cancel := context.WithTimeout(ctx, shopifyCallTimeout)
	defer cancel()
	orders, err := s.shop.OpenOrders(sctx)
	if err != nil {
		return "", fmt.Errorf("could not fetch the store's open orders: %w", err)
	}
	added, refused := 0, 0
	for _, o := range orders {
		p, err := openOrderToParsed(o, s.cfg.ShopifyPriceField)
		if err != nil {
			refused++
			continue
		}
		if r := s.processOrder(ctx, p); r.Success {
			added++
		} else {
			refused++
		}
	}
	return fmt.Sprintf("%d open order(s) in the store: %d processed, %d refused or already known.", len(orders), added, refused), nil
}

// consoleSetRate is POST /api/exchange_rate for the console: store the rate,
// then, when it is the shop's currency, reprice the store's product variants
// (the same steps as setExchangeRate).
func (s *Server) consoleSetRate(ctx context.Context, currency string, rate core.MicroTari) (string, error) {
	_, n, err := s.SetExchangeRateAndReprice(ctx, currency, rate)
	var re *RepricingError
	switch {
	case errors.As(err, &re) && re.Repriced > 0:
		return "", fmt.Errorf("%w after %d: %v", console.ErrRepricing, re.Repriced, re.Err)
	case errors.As(err, &re):
		return "", fmt.Errorf("%w: %v", console.ErrRepricing, re.Err)
	case err != nil:
		return "", err
	case n < 0: // not the shop's currency, or no shop
		return "", nil
	}
	return fmt.Sprintf("%d product variant(s) repriced in the store.", n), nil
}
