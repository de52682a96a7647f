package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/core/config"
	"github.com/tari-payment/tps/core/engine"
	"github.com/tari-payment/tps/core/store"
	"github.com/tari-payment/tps/core/tari"
)

func redactedDBURL() string { return config.RedactURL(databaseURL()) }

func newSetupCommand() *cobra.Command {
	setup := &cobra.Command{
		Use:   "setup",
		Short: "Server setup on TPG_DATABASE_URL: bootstrap users and roles",
	}
	var address, roles string
	addUser := &cobra.Command{
		Use:   "add-user",
		Short: "Give an address roles directly in the database (bootstrap of the first super_admin)",
		Example: "  taritools setup add-user --address 14wqR3rjyVbjgXDyLVaL97p3CksHc84cz9hLLMMTMYDjtBt --roles super_admin\n" +
			"  taritools setup add-user -a <emoji, base58 or hex address> -r read_all,write",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			addr, err := tari.ParseAddress(address)
			if err != nil {
				return fmt.Errorf("--address: %w", err)
			}
			var rs []core.Role
			for _, name := range strings.Split(roles, ",") {
				name = strings.TrimSpace(name)
				if name == "" {
					continue
				}
				r, ok := core.ParseRole(name)
				if !ok {
					return fmt.Errorf("--roles: unknown role %q (user, read_all, write, payment_wallet, super_admin)", name)
				}
				rs = append(rs, r)
			}
			if len(rs) == 0 {
				return fmt.Errorf("--roles: give at least one role")
			}
			d, err := store.Open(cmd.Context(), databaseURL())
			if err != nil {
				return fmt.Errorf("opening %s: %w", redactedDBURL(), err)
			}
			defer d.Close()
			eng := engine.New(d, engine.DefaultConfig())
			if err := eng.AssignRoles(cmd.Context(), addr, rs, nil); err != nil {
				return err
			}
			have, err := eng.RolesForAddress(cmd.Context(), addr)
			if err != nil {
				return err
			}
			names := make([]string, len(have))
			for i, r := range have {
				names[i] = string(r)
			}
			return emit(cmd, map[string]any{"address": addr.Base58(), "roles": names}, func(w io.Writer) {
				fmt.Fprintf(w, "%s now has roles: %s\n", addr.Base58(), strings.Join(names, ", "))
			})
		},
	}
	addUser.Flags().StringVarP(&address, "address", "a", "", "Tari address (emoji, base58 or hex)")
	addUser.Flags().StringVarP(&roles, "roles", "r", "", "comma-separated roles: user, read_all, write, payment_wallet, super_admin")
	_ = addUser.MarkFlagRequired("address")
	_ = addUser.MarkFlagRequired("roles")
	setup.AddCommand(addUser)
	// The reference spells the migration "taritools setup migrate".
	setup.AddCommand(migrateCommand())
	return setup
}
