package seedwords

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash/crc32"
	"os"
	"strings"
	"testing"

	"golang.org/x/crypto/chacha20"

	"github.com/tari-payment/tps/core/tari/seedwords/internal/argon2d"
)

// vector is one entry of testdata/tari-seed-vectors.json (the reference's
// seed-word vectors, docs/tari-formats.md §7).
type vector struct {
	ID       string         `json:"id"`
	Kind     string         `json:"kind"`
	Inputs   map[string]any `json:"inputs"`
	Expected map[string]any `json:"expected"`
	Derived  map[string]any `json:"derived"`
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	b, err := os.ReadFile("testdata/tari-seed-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Vectors []vector `json:"vectors"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	return f.Vectors
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// want returns the expected value of k, from "expected" if present, else "derived".
func want(v vector, k string) string {
	if s := str(v.Expected, k); s != "" {
		return s
	}
	return str(v.Derived, k)
}

func languageByName(name string) (Language, bool) {
	for _, l := range Languages {
		if l.String() == name {
			return l, true
		}
	}
	return 0, false
}

// addressCheck verifies the address and signature fields of a vector; it is
// set by address_test.go, which needs core/tari.
var addressCheck func(t *testing.T, v vector, cs CipherSeed)

func TestSeedVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.ID, func(t *testing.T) {
			switch v.Kind {
			case "wordlist":
				checkWordlist(t, v)
			case "argon2d":
				checkArgon2d(t, v)
			case "domain_hash":
				checkDomainHash(t, v)
			case "language_detection":
				checkLanguage(t, v)
			case "cipher_seed_full":
				checkCipherSeedFull(t, v)
			case "seed_phrase_legacy_v1":
				checkLegacyV1(t, v)
			case "seed_phrase":
				checkPhraseFails(t, v)
			case "observation":
				checkObservation(t, v)
			case "derive_key":
				checkDeriveKey(t, v)
			case "seed_to_address", "intermediates", "sanity":
				checkPhrasePipeline(t, v)
			default:
				t.Fatalf("unhandled vector kind %q", v.Kind)
			}
		})
	}
}

func checkWordlist(t *testing.T, v vector) {
	l, ok := languageByName(str(v.Inputs, "language"))
	if !ok {
		t.Fatalf("unknown language %v", v.Inputs["language"])
	}
	list := WordList(l)
	if n, _ := v.Inputs["count"].(float64); int(n) != len(list) {
		t.Fatalf("count %d, want %v", len(list), v.Inputs["count"])
	}
	if list[0] != str(v.Inputs, "first") || list[len(list)-1] != str(v.Inputs, "last") {
		t.Fatalf("first/last %q/%q", list[0], list[len(list)-1])
	}
	sum := sha256.Sum256([]byte(strings.Join(list, "\n") + "\n"))
	if got := hex.EncodeToString(sum[:]); got != want(v, "sha256") {
		t.Fatalf("sha256 %s, want %s", got, want(v, "sha256"))
	}
	for i := 1; i < len(list); i++ {
		if list[i-1] >= list[i] {
			t.Fatalf("not sorted at %d", i)
		}
	}
}

// repeatSpec expands the vector notation "01 x32" (a byte repeated n times).
func repeatSpec(t *testing.T, s string) []byte {
	var b, n int
	parts := strings.Fields(s)
	if len(parts) == 2 && strings.HasPrefix(parts[1], "x") {
		bb := unhex(t, parts[0])
		b = int(bb[0])
		for _, c := range parts[1][1:] {
			n = n*10 + int(c-'0')
		}
		return []byte(strings.Repeat(string([]byte{byte(b)}), n))
	}
	return []byte(s)
}

func checkArgon2d(t *testing.T, v vector) {
	num := func(k string) uint32 { f, _ := v.Inputs[k].(float64); return uint32(f) }
	var secret, ad []byte
	if s := str(v.Inputs, "secret"); s != "" {
		secret = repeatSpec(t, s)
	}
	if s := str(v.Inputs, "ad"); s != "" {
		ad = repeatSpec(t, s)
	}
	if ver := str(v.Inputs, "version"); ver != "" && ver != "0x13" {
		t.Fatalf("unsupported version %s", ver)
	}
	out := argon2d.DKey(repeatSpec(t, str(v.Inputs, "password")), repeatSpec(t, str(v.Inputs, "salt")),
		secret, ad, num("t"), num("m_kib"), uint8(num("p")), num("taglen"))
	if got := hex.EncodeToString(out); got != want(v, "tag") {
		t.Fatalf("tag %s, want %s", got, want(v, "tag"))
	}
}

