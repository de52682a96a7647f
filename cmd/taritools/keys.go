package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tari-payment/tps/cmd/taritools/internal/profiles"
	"github.com/tari-payment/tps/core/tari"
)

// Shared helpers of the offline signing commands (address, token, memo,
// payment, confirm). Other command files may reuse them: keyFlags turns
// --seckey/--network into a key and its address, and the parse* functions
// give input errors that name the flag and say what is wrong.

// secKeyEnv lets scripts keep the secret off the command line (and out of
// `ps` and shell history).
const secKeyEnv = "TARITOOLS_SECKEY"

// keyFlags are the ways a signing command gets its key, safest first:
// -p/--profile (a stored profile's key and network), --seckey-stdin or
// "-s -" (a line on standard input), $TARITOOLS_SECKEY, and -s/--seckey HEX,
// which still works but is visible to every user in `ps`.
type keyFlags struct {
	seckey  string
	profile string
	stdin   bool
	network string
}

// addKeyFlags registers the key flags and -n/--network on c.
func addKeyFlags(c *cobra.Command, k *keyFlags) {
	f := c.Flags()
	f.StringVarP(&k.profile, "profile", "p", "", "sign with this profile's key, on its network")
	f.BoolVar(&k.stdin, "seckey-stdin", false, "read the secret key (64 hex) from standard input")
	f.StringVarP(&k.seckey, "seckey", "s", "", "secret key, 64 hex characters; visible to other users in ps, prefer -p, --seckey-stdin or $"+secKeyEnv+` ("-" reads standard input)`)
	c.MarkFlagsMutuallyExclusive("profile", "seckey", "seckey-stdin")
	addNetworkFlag(c, &k.network)
}

// addNetworkFlag registers -n/--network on c.
func addNetworkFlag(c *cobra.Command, n *string) {
	c.Flags().StringVarP(n, "network", "n", "mainnet", "network: mainnet, stagenet, nextnet, localnet, igor or esmeralda")
}

// seckeyOnCommandLineWarning is printed (to standard error) when -s carries
// the key itself.
const seckeyOnCommandLineWarning = "warning: --seckey puts the secret key on the command line, where every user of this machine can read it (ps) and your shell history keeps it; use --profile NAME, --seckey-stdin or $" + secKeyEnv + " instead\n"

// resolve turns the flags into the secret key and the address to sign as:
// a profile's own address, else the default (single, features 0x03)
// address of the key on the chosen network.
func (k *keyFlags) resolve(c *cobra.Command) (tari.SecretKey, tari.Address, error) {
	if k.profile != "" {
		f, err := profiles.Load()
		if err != nil {
			return tari.SecretKey{}, tari.Address{}, err
		}
		p, err := f.Get(k.profile)
		if err != nil {
			return tari.SecretKey{}, tari.Address{}, missingProfileError(err, k.profile, f)
		}
		if c.Flags().Changed("network") && !strings.EqualFold(k.network, p.Network) {
			return tari.SecretKey{}, tari.Address{}, fmt.Errorf("--network %s: profile %q is on %s", k.network, p.Name, p.Network)
		}
		id, err := p.Identity()
		if err != nil {
			return tari.SecretKey{}, tari.Address{}, err
		}
		return id.Key, id.Address, nil
	}
	n, err := parseNetworkFlag(k.network)
	if err != nil {
		return tari.SecretKey{}, tari.Address{}, err
	}
	text := k.seckey
	switch {
	case k.stdin || text == "-":
		if text, err = readLine(c.InOrStdin()); err != nil {
			return tari.SecretKey{}, tari.Address{}, fmt.Errorf("--seckey-stdin: %w", err)
		}
	case text != "":
		fmt.Fprint(c.ErrOrStderr(), seckeyOnCommandLineWarning)
	default:
		text = os.Getenv(secKeyEnv)
	}
	if text == "" {
		return tari.SecretKey{}, tari.Address{}, errors.New("--seckey: missing (use --profile NAME, --seckey-stdin with the 64-hex-character key on standard input, or set " + secKeyEnv + ")")
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

// nowMillis and nowSeconds are the default nonces (taritools' convention:
// wallet notifications in milliseconds, logins in seconds).
func nowMillis() int64  { return time.Now().UnixMilli() }
func nowSeconds() int64 { return time.Now().Unix() }
