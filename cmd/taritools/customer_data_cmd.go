package main

import (
	"context"
	"encoding/json"

	"github.com/spf13/cobra"
)

func newCustomerDataCommand(a *adminCommands) *cobra.Command {
	return a.leaf("customer-data CUSTOMER_ID",
		"Everything the server stores about a customer, as JSON (answer a Shopify customers/data_request)",
		cobra.ExactArgs(1), func(ctx context.Context, s *session, a []string) error {
			raw, err := s.client.CustomerData(ctx, a[0])
			if err != nil {
				return err
			}
			var v any
			if err := json.Unmarshal(raw, &v); err != nil {
				return err
			}
			return s.printJSON(v)
		})
}
