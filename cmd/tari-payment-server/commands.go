package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/tari-payment/tps/core/config"
	"github.com/tari-payment/tps/internal/version"
)

const programName = "tari-payment-server"

// healthcheckTimeout bounds the whole `healthcheck` request.
const healthcheckTimeout = 5 * time.Second

// command runs the one-shot commands the server takes as arguments (the
// server itself takes none): help, version and healthcheck.
func command(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	switch args[0] {
	case "-h", "-help", "--help", "help":
		printHelp(stdout, getenv)
		return nil
	case "-version", "--version", "version":
		fmt.Fprintln(stdout, version.Get().String(programName))
		return nil
	case "healthcheck":
		return healthcheck(ctx, getenv, stdout)
	}
	return fmt.Errorf("unknown argument %q: the server is configured with TPG_* variables; see %s --help", args[0], programName)
}

// healthcheck GETs /health on the address the configuration listens on, for
// container HEALTHCHECKs and service monitors on images without curl. A
// wildcard listen address (0.0.0.0, ::) is probed on loopback.
func healthcheck(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("healthcheck: invalid configuration:\n%w", err)
	}
	url := "http://" + probeAddr(cfg.Host, cfg.Port) + "/health"
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: GET %s: %s", url, resp.Status)
	}
	fmt.Fprintf(stdout, "healthy: GET %s: %s\n", url, resp.Status)
	return nil
}

func probeAddr(host string, port int) string {
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		if ip != nil && ip.To4() == nil {
			host = "::1"
		} else {
			host = "127.0.0.1"
		}
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// printHelp lists the commands and every TPG_* variable from config.Vars,
// with its default, its meaning and, when set, its current value (secrets
// only as "set").
func printHelp(w io.Writer, getenv func(string) string) {
	fmt.Fprintf(w, `%[1]s: accept Tari payments for a Shopify store.

Usage:
  %[1]s               run the server until SIGINT or SIGTERM
  %[1]s healthcheck   GET /health on the configured address; exit status 0 when healthy
  %[1]s --version     print the version and commit
  %[1]s --help        print this help

Configuration: TPG_* environment variables, or a .env file in the working
directory (real environment variables win). Booleans take 1/0, true/false,
yes/no, on/off. A plugin reads its settings from %[2]s<ID>_<KEY>.
README.md and docs/operations.md say more.
`, programName, config.PluginVarPrefix)
	for _, g := range config.Vars {
		fmt.Fprintf(w, "\n%s\n", g.Title)
		for _, v := range g.Vars {
			def := "unset"
			if v.Default != "" {
				def = v.Default
			}
			line := fmt.Sprintf("  %s (default: %s)", v.Name, def)
			if cur := getenv(v.Name); cur != "" {
				switch {
				case v.Secret:
					cur = "set"
				case v.Name == "TPG_DATABASE_URL":
					cur = config.RedactURL(cur)
				}
				line += " now: " + cur
			}
			fmt.Fprintf(w, "%s\n      %s\n", line, v.Help)
		}
	}
}
