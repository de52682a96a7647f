package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tari-payment/tps/cmd/taritools/internal/profiles"
)

// profileAddOpts are the flags of `taritools profile add`.
type profileAddOpts struct {
	name, network, server, secretKey, secretKeyEnv, seedWords string
	seedStdin, makeDefault, force                             bool
	roles                                                     []string
}

func newProfileCommand() *cobra.Command {
	var profileJSON bool
	profileCmd := &cobra.Command{
		Use:   "profile",
		Short: "Manage named profiles (key or seed words, network, server URL, roles)",
		Long: `Profiles are kept in ` + "`<config dir>/taritools/profiles.json`" + ` (or $TARITOOLS_CONFIG),
readable only by you. Secrets are never printed unless you ask with --reveal.`,
	}
	var add profileAddOpts
	addCmd := &cobra.Command{
		Use:   "add",
		Short: "Add or replace a profile",
		Example: `  taritools profile add --name "TPS Hot Wallet" --secret-key 64HEX --server http://127.0.0.1:8360
  taritools profile add --name me --seed-words "park bridge era ..." --network mainnet
  echo "$WORDS" | taritools profile add --name me --seed-words-stdin
  taritools profile add --name admin --secret-key-env TPS_ADMIN_KEY --roles user,read_all,write`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if add.seedStdin {
				w, err := readLine(c.InOrStdin())
				if err != nil {
					return err
				}
				add.seedWords = w
			}
			if (add.secretKey != "" && add.secretKey != "-") || add.seedWords != "" {
				fmt.Fprintln(c.ErrOrStderr(), "warning: a secret on the command line is readable by every user of this machine (ps) and stays in your shell history; prefer --secret-key - or --seed-words-stdin (standard input), or --secret-key-env")
			}
			if add.secretKey == "-" { // keeps the key out of shell history and ps
				k, err := readLine(c.InOrStdin())
				if err != nil {
					return err
				}
				add.secretKey = k
			}
			p := profiles.Profile{Name: add.name, Network: add.network, Server: add.server, SecretKey: add.secretKey,
				SecretKeyEnv: add.secretKeyEnv, SeedWords: strings.Join(strings.Fields(add.seedWords), " "), Roles: add.roles}
			return saveProfileOpts(newPrinter(c), p, add.makeDefault, add.force)
		},
	}
	f := addCmd.Flags()
	f.StringVar(&add.name, "name", "", "profile name (required)")
	f.StringVarP(&add.network, "network", "n", "mainnet", "network: mainnet, stagenet, nextnet, esmeralda, igor, localnet")
	f.StringVarP(&add.server, "server", "u", profiles.DefaultServer, "payment server URL")
	f.StringVarP(&add.secretKey, "secret-key", "s", "", "secret key (64 hex); \"-\" reads it from standard input")
	f.StringVar(&add.secretKeyEnv, "secret-key-env", "", "read the secret key from this environment variable at run time")
	f.StringVar(&add.seedWords, "seed-words", "", "the wallet's 24 seed words")
	f.BoolVar(&add.seedStdin, "seed-words-stdin", false, "read the seed words from standard input (keeps them out of shell history)")
	f.StringSliceVarP(&add.roles, "roles", "r", nil, "roles to ask for at login (default user), e.g. user,read_all,write")
	f.BoolVar(&add.makeDefault, "default", false, "make this the default profile")
	f.BoolVar(&add.force, "force", false, "replace an existing profile of the same name")
	_ = addCmd.MarkFlagRequired("name")

	listCmd := &cobra.Command{
		Use:   "list",
		Short: "List profiles (no secrets)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			f, err := profiles.Load()
			if err != nil {
				return err
			}
			return listProfiles(c.OutOrStdout(), f, profileJSON)
		},
	}

	var reveal bool
	showCmd := &cobra.Command{
		Use:   "show [NAME]",
		Short: "Show one profile (secrets only with --reveal)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			f, err := profiles.Load()
			if err != nil {
				return err
			}
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			p, err := f.Get(name)
			if err != nil {
				return missingProfileError(err, name, f)
			}
			return showProfile(c.OutOrStdout(), p, name == "" || p.Name == f.Default, reveal, profileJSON)
		},
	}
	showCmd.Flags().BoolVar(&reveal, "reveal", false, "also print the secret key and seed words")

	removeCmd := &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a profile",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			f, err := profiles.Load()
			if err != nil {
				return err
			}
			if err := f.Remove(args[0]); err != nil {
				return missingProfileError(err, args[0], f)
			}
			if err := f.Save(); err != nil {
				return err
			}
			profiles.ForgetToken(args[0])
			return emit(c, map[string]any{"name": args[0], "removed": true}, func(w io.Writer) { fmt.Fprintf(w, "Removed profile %q.\n", args[0]) })
		},
	}

	defaultCmd := &cobra.Command{
		Use:   "default [NAME]",
		Short: "Show or set the default profile",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			f, err := profiles.Load()
			if err != nil {
				return err
			}
			if len(args) == 0 {
				if f.Default == "" {
					return errors.New("no default profile; set one with: taritools profile default NAME")
				}
				return emit(c, map[string]string{"default": f.Default}, func(w io.Writer) { fmt.Fprintln(w, f.Default) })
			}
			if _, err := f.Get(args[0]); err != nil {
				return missingProfileError(err, args[0], f)
			}
			f.Default = args[0]
			if err := f.Save(); err != nil {
				return err
			}
			return emit(c, map[string]string{"default": args[0]}, func(w io.Writer) { fmt.Fprintf(w, "Default profile is now %q.\n", args[0]) })
		},
	}

	profileCmd.PersistentFlags().BoolVar(&profileJSON, "json", false, "print JSON")
	profileCmd.AddCommand(addCmd, listCmd, showCmd, removeCmd, defaultCmd)
	return profileCmd
}

