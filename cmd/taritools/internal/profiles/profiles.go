// Package profiles keeps taritools' named identities: a signing key (a secret
// key, a wallet's seed words, or the name of an environment variable holding
// a key), a network, a server URL and the roles to ask for at login. They live
// in one JSON file under the user's config directory (TARITOOLS_CONFIG
// overrides its path), written with owner-only permissions. Cached access
// tokens live beside it in tokens.json, also owner-only.
package profiles

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tari-payment/tps/core/tari"
	"github.com/tari-payment/tps/core/tari/seedwords"
)

// EnvConfig overrides the profiles file path.
const EnvConfig = "TARITOOLS_CONFIG"

// DefaultServer is the server URL a new profile gets when none is given.
const DefaultServer = "http://127.0.0.1:8360"

// Profile is one identity.
type Profile struct {
	Name    string `json:"name"`
	Network string `json:"network"`
	Server  string `json:"server"`
	// Exactly one of the three key sources is set.
	SecretKey    string `json:"secret_key,omitempty"`
	SeedWords    string `json:"seed_words,omitempty"`
	SecretKeyEnv string `json:"secret_key_env,omitempty"`
	// Roles asked for at login (default: user).
	Roles []string `json:"roles,omitempty"`
	// Address is the profile's address (base58), kept so listing needs no
	// key derivation; it is recomputed and checked when the key is loaded.
	Address string `json:"address"`
}

// File is the whole profiles file.
type File struct {
	Default  string    `json:"default,omitempty"`
	Profiles []Profile `json:"profiles"`
}

// ErrNotFound is returned for an unknown profile name.
var ErrNotFound = errors.New("profile not found")

// Path is the profiles file: $TARITOOLS_CONFIG, else
// <user config dir>/taritools/profiles.json.
func Path() (string, error) {
	if p := os.Getenv(EnvConfig); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("cannot find a config directory (set %s to a file path): %w", EnvConfig, err)
	}
	return filepath.Join(dir, "taritools", "profiles.json"), nil
}

// Load reads the profiles file; a missing file is an empty one.
func Load() (*File, error) {
	p, err := Path()
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return &File{}, nil
	}
	if err != nil {
		return nil, err
	}
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s is not a valid profiles file: %w", p, err)
	}
	return &f, nil
}