func checkDomainHash(t *testing.T, v vector) {
	// The tari-crypto challenge vector names its R and P chunks; their values
	// are in that test (and in core/tari/testdata/tari-vectors.json).
	named := map[string]string{
		"R": "fa14cb581ce5717248444721242e6b195a482d503a853dea4acb513074d8d803",
		"P": "74896a30c89186b8194e25f8c1382f8d3081c5a182fb8f8a6d34f27fbefbfc70",
	}
	var chunks [][]byte
	for _, c := range v.Inputs["chunks"].([]any) {
		if h, ok := named[c.(string)]; ok && str(v.Inputs, "domain") == "com.tari.schnorr_signature" {
			chunks = append(chunks, unhex(t, h))
			continue
		}
		chunks = append(chunks, []byte(c.(string)))
	}
	ver, _ := v.Inputs["version"].(float64)
	h := blake256()
	switch str(v.Inputs, "digest") {
	case "Blake2b-256":
	case "Blake2b-512":
		h = blake512()
	default:
		t.Fatalf("digest %v", v.Inputs["digest"])
	}
	got := hex.EncodeToString(DomainHash(h, str(v.Inputs, "domain"), int(ver), str(v.Inputs, "label"), chunks...))
	if got != want(v, "hash") {
		t.Fatalf("hash %s, want %s", got, want(v, "hash"))
	}
}

func checkLanguage(t *testing.T, v vector) {
	var words []string
	for _, w := range v.Inputs["words"].([]any) {
		words = append(words, w.(string))
	}
	l, err := DetectLanguage(words)
	exp := want(v, "language")
	if exp == "error" {
		if err == nil {
			t.Fatalf("detected %v, want an error", l)
		}
		return
	}
	if err != nil || l.String() != exp {
		t.Fatalf("detected %v (%v), want %s", l, err, exp)
	}
}

func checkCipherSeedFull(t *testing.T, v vector) {
	var cs CipherSeed
	cs.Birthday = uint16(v.Inputs["birthday"].(float64))
	copy(cs.Entropy[:], unhex(t, str(v.Inputs, "entropy")))
	copy(cs.Salt[:], unhex(t, str(v.Inputs, "salt")))
	var pass *string
	if p, ok := v.Inputs["passphrase"].(string); ok {
		pass = &p
	}
	enc := cs.Encipher(pass)
	if got := hex.EncodeToString(enc); got != want(v, "enciphered") {
		t.Fatalf("enciphered %s, want %s", got, want(v, "enciphered"))
	}
	phrase := strings.Join(BytesToMnemonic(enc, English), " ")
	if phrase != want(v, "mnemonic") {
		t.Fatalf("mnemonic %q, want %q", phrase, want(v, "mnemonic"))
	}
	back, err := FromMnemonic(phrase, pass)
	if err != nil || back != cs {
		t.Fatalf("round trip: %+v %v", back, err)
	}
	wrong := "not the passphrase"
	if _, err := FromMnemonic(phrase, &wrong); !errors.Is(err, ErrDecryptionFailed) {
		t.Fatalf("wrong passphrase gave %v", err)
	}
	checkKeys(t, v, cs)
	if addressCheck == nil {
		t.Fatal("address fields not checked (address_test.go missing)")
	}
	addressCheck(t, v, cs)
}