func readLine(r io.Reader) (string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 1<<20)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return "", err
		}
		return "", errors.New("nothing on standard input")
	}
	return strings.TrimSpace(sc.Text()), nil
}

// saveProfile validates, stores and reports a new profile (without secrets).
func saveProfile(out io.Writer, p profiles.Profile, makeDefault bool) error {
	return saveProfileOpts(printer{out: out}, p, makeDefault, false)
}

func saveProfileOpts(pr printer, p profiles.Profile, makeDefault, replace bool) error {
	f, err := profiles.Load()
	if err != nil {
		return err
	}
	if _, err := f.Get(p.Name); err == nil && !replace && p.Name != "" {
		return fmt.Errorf("profile %q already exists; add --force to replace it (its key would be lost)", p.Name)
	}
	if err := f.Put(p); err != nil {
		return err
	}
	if makeDefault {
		f.Default = p.Name
	}
	if err := f.Save(); err != nil {
		return err
	}
	saved, _ := f.Get(p.Name)
	path, _ := profiles.Path()
	return pr.result(viewOf(saved, saved.Name == f.Default), func(out io.Writer) {
		fmt.Fprintf(out, "Saved profile %q (%s, %s) to %s\nAddress: %s\n", saved.Name, saved.Network, saved.KeySource(), path, saved.Address)
	})
}

type profileView struct {
	Name      string   `json:"name"`
	Default   bool     `json:"default"`
	Network   string   `json:"network"`
	Server    string   `json:"server"`
	Address   string   `json:"address"`
	Key       string   `json:"key_source"`
	Roles     []string `json:"roles"`
	SecretKey string   `json:"secret_key,omitempty"`
	SeedWords string   `json:"seed_words,omitempty"`
}

func viewOf(p *profiles.Profile, isDefault bool) profileView {
	return profileView{Name: p.Name, Default: isDefault, Network: p.Network, Server: p.Server, Address: p.Address,
		Key: p.KeySource(), Roles: p.RolesOrDefault()}
}

func listProfiles(out io.Writer, f *profiles.File, asJSON bool) error {
	views := []profileView{}
	for i := range f.Profiles {
		views = append(views, viewOf(&f.Profiles[i], f.Profiles[i].Name == f.Default))
	}
	if asJSON {
		return (&session{out: out}).printJSON(views)
	}
	if len(views) == 0 {
		fmt.Fprintln(out, "No profiles yet. Add one with: taritools profile add --name NAME --secret-key HEX (or --seed-words \"...\")")
		return nil
	}
	t := newTextTable(out, "", "NAME", "NETWORK", "SERVER", "KEY", "ROLES", "ADDRESS")
	for _, v := range views {
		mark := ""
		if v.Default {
			mark = "*"
		}
		t.row(mark, v.Name, v.Network, v.Server, v.Key, strings.Join(v.Roles, ","), v.Address)
	}
	t.flush()
	return nil
}

func showProfile(out io.Writer, p *profiles.Profile, isDefault, reveal, asJSON bool) error {
	v := viewOf(p, isDefault)
	if reveal {
		v.SecretKey = p.SecretKey
		v.SeedWords = p.SeedWords
		if p.SeedWords != "" || p.SecretKeyEnv != "" {
			id, err := p.Identity()
			if err != nil {
				return err
			}
			v.SecretKey = id.Key.Hex()
		}
	}
	if asJSON {
		return (&session{out: out}).printJSON(v)
	}
	fmt.Fprintf(out, "Name:     %s\nDefault:  %v\nNetwork:  %s\nServer:   %s\nKey:      %s\nRoles:    %s\nAddress:  %s\n",
		v.Name, v.Default, v.Network, v.Server, v.Key, strings.Join(v.Roles, ","), v.Address)
	if reveal {
		fmt.Fprintf(out, "Secret:   %s\n", v.SecretKey)
		if v.SeedWords != "" {
			fmt.Fprintf(out, "Seed:     %s\n", v.SeedWords)
		}
	} else {
		fmt.Fprintln(out, "(secrets hidden; use --reveal to print them)")
	}
	return nil
}
