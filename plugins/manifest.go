package plugins

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/tari-payment/tps/core"
)

// ABIVersion is the plugin ABI this host implements (module tari_v1).
const ABIVersion = 1

// Manifest describes a plugin; it is the JSON file next to the .wasm.
type Manifest struct {
	ID          string   `json:"id"`
	Version     string   `json:"version"`
	ABI         int      `json:"abi"`
	Description string   `json:"description,omitempty"`
	Events      []string `json:"events"`                     // event types, or "*" for all
	HTTP        []string `json:"http,omitempty"`             // granted hosts: "api.example.com", "*.myshopify.com", "127.0.0.1:8080"
	HTTPFrom    []string `json:"http_from_config,omitempty"` // config keys whose URL (or host) values are granted too
	Env         []string `json:"env,omitempty"`              // whole TPG_* variables readable; honoured for shipped plugins only
	Requires    []string `json:"requires,omitempty"`         // config keys that must be set; "A|B" means either
	Routes      []Route  `json:"routes,omitempty"`           // pages and endpoints under /plugins/{id}/ (routes.go)
	Limits      Limits   `json:"limits"`
	Wasm        string   `json:"wasm,omitempty"`   // module file, relative to the manifest
	SHA256      string   `json:"sha256,omitempty"` // optional hex digest of the module

	Schedule *Schedule `json:"schedule,omitempty"` // a Tick event every period (schedule.go)
	Actions  []string  `json:"actions,omitempty"`  // engine operations granted (actions.go): "rates:write", "orders:read", …
}

// Limits bound one plugin's resources.
type Limits struct {
	MemoryPages      uint32 `json:"memory_pages,omitempty"`       // 64 KiB pages; default 256 (16 MiB)
	TimeoutMS        int    `json:"timeout_ms,omitempty"`         // per event; default 10000
	HTTPTimeoutMS    int    `json:"http_timeout_ms,omitempty"`    // per request; default 10000 (never past the event deadline)
	MaxResponseBytes int    `json:"max_response_bytes,omitempty"` // HTTP response cap; default 1 MiB
}

const (
	defaultMemoryPages = 256
	maxMemoryPages     = 16384 // 1 GiB
	defaultTimeout     = 10000
	maxTimeout         = 60000
	defaultHTTPTimeout = 10000
	defaultMaxResponse = 1 << 20
	maxResponseCap     = 16 << 20
)

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// validate checks a manifest and fills in defaults.
func (m *Manifest) validate() error {
	if !idPattern.MatchString(m.ID) {
		return fmt.Errorf("manifest: id %q must be lower-case letters, digits and '-' (at most 63)", m.ID)
	}
	if m.ABI != ABIVersion {
		return fmt.Errorf("manifest: plugin %s is built for ABI version %d, this server supports version %d", m.ID, m.ABI, ABIVersion)
	}
	if err := m.validateScheduleAndActions(); err != nil {
		return err
	}
	if len(m.Events) == 0 && m.Schedule == nil {
		return fmt.Errorf("manifest: plugin %s subscribes to no events (use [\"*\"] for all)", m.ID)
	}
	for _, e := range m.Events {
		if e != "*" && !slices.Contains(core.AllEventTypes, core.EventType(e)) {
			return fmt.Errorf("manifest: plugin %s: unknown event type %q", m.ID, e)
		}
	}
	for _, h := range m.HTTP {
		if h == "" || strings.ContainsAny(h, "/ ") {
			return fmt.Errorf("manifest: plugin %s: http grant %q must be a host name (optionally *.domain or host:port)", m.ID, h)
		}
	}
	for _, e := range m.Env {
		if !strings.HasPrefix(e, "TPG_") {
			return fmt.Errorf("manifest: plugin %s: env %q must be a TPG_* variable", m.ID, e)
		}
	}
	if err := m.validateRoutes(); err != nil {
		return err
	}
	l := &m.Limits
	if l.MemoryPages == 0 {
		l.MemoryPages = defaultMemoryPages
	}
	if l.MemoryPages > maxMemoryPages {
		return fmt.Errorf("manifest: plugin %s: memory_pages %d over the maximum %d", m.ID, l.MemoryPages, maxMemoryPages)
	}
	if l.TimeoutMS <= 0 {
		l.TimeoutMS = defaultTimeout
	}
	l.TimeoutMS = min(l.TimeoutMS, maxTimeout)
	if l.HTTPTimeoutMS <= 0 {
		l.HTTPTimeoutMS = defaultHTTPTimeout
	}
	if l.MaxResponseBytes <= 0 {
		l.MaxResponseBytes = defaultMaxResponse
	}
	l.MaxResponseBytes = min(l.MaxResponseBytes, maxResponseCap)
	return nil
}