// checkKeys compares every key field a vector has with the seed's keys.
func checkKeys(t *testing.T, v vector, cs CipherSeed) {
	t.Helper()
	spend, view := cs.SpendKey(), cs.ViewKey()
	spendPub, _ := PublicKeyOf(spend)
	viewPub, _ := PublicKeyOf(view)
	fields := map[string]string{
		"entropy":                          hex.EncodeToString(cs.Entropy[:]),
		"entropy16":                        hex.EncodeToString(cs.Entropy[:]),
		"salt":                             hex.EncodeToString(cs.Salt[:]),
		"salt5":                            hex.EncodeToString(cs.Salt[:]),
		"spend_secret":                     hex.EncodeToString(spend[:]),
		"spend_secret_comms_0":             hex.EncodeToString(spend[:]),
		"taritools_profile_secret_key_hex": hex.EncodeToString(spend[:]),
		"view_secret":                      hex.EncodeToString(view[:]),
		"view_secret_data_encryption_0":    hex.EncodeToString(view[:]),
		"spend_public":                     hex.EncodeToString(spendPub[:]),
		"view_public":                      hex.EncodeToString(viewPub[:]),
		"derive_hash_comms_0":              hex.EncodeToString(DeriveHash(cs.Entropy[:], SpendBranch, 0)),
		"derive_hash_data_encryption_0":    hex.EncodeToString(DeriveHash(cs.Entropy[:], ViewBranch, 0)),
	}
	for _, m := range []map[string]any{v.Expected, v.Derived} {
		for k, exp := range m {
			if got, ok := fields[k]; ok && got != exp {
				t.Errorf("%s = %s, want %v", k, got, exp)
			}
		}
	}
	if b, ok := v.Derived["birthday_days_since_2022"].(float64); ok && uint16(b) != cs.Birthday {
		t.Errorf("birthday %d, want %v", cs.Birthday, b)
	}
}

// legacyV1Decipher checks a version-1 phrase with its era's rules, to
// cross-check word packing, CRC, Argon2d, ChaCha20 and the MAC on real
// upstream output. Test only: taritools rejects v1 phrases.
func legacyV1Decipher(b []byte, domain string, memKiB uint32) (CipherSeed, error) {
	var cs CipherSeed
	if len(b) != EncipheredLen || b[0] != 1 {
		return cs, ErrVersionMismatch
	}
	if crc32.ChecksumIEEE(b[:29]) != binary.LittleEndian.Uint32(b[29:]) {
		return cs, ErrCRC
	}
	copy(cs.Salt[:], b[24:29])
	h := func(label string, chunks ...[]byte) []byte {
		return DomainHash(blake256(), domain, 1, label, chunks...)
	}
	out := argon2d.DKey([]byte(DefaultPassphrase), h("argon2_encoding", cs.Salt[:])[:16], nil, nil, 1, memKiB, 1, 64)
	plain := append([]byte(nil), b[1:24]...)
	c, _ := chacha20.NewUnauthenticatedCipher(out[:32], h("chacha20_encoding", cs.Salt[:])[:12])
	c.XORKeyStream(plain, plain)
	cs.Birthday = binary.LittleEndian.Uint16(plain[:2])
	copy(cs.Entropy[:], plain[2:18])
	mac := h("mac_generation", plain[:2], cs.Entropy[:], []byte{1}, cs.Salt[:], out[32:])[:5]
	if subtle.ConstantTimeCompare(mac, plain[18:23]) != 1 {
		return cs, ErrDecryptionFailed
	}
	return cs, nil
}

func checkLegacyV1(t *testing.T, v vector) {
	phrase := str(v.Inputs, "phrase")
	b, lang, err := MnemonicToBytes(SplitPhrase(phrase))
	if err != nil {
		t.Fatal(err)
	}
	if lang.String() != str(v.Derived, "language") {
		t.Fatalf("language %v", lang)
	}
	if got := hex.EncodeToString(b); got != str(v.Derived, "enciphered") {
		t.Fatalf("bytes %s, want %s", got, str(v.Derived, "enciphered"))
	}
	if _, err := FromMnemonic(phrase, nil); !errors.Is(err, ErrVersionMismatch) {
		t.Fatalf("v2 decipher gave %v, want version mismatch", err)
	}
	mem := uint32(v.Inputs["argon2_m_kib"].(float64))
	cs, err := legacyV1Decipher(b, str(v.Inputs, "v1_domain"), mem)
	if err != nil {
		t.Fatalf("v1 decipher with era parameters: %v", err)
	}
	if bd := uint16(v.Expected["birthday_plausible"].(float64)); cs.Birthday != bd {
		t.Fatalf("birthday %d, want %d", cs.Birthday, bd)
	}
	if got := hex.EncodeToString(cs.Entropy[:]); got != str(v.Derived, "entropy") {
		t.Fatalf("entropy %s", got)
	}
	if got := hex.EncodeToString(cs.Salt[:]); got != str(v.Derived, "salt") {
		t.Fatalf("salt %s", got)
	}
	if _, err := legacyV1Decipher(b, keyManagerDomain, mem); !errors.Is(err, ErrDecryptionFailed) {
		t.Fatalf("post-June-2023 domain gave %v, want MAC mismatch", err)
	}
}

