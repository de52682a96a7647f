package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tari-payment/tps/core/tari"
)

// Shared helpers of the offline signing commands (address, token, memo,
// payment, confirm). Other command files may reuse them: keyFlags turns
// --seckey/--network into a key and its address, and the parse* functions
// give input errors that name the flag and say what is wrong.

// secKeyEnv lets scripts keep the secret off the command line (and out of
// `ps` and shell history).
const secKeyEnv = "TARITOOLS_SECKEY"

// keyFlags is the -s/--seckey, -n/--network pair.
type keyFlags struct {
	seckey  string
	network string
}

// addKeyFlags registers -s/--seckey and -n/--network on c.
func addKeyFlags(c *cobra.Command, k *keyFlags) {
	c.Flags().StringVarP(&k.seckey, "seckey", "s", "", "secret key, 64 hex characters (default $"+secKeyEnv+")")
	addNetworkFlag(c, &k.network)
}

// addNetworkFlag registers -n/--network on c.
func addNetworkFlag(c *cobra.Command, n *string) {
	c.Flags().StringVarP(n, "network", "n", "mainnet", "network: mainnet, stagenet, nextnet, localnet, igor or esmeralda")
}

// resolve parses the flags into the secret key and the default (single,
// features 0x03) address of its public key on the chosen network.
func (k *keyFlags) resolve() (tari.SecretKey, tari.Address, error) {
	n, err := parseNetworkFlag(k.network)
	if err != nil {
		return tari.SecretKey{}, tari.Address{}, err
	}
	text := k.seckey
	if text == "" {
		text = os.Getenv(secKeyEnv)
	}
	if text == "" {
		return tari.SecretKey{}, tari.Address{}, errors.New("--seckey: missing (pass the 64-hex-character secret key, or set " + secKeyEnv + ")")
	}
	sk, err := parseSecKeyFlag(text)
	if err != nil {
		return tari.SecretKey{}, tari.Address{}, err
	}
	return sk, tari.NewAddress(n, sk.PublicKey()), nil
}

// parseSecKeyFlag reads a secret key; the error never echoes the input.
func parseSecKeyFlag(s string) (tari.SecretKey, error) {
	k, err := tari.ParseSecretKey(s)
	switch {
	case errors.Is(err, tari.ErrKeyFormat):
		return k, errors.New("--seckey: not 64 hex characters")
	case errors.Is(err, tari.ErrNonCanonical):
		return k, errors.New("--seckey: not a valid secret key (the value must be below the group order)")
	case err != nil:
		return k, fmt.Errorf("--seckey: %v", err)
	}
	if k.IsZero() {
		return k, errors.New("--seckey: the zero key cannot sign")
	}
	return k, nil
}

// parseNetworkFlag reads --network.
func parseNetworkFlag(s string) (tari.Network, error) {
	n, err := tari.ParseNetwork(s)
	if err != nil {
		return 0, fmt.Errorf("--network: unknown network %q (want mainnet, stagenet, nextnet, localnet, igor or esmeralda)", s)
	}
	return n, nil
}

// parseAddressFlag reads an address in any form for the named flag.
func parseAddressFlag(flag, s string) (tari.Address, error) {
	if strings.TrimSpace(s) == "" {
		return tari.Address{}, fmt.Errorf("--%s: missing address", flag)
	}
	a, err := tari.ParseAddress(s)
	if err != nil {
		return tari.Address{}, fmt.Errorf("--%s: not a Tari address (%v)", flag, err)
	}
	return a, nil
}

// parseRolesFlag reads a comma-separated role list ("" → no roles).
func parseRolesFlag(s string) ([]string, error) {
	roles := []string{}
	for _, r := range strings.Split(s, ",") {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		if !tari.ValidRole(r) {
			return nil, fmt.Errorf("--roles: unknown role %q (want user, read_all, write, payment_wallet or super_admin)", r)
		}
		roles = append(roles, r)
	}
	return roles, nil
}

// parseNonceFlag reads --nonce, defaulting to def when the flag is unset.
func parseNonceFlag(c *cobra.Command, s string, def int64) (int64, error) {
	if !c.Flags().Changed("nonce") {
		return def, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("--nonce: %q is not a non-negative integer", s)
	}
	return n, nil
}

// requireFlag fails with a clear message when a required text flag is empty.
func requireFlag(name, v string) error {
	if v == "" {
		return fmt.Errorf("--%s: missing", name)
	}
	return nil
}

// emit prints v as one line of compact JSON with --json, else the human text.
func emit(c *cobra.Command, asJSON bool, v any, human func(w io.Writer)) error {
	w := c.OutOrStdout()
	if asJSON {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	human(w)
	return nil
}

// nowMillis and nowSeconds are the default nonces (taritools' convention:
// wallet notifications in milliseconds, logins in seconds).
func nowMillis() int64  { return time.Now().UnixMilli() }
func nowSeconds() int64 { return time.Now().Unix() }
