package profiles

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tari-payment/tps/core/tari"
)

const phrase = "scare harsh invite normal satisfy subject similar excite dragon gap fence machine monster flavor spoon tape rice require risk sting health nurse orange stick"

func useTempConfig(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "sub", "profiles.json")
	t.Setenv(EnvConfig, p)
	return p
}

func TestStoreAndIdentities(t *testing.T) {
	path := useTempConfig(t)
	f, err := Load()
	if err != nil || len(f.Profiles) != 0 {
		t.Fatalf("empty load: %+v %v", f, err)
	}
	key := tari.GenerateSecretKey()
	if err := f.Put(Profile{Name: "k", SecretKey: key.Hex(), Network: "Stagenet", Server: "http://x:1/"}); err != nil {
		t.Fatal(err)
	}
	if err := f.Put(Profile{Name: "s", SeedWords: phrase}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []Profile{
		{Name: "", SecretKey: key.Hex()},
		{Name: "two", SecretKey: key.Hex(), SeedWords: phrase},
		{Name: "none"},
		{Name: "net", SecretKey: key.Hex(), Network: "moon"},
		{Name: "url", SecretKey: key.Hex(), Server: "ftp://x"},
		{Name: "role", SecretKey: key.Hex(), Roles: []string{"root"}},
	} {
		if err := f.Put(bad); err == nil {
			t.Errorf("Put(%+v) accepted", bad)
		}
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, filepath.Dir(path)} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		want := os.FileMode(0o600)
		if st.IsDir() {
			want = 0o700
		}
		if st.Mode().Perm() != want {
			t.Fatalf("%s mode %v, want %v", p, st.Mode().Perm(), want)
		}
	}
	f, _ = Load()
	if f.Default != "k" {
		t.Fatalf("default %q", f.Default)
	}
	k, err := f.Get("")
	if err != nil || k.Network != "stagenet" || k.Server != "http://x:1" {
		t.Fatalf("default profile %+v %v", k, err)
	}
	id, err := k.Identity()
	if err != nil || id.Address.Base58() != tari.NewAddress(tari.Stagenet, key.PublicKey()).Base58() || id.Address.ViewKey != nil {
		t.Fatalf("key identity %+v %v", id, err)
	}
	s, _ := f.Get("s")
	id, err = s.Identity()
	if err != nil || id.Key.Hex() != "ef5d6881f2b1ff65dd6d62a77f73be2179cad40c6d587d5ff9f4ed49b5378b05" || id.Address.ViewKey == nil {
		t.Fatalf("seed identity %v", err)
	}
	// A tampered address is caught when the key is loaded.
	s.Address = k.Address
	if _, err := s.Identity(); err == nil {
		t.Fatal("mismatched stored address accepted")
	}
	if err := f.Remove("k"); err != nil || f.Default != "" {
		t.Fatalf("remove: %v %q", err, f.Default)
	}
	if _, err := f.Get("k"); err == nil {
		t.Fatal("removed profile still there")
	}
}

func TestTokenCache(t *testing.T) {
	useTempConfig(t)
	p := &Profile{Name: "a", Server: "http://one", Address: "addr", Roles: []string{"user"}}
	c := NewTokenCache(p)
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	c.Store("tok", exp)
	if tok, e, ok := c.Load(); !ok || tok != "tok" || !e.Equal(exp) {
		t.Fatalf("load %q %v %v", tok, e, ok)
	}
	// The same profile name pointed at another server or asking for other
	// roles does not reuse the token.
	for _, q := range []*Profile{
		{Name: "a", Server: "http://two", Address: "addr", Roles: []string{"user"}},
		{Name: "a", Server: "http://one", Address: "addr", Roles: []string{"user", "write"}},
	} {
		if _, _, ok := NewTokenCache(q).Load(); ok {
			t.Fatalf("token reused for %+v", q)
		}
	}
	// Nonces are unique and increasing even when handed out concurrently
	// within one millisecond.
	var mu sync.Mutex
	seen := map[uint64]bool{}
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := NewTokenCache(p).NextNonce(1000)
			mu.Lock()
			seen[n] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(seen) != 20 {
		t.Fatalf("%d distinct nonces of 20", len(seen))
	}
	if n := c.NextNonce(5); n != 1020 {
		t.Fatalf("next nonce %d, want 1020", n)
	}
}

// Loading a seed-word profile runs Argon2d (46 MiB); a key profile does not.
func BenchmarkIdentitySeedWords(b *testing.B) {
	p := Profile{Name: "s", Network: "mainnet", SeedWords: phrase}
	for b.Loop() {
		if _, err := p.Identity(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIdentitySecretKey(b *testing.B) {
	p := Profile{Name: "k", Network: "mainnet", SecretKey: tari.GenerateSecretKey().Hex()}
	for b.Loop() {
		if _, err := p.Identity(); err != nil {
			b.Fatal(err)
		}
	}
}