func checkPhraseFails(t *testing.T, v vector) {
	phrase := str(v.Inputs, "phrase")
	if want(v, "decipher") != "error" {
		t.Fatalf("unhandled expectation %v", v.Expected)
	}
	b, _, err := MnemonicToBytes(SplitPhrase(phrase))
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(b); got != str(v.Derived, "enciphered") {
		t.Fatalf("bytes %s", got)
	}
	_, err = FromMnemonic(phrase, nil)
	if err == nil || err.Error() != str(v.Derived, "error") {
		t.Fatalf("error %v, want %s", err, str(v.Derived, "error"))
	}
}

func checkObservation(t *testing.T, v vector) {
	switch {
	case str(v.Inputs, "phrase") != "":
		_, err := FromMnemonic(str(v.Inputs, "phrase"), nil)
		if err == nil || err.Error() != str(v.Derived, "error") {
			t.Fatalf("error %v, want %s", err, str(v.Derived, "error"))
		}
	case str(v.Inputs, "word_nfc") != "":
		_, err := DetectLanguage([]string{str(v.Inputs, "word_nfc")})
		if err == nil || err.Error() != str(v.Derived, "result") {
			t.Fatalf("result %v, want %s", err, str(v.Derived, "result"))
		}
	default:
		t.Fatalf("unhandled observation %v", v.Inputs)
	}
}

func checkDeriveKey(t *testing.T, v vector) {
	idx := uint64(v.Inputs["index"].(float64))
	branch := str(v.Inputs, "branch")
	if hex.EncodeToString([]byte(branch)) != str(v.Inputs, "branch_utf8_hex") {
		t.Fatalf("branch bytes")
	}
	sk := DeriveKey(unhex(t, str(v.Inputs, "entropy")), branch, idx)
	pk, err := PublicKeyOf(sk)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(sk[:]); got != want(v, "secret") {
		t.Fatalf("secret %s, want %s", got, want(v, "secret"))
	}
	if got := hex.EncodeToString(pk[:]); got != want(v, "public") {
		t.Fatalf("public %s, want %s", got, want(v, "public"))
	}
}

// checkPhrasePipeline runs the whole chain for a real phrase and compares
// every intermediate and final value the vector gives.
func checkPhrasePipeline(t *testing.T, v vector) {
	phrase := str(v.Inputs, "phrase")
	if strings.Contains(phrase, "...") { // the sanity vector abbreviates the official phrase
		phrase = "scare harsh invite normal satisfy subject similar excite dragon gap fence machine monster flavor spoon tape rice require risk sting health nurse orange stick"
	}
	words := SplitPhrase(phrase)
	b, lang, err := MnemonicToBytes(words)
	if err != nil {
		t.Fatal(err)
	}
	if l := str(v.Derived, "language"); l != "" && l != lang.String() {
		t.Fatalf("language %v, want %s", lang, l)
	}
	var pass *string
	if p, ok := v.Inputs["passphrase"].(string); ok {
		pass = &p
	}
	cs, err := Decipher(b, pass)
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(cs.Encipher(pass)) != hex.EncodeToString(b) {
		t.Fatal("re-encipher differs from the phrase's bytes")
	}
	checkKeys(t, v, cs)
	if v.Kind == "intermediates" {
		checkIntermediates(t, v, words, b, cs)
		return
	}
	if addressCheck == nil {
		t.Fatal("address fields not checked (address_test.go missing)")
	}
	addressCheck(t, v, cs)
}

