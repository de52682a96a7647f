package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/tari-payment/tps/api/shopify"
	"github.com/tari-payment/tps/core/config"
)

// flexID is a Shopify id sent as a JSON number or string. Numbers are kept as
// their exact digits (ids exceed float64 precision).
type flexID string

func (f *flexID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*f = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("id must be a number or a string")
	}
	*f = flexID(n.String())
	return nil
}

// flexString accepts a string, a number (kept as written) or null.
type flexString struct {
	Value string
	Set   bool
}

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*f = flexString{}
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString{Value: s, Set: true}
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			*f = flexString{} // other types are ignored (D22: extra shapes never 400)
			return nil
		}
		*f = flexString{Value: n.String(), Set: true}
	}
	return nil
}

// shopifyOrder holds only the fields the conversion uses (D22); everything
// else in Shopify's payload is ignored, and nulls are fine.
type shopifyOrder struct {
	ID                  flexID     `json:"id"`
	Name                flexString `json:"name"`
	Currency            flexString `json:"currency"`
	CreatedAt           flexString `json:"created_at"`
	Note                flexString `json:"note"`
	Email               flexString `json:"email"`
	TotalPrice          flexString `json:"total_price"`
	SubtotalPrice       flexString `json:"subtotal_price"`
	TotalLineItemsPrice flexString `json:"total_line_items_price"`
	TotalOutstanding    flexString `json:"total_outstanding"`
	Customer            *struct {
		ID flexID `json:"id"`
	} `json:"customer"`
}

// parsedOrder is a validated Shopify order before the exchange rate is applied.
type parsedOrder struct {
	OrderID           string
	AltID             *string
	CustomerID        string
	Currency          string // as received
	Memo              *string
	Price             string // the configured price field
	AmountOutstanding *string
	CreatedAt         time.Time
}

// parseShopifyOrder decodes and validates a checkout_create body. An *Error
// (400) means the body is unusable (not JSON, or id, currency, created_at or
// the price field missing); any other error is a conversion failure that the
// webhook acknowledges with success=false, as the reference does.
func parseShopifyOrder(body []byte, priceField string) (parsedOrder, error) {
	var o shopifyOrder
	if err := json.Unmarshal(body, &o); err != nil {
		return parsedOrder{}, errInvalidBody(fmt.Sprintf("Json deserialize error: %v", err))
	}
	if hasNUL(reflect.ValueOf(o)) {
		return parsedOrder{}, &Error{Status: http.StatusBadRequest, Msg: msgNULInBody}
	}
	return o.toParsed(priceField)
}

func (o shopifyOrder) toParsed(priceField string) (parsedOrder, error) {
	var missing []string
	if o.ID == "" {
		missing = append(missing, "id")
	}
	if !o.Currency.Set || o.Currency.Value == "" {
		missing = append(missing, "currency")
	}
	if !o.CreatedAt.Set {
		missing = append(missing, "created_at")
	}
	var price flexString
	var priceName string
	switch priceField {
	case config.PriceFieldSubtotal:
		price, priceName = o.SubtotalPrice, "subtotal_price"
	case config.PriceFieldLineItems:
		price, priceName = o.TotalLineItemsPrice, "total_line_items_price"
	default:
		price, priceName = o.TotalPrice, "total_price"
	}
	if !price.Set {
		missing = append(missing, priceName)
	}
	if len(missing) > 0 {
		return parsedOrder{}, errInvalidBody(fmt.Sprintf("Json deserialize error: missing field `%s`", strings.Join(missing, "`, `")))
	}
	created, err := time.Parse(time.RFC3339, strings.TrimSpace(o.CreatedAt.Value))
	if err != nil {
		return parsedOrder{}, fmt.Errorf("Invalid created_at timestamp %q", o.CreatedAt.Value)
	}
	if _, _, err := shopify.ParseDecimal(price.Value); err != nil {
		return parsedOrder{}, fmt.Errorf("Invalid %s: %v", priceName, err)
	}
	p := parsedOrder{
		OrderID:   string(o.ID),
		Currency:  o.Currency.Value,
		Price:     price.Value,
		CreatedAt: created.UTC(),
	}
	if o.Name.Set && o.Name.Value != "" {
		v := o.Name.Value
		p.AltID = &v
	}
	if o.Note.Set {
		v := o.Note.Value
		p.Memo = &v
	}
	if o.TotalOutstanding.Set {
		v := o.TotalOutstanding.Value
		p.AmountOutstanding = &v
	}
	switch {
	case o.Customer != nil && o.Customer.ID != "":
		p.CustomerID = string(o.Customer.ID)
	case o.Email.Set && o.Email.Value != "":
		p.CustomerID = "guest:" + o.Email.Value // D22
	default:
		p.CustomerID = "guest:" + p.OrderID
	}
	return p, nil
}