// eventTypes is the subscription; nil means every type. A scheduled plugin's
// includes its Ticks.
func (m *Manifest) eventTypes() []core.EventType {
	if slices.Contains(m.Events, "*") {
		return nil
	}
	out := make([]core.EventType, len(m.Events), len(m.Events)+1)
	for i, e := range m.Events {
		out[i] = core.EventType(e)
	}
	if m.Schedule != nil {
		out = append(out, core.EventTick)
	}
	return out
}

func readManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := parseManifest(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// parseManifest decodes a manifest strictly: a misspelt field is an error,
// not a silently ignored limit.
func parseManifest(b []byte) (*Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return &m, nil
}

// candidate is a plugin found on disk, before loading.
type candidate struct {
	manifestPath string
	wasmPath     string
	manifest     *Manifest
	err          error
}

// discover lists the plugins of dir: either "<name>.json" next to
// "<name>.wasm", or a sub-directory holding "manifest.json" and the module
// ("plugin.wasm" unless the manifest names it).
func discover(dir string) ([]candidate, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []candidate
	for _, e := range entries {
		var mp, defWasm string
		switch {
		case e.IsDir():
			mp = filepath.Join(dir, e.Name(), "manifest.json")
			if _, err := os.Stat(mp); err != nil {
				continue
			}
			defWasm = filepath.Join(dir, e.Name(), "plugin.wasm")
		case strings.HasSuffix(e.Name(), ".json"):
			mp = filepath.Join(dir, e.Name())
			defWasm = strings.TrimSuffix(mp, ".json") + ".wasm"
		case strings.HasSuffix(e.Name(), ".wasm"):
			// A module without its manifest is reported, not ignored: the
			// merchant dropped it there to run it.
			mp = strings.TrimSuffix(filepath.Join(dir, e.Name()), ".wasm") + ".json"
			if _, err := os.Stat(mp); err == nil {
				continue // listed with its manifest
			}
			out = append(out, candidate{manifestPath: filepath.Join(dir, e.Name()), wasmPath: filepath.Join(dir, e.Name()),
				err: fmt.Errorf("%s has no manifest: put %s next to it (see plugins/ABI.md)", e.Name(), filepath.Base(mp))})
			continue
		default:
			continue
		}
		c := candidate{manifestPath: mp, wasmPath: defWasm}
		c.manifest, c.err = readManifest(mp)
		if c.err == nil && c.manifest.Wasm != "" {
			if filepath.IsAbs(c.manifest.Wasm) || strings.Contains(c.manifest.Wasm, "..") {
				c.err = fmt.Errorf("manifest %s: wasm must be a file name next to the manifest", mp)
			} else {
				c.wasmPath = filepath.Join(filepath.Dir(mp), c.manifest.Wasm)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// checkSHA256 verifies the module against the manifest's optional digest.
func checkSHA256(m *Manifest, wasm []byte) error {
	if m.SHA256 == "" {
		return nil
	}
	sum := sha256.Sum256(wasm)
	if !strings.EqualFold(hex.EncodeToString(sum[:]), m.SHA256) {
		return fmt.Errorf("plugin %s: module sha256 %x does not match the manifest", m.ID, sum)
	}
	return nil
}

// grantHost turns a configured URL or bare host into a grant.
func grantHost(v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	if strings.Contains(v, "://") {
		u, err := url.Parse(v)
		if err != nil || u.Host == "" {
			return ""
		}
		return strings.ToLower(u.Host)
	}
	return strings.ToLower(strings.TrimSuffix(v, "/"))
}

// hostAllowed reports whether u may be reached under grants. A grant with a
// port matches host:port exactly; without one it matches the host name on any
// port; "*.example.com" matches sub-domains of example.com.
func hostAllowed(grants []string, u *url.URL) bool {
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	for _, g := range grants {
		gh, gp := g, ""
		if h, p, err := net.SplitHostPort(g); err == nil {
			gh, gp = h, p
		}
		if gp != "" && gp != port {
			continue
		}
		if strings.HasPrefix(gh, "*.") {
			if strings.HasSuffix(host, gh[1:]) && len(host) > len(gh)-1 {
				return true
			}
			continue
		}
		if gh == host {
			return true
		}
	}
	return false
}