// writePrivate writes data atomically with mode 0600 in a 0700 directory.
func writePrivate(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Save writes the file with owner-only permissions.
func (f *File) Save() error {
	p, err := Path()
	if err != nil {
		return err
	}
	sort.Slice(f.Profiles, func(i, j int) bool { return f.Profiles[i].Name < f.Profiles[j].Name })
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return writePrivate(p, append(b, '\n'))
}

// Get finds a profile by name; an empty name means the default profile (or
// the only one).
func (f *File) Get(name string) (*Profile, error) {
	if name == "" {
		name = f.Default
		if name == "" && len(f.Profiles) == 1 {
			name = f.Profiles[0].Name
		}
		if name == "" {
			return nil, fmt.Errorf("%w: no profile given and no default set", ErrNotFound)
		}
	}
	for i := range f.Profiles {
		if f.Profiles[i].Name == name {
			return &f.Profiles[i], nil
		}
	}
	return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
}

// Put adds or replaces a profile after checking its key and settings.
func (f *File) Put(p Profile) error {
	if strings.TrimSpace(p.Name) == "" {
		return errors.New("a profile needs a name")
	}
	if p.Server == "" {
		p.Server = DefaultServer
	}
	p.Server = strings.TrimRight(p.Server, "/")
	if !strings.HasPrefix(p.Server, "http://") && !strings.HasPrefix(p.Server, "https://") {
		return fmt.Errorf("server %q must start with http:// or https://", p.Server)
	}
	if p.Network == "" {
		p.Network = "mainnet"
	}
	n, err := tari.ParseNetwork(p.Network)
	if err != nil {
		return fmt.Errorf("network %q: %w", p.Network, err)
	}
	p.Network = n.String()
	for _, r := range p.Roles {
		if !tari.ValidRole(r) {
			return fmt.Errorf("unknown role %q (roles: user, read_all, write, payment_wallet, super_admin)", r)
		}
	}
	id, err := p.identity(false)
	if err != nil {
		return err
	}
	p.Address = id.Address.Base58()
	for i := range f.Profiles {
		if f.Profiles[i].Name == p.Name {
			f.Profiles[i] = p
			return nil
		}
	}
	f.Profiles = append(f.Profiles, p)
	if f.Default == "" {
		f.Default = p.Name
	}
	return nil
}

// Remove deletes a profile.
func (f *File) Remove(name string) error {
	i := slices.IndexFunc(f.Profiles, func(p Profile) bool { return p.Name == name })
	if i < 0 {
		return fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	f.Profiles = slices.Delete(f.Profiles, i, i+1)
	if f.Default == name {
		f.Default = ""
	}
	return nil
}

// Identity is a profile's resolved key and address.
type Identity struct {
	Key     tari.SecretKey
	Address tari.Address
}

// Identity resolves the profile's key: a secret key gives a single address,
// seed words the wallet's dual address (as the reference taritools does).
func (p *Profile) Identity() (Identity, error) { return p.identity(true) }

func (p *Profile) identity(checkStored bool) (Identity, error) {
	n, err := tari.ParseNetwork(p.Network)
	if err != nil {
		return Identity{}, fmt.Errorf("profile %q: network %q: %w", p.Name, p.Network, err)
	}
	sources := 0
	for _, s := range []string{p.SecretKey, p.SeedWords, p.SecretKeyEnv} {
		if s != "" {
			sources++
		}
	}
	if sources != 1 {
		return Identity{}, fmt.Errorf("profile %q needs exactly one of a secret key, seed words or a key environment variable", p.Name)
	}
	var id Identity
	switch {
	case p.SeedWords != "":
		cs, err := seedwords.FromMnemonic(p.SeedWords, nil)
		if err != nil {
			return Identity{}, fmt.Errorf("profile %q: seed words: %w", p.Name, err)
		}
		spend, view := cs.SpendKey(), cs.ViewKey()
		if id.Key, err = tari.ParseSecretKey(hex.EncodeToString(spend[:])); err != nil {
			return Identity{}, err
		}
		vk, err := tari.ParseSecretKey(hex.EncodeToString(view[:]))
		if err != nil {
			return Identity{}, err
		}
		id.Address = tari.NewDualAddress(n, vk.PublicKey(), id.Key.PublicKey())
	default:
		text := p.SecretKey
		if p.SecretKeyEnv != "" {
			text = os.Getenv(p.SecretKeyEnv)
			if text == "" {
				return Identity{}, fmt.Errorf("profile %q reads its key from $%s, which is not set", p.Name, p.SecretKeyEnv)
			}
		}
		if id.Key, err = tari.ParseSecretKey(strings.TrimSpace(text)); err != nil {
			return Identity{}, fmt.Errorf("profile %q: secret key: %w", p.Name, err)
		}
		id.Address = tari.NewAddress(n, id.Key.PublicKey())
	}
	if checkStored && p.SecretKeyEnv == "" && p.Address != "" && p.Address != id.Address.Base58() {
		return Identity{}, fmt.Errorf("profile %q: stored address %s does not match its key", p.Name, p.Address)
	}
	return id, nil
}

// KeySource describes where the key comes from, without revealing it.
func (p *Profile) KeySource() string {
	switch {
	case p.SeedWords != "":
		return "seed words"
	case p.SecretKeyEnv != "":
		return "$" + p.SecretKeyEnv
	default:
		return "secret key"
	}
}

// RolesOrDefault is the roles to ask for at login.
func (p *Profile) RolesOrDefault() []string {
	if len(p.Roles) == 0 {
		return []string{"user"}
	}
	return p.Roles
}

// ---- token cache ----

type tokenEntry struct {
	Server    string    `json:"server"`
	Address   string    `json:"address"`
	Roles     []string  `json:"roles"`
	Token     string    `json:"token,omitempty"`
	Expires   time.Time `json:"expires,omitzero"`
	LastNonce uint64    `json:"last_nonce,omitempty"`
}

// TokenCache is a client.TokenCache backed by tokens.json next to the
// profiles file. A cached token is used only for the same server, address and
// roles it was issued for.
type TokenCache struct {
	profile string
	want    tokenEntry
}

// NewTokenCache returns the cache for a profile.
func NewTokenCache(p *Profile) *TokenCache {
	return &TokenCache{profile: p.Name, want: tokenEntry{Server: p.Server, Address: p.Address, Roles: p.RolesOrDefault()}}
}

func tokensPath() (string, error) {
	p, err := Path()
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(p), "tokens.json"), nil
}

func loadTokens() map[string]tokenEntry {
	m := map[string]tokenEntry{}
	p, err := tokensPath()
	if err != nil {
		return m
	}
	if b, err := os.ReadFile(p); err == nil {
		_ = json.Unmarshal(b, &m) // a corrupt cache is just an empty one
	}
	return m
}

func saveTokens(m map[string]tokenEntry) {
	p, err := tokensPath()
	if err != nil {
		return
	}
	if b, err := json.MarshalIndent(m, "", "  "); err == nil {
		_ = writePrivate(p, b) // caching is best effort
	}
}

func (c *TokenCache) entry() (tokenEntry, bool) {
	e, ok := loadTokens()[c.profile]
	if !ok || e.Server != c.want.Server || e.Address != c.want.Address || !slices.Equal(e.Roles, c.want.Roles) {
		return tokenEntry{}, false
	}
	return e, true
}

// Load returns the cached token if it matches the profile.
func (c *TokenCache) Load() (string, time.Time, bool) {
	e, ok := c.entry()
	if !ok || e.Token == "" {
		return "", time.Time{}, false
	}
	return e.Token, e.Expires, true
}

// Store caches a token ("" forgets it).
func (c *TokenCache) Store(token string, expires time.Time) {
	m := loadTokens()
	e := m[c.profile]
	last := e.LastNonce
	e = c.want
	e.Token, e.Expires, e.LastNonce = token, expires, last
	m[c.profile] = e
	saveTokens(m)
}

// ForgetToken drops a profile's cached access token (its nonce record stays,
// so a profile re-created under the same name keeps counting upwards).
func ForgetToken(name string) {
	m := loadTokens()
	if e, ok := m[name]; ok {
		e.Token, e.Expires = "", time.Time{}
		m[name] = e
		saveTokens(m)
	}
}

// LastNonce is the last nonce used with this profile.
func (c *TokenCache) LastNonce() uint64 {
	return loadTokens()[c.profile].LastNonce
}

// SetLastNonce records the last nonce used.
func (c *TokenCache) SetLastNonce(n uint64) {
	m := loadTokens()
	e := m[c.profile]
	if e.Server != c.want.Server || e.Address != c.want.Address || !slices.Equal(e.Roles, c.want.Roles) {
		e.Server, e.Address, e.Roles, e.Token, e.Expires = c.want.Server, c.want.Address, c.want.Roles, "", time.Time{}
	}
	e.LastNonce = max(e.LastNonce, n)
	m[c.profile] = e
	saveTokens(m)
}

// NextNonce hands out a nonce strictly above every nonce this profile used
// before and at least now (Unix milliseconds), under a file lock so
// concurrent taritools processes never share one. Login tokens and wallet
// notifications both use it: each only needs its own sequence to increase.
func (c *TokenCache) NextNonce(now uint64) uint64 {
	if p, err := tokensPath(); err == nil {
		if unlock, err := lockFile(p + ".lock"); err == nil {
			defer unlock()
		}
	}
	n := now
	if last := c.LastNonce(); n <= last {
		n = last + 1
	}
	c.SetLastNonce(n)
	return n
}