func checkIntermediates(t *testing.T, v vector, words []string, b []byte, cs CipherSeed) {
	var idx []any
	for _, w := range words {
		i, _ := WordIndex(English, w)
		idx = append(idx, float64(i))
	}
	wantIdx := v.Derived["word_indices"].([]any)
	if len(idx) != len(wantIdx) {
		t.Fatalf("word count")
	}
	for i := range idx {
		if idx[i] != wantIdx[i] {
			t.Fatalf("word %d index %v, want %v", i, idx[i], wantIdx[i])
		}
	}
	salt := b[24:29]
	argonSalt := kmHash256("cipher_seed_pbkdf_salt", salt)[:16]
	enc, mac := deriveEncryptionKeys([]byte(DefaultPassphrase), salt)
	plain := append([]byte(nil), b[1:24]...)
	xorStream(enc, salt, plain)
	got := map[string]string{
		"bytes33":          hex.EncodeToString(b),
		"version":          hex.EncodeToString(b[:1]),
		"ciphertext23":     hex.EncodeToString(b[1:24]),
		"crc32_le":         hex.EncodeToString(b[29:]),
		"argon2_salt16":    hex.EncodeToString(argonSalt),
		"argon2d_out64":    hex.EncodeToString(append(append([]byte(nil), enc...), mac...)),
		"chacha20_key":     hex.EncodeToString(enc),
		"mac_key":          hex.EncodeToString(mac),
		"chacha20_nonce12": hex.EncodeToString(kmHash256("cipher_seed_encryption_nonce", salt)[:12]),
		"plaintext23":      hex.EncodeToString(plain),
		"birthday_le":      hex.EncodeToString(plain[:2]),
		"mac5":             hex.EncodeToString(plain[18:23]),
		"tag_derive":       keyManagerDomain + ".v1.derive_key",
		"tag_mac":          keyManagerDomain + ".v1.cipher_seed_mac",
		"tag_nonce":        keyManagerDomain + ".v1.cipher_seed_encryption_nonce",
		"tag_pbkdf_salt":   keyManagerDomain + ".v1.cipher_seed_pbkdf_salt",
	}
	known := map[string]bool{"word_indices": true, "entropy16": true, "salt5": true,
		"derive_hash_comms_0": true, "derive_hash_data_encryption_0": true}
	for k, exp := range v.Derived {
		if known[k] {
			continue
		}
		g, ok := got[k]
		if !ok {
			t.Errorf("unhandled intermediate %q", k)
			continue
		}
		if g != exp {
			t.Errorf("%s = %s, want %v", k, g, exp)
		}
	}
}

func TestMnemonicRoundTripAllLanguages(t *testing.T) {
	cs := NewCipherSeed()
	enc := cs.Encipher(nil) // one Argon2d run; the word layer is checked per language
	for _, l := range Languages {
		words := BytesToMnemonic(enc, l)
		if len(words) != 24 {
			t.Fatalf("%v: %d words", l, len(words))
		}
		b, got, err := MnemonicToBytes(SplitPhrase(strings.Join(words, " ")))
		if err != nil || got != l || string(b) != string(enc) {
			t.Fatalf("%v: decoded as %v %x, %v", l, got, b, err)
		}
	}
	back, err := FromMnemonic(cs.Mnemonic(Japanese, nil), nil)
	if err != nil || back != cs {
		t.Fatalf("full round trip: %v", err)
	}
}

func TestPhraseInputForms(t *testing.T) {
	const official = "scare harsh invite normal satisfy subject similar excite dragon gap fence machine monster flavor spoon tape rice require risk sting health nurse orange stick"
	base, err := FromMnemonic(official, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{strings.ToUpper(official), "  " + strings.ReplaceAll(official, " ", "\n\t ") + "\n"} {
		got, err := FromMnemonic(in, nil)
		if err != nil || got != base {
			t.Fatalf("%q: %v", in, err)
		}
	}
	if _, err := FromMnemonic(strings.Join(SplitPhrase(official)[:23], " "), nil); !errors.Is(err, ErrInvalidData) {
		t.Fatalf("23 words gave %v", err)
	}
	if _, err := FromMnemonic(official+" zzzz", nil); !errors.Is(err, ErrUnknownLanguage) {
		t.Fatalf("unknown word gave %v", err)
	}
	// Accents on Latin-list words are ignored: "Élève" looks up as "eleve".
	if a, ok1 := WordIndex(French, "Élève"); !ok1 {
		t.Fatal("accented French word not found")
	} else if b, _ := WordIndex(French, "eleve"); a != b {
		t.Fatal("accent changed the index")
	}
}
