package seedwords

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"hash"
	"hash/crc32"
	"strings"
	"time"

	"github.com/gtank/ristretto255"
	"golang.org/x/crypto/blake2b"
	"golang.org/x/crypto/chacha20"

	"github.com/tari-payment/tps/core/tari/seedwords/internal/argon2d"
)

// CipherSeed format constants (CipherSeed v2).
const (
	CipherSeedVersion = 2
	EncipheredLen     = 33
	// DefaultPassphrase is used when the wallet has none (taritools never passes one).
	DefaultPassphrase = "TARI_CIPHER_SEED"

	keyManagerDomain = "com.tari.base_layer.key_manager"
	argonMemoryKiB   = 47104
	macLen           = 5
	saltLen          = 5
	entropyLen       = 16
)

// The key-manager branches of the wallet's two keys (index 0 of each).
const (
	SpendBranch = "comms"
	ViewBranch  = "data encryption"
)

// birthdayGenesis is the epoch of CipherSeed birthdays (days since).
var birthdayGenesis = time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)

// CipherSeed is a wallet's decrypted seed. Only Entropy enters key derivation.
type CipherSeed struct {
	Birthday uint16
	Entropy  [entropyLen]byte
	Salt     [saltLen]byte
}

// NewCipherSeed makes a fresh seed with random entropy and salt, born today.
func NewCipherSeed() CipherSeed {
	var cs CipherSeed
	if _, err := rand.Read(cs.Entropy[:]); err != nil {
		panic(err)
	}
	if _, err := rand.Read(cs.Salt[:]); err != nil {
		panic(err)
	}
	cs.Birthday = uint16(time.Since(birthdayGenesis) / (24 * time.Hour))
	return cs
}

// DomainHash is Tari's domain-separated hash: every chunk, the tag
// "<domain>.v<version>.<label>" first, is preceded by its length as an 8-byte
// little-endian integer.
func DomainHash(h hash.Hash, domain string, version int, label string, chunks ...[]byte) []byte {
	tag := domain + ".v" + itoa(version) + "." + label
	writeChunk(h, []byte(tag))
	for _, c := range chunks {
		writeChunk(h, c)
	}
	return h.Sum(nil)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func writeChunk(h hash.Hash, c []byte) {
	var l [8]byte
	binary.LittleEndian.PutUint64(l[:], uint64(len(c)))
	h.Write(l[:])
	h.Write(c)
}

func blake256() hash.Hash {
	h, _ := blake2b.New256(nil)
	return h
}

func blake512() hash.Hash {
	h, _ := blake2b.New512(nil)
	return h
}

func kmHash256(label string, chunks ...[]byte) []byte {
	return DomainHash(blake256(), keyManagerDomain, 1, label, chunks...)
}

// passphraseBytes resolves the optional passphrase (raw UTF-8, not normalised).
func passphraseBytes(passphrase *string) []byte {
	if passphrase == nil {
		return []byte(DefaultPassphrase)
	}
	return []byte(*passphrase)
}

// deriveEncryptionKeys runs Argon2d over the passphrase and returns the
// ChaCha20 key and the MAC key.
func deriveEncryptionKeys(passphrase []byte, salt []byte) (encKey, macKey []byte) {
	argonSalt := kmHash256("cipher_seed_pbkdf_salt", salt)[:16]
	out := argon2d.DKey(passphrase, argonSalt, nil, nil, 1, argonMemoryKiB, 1, 64)
	return out[:32], out[32:]
}

func seedMAC(birthday []byte, entropy []byte, salt []byte, macKey []byte) []byte {
	return kmHash256("cipher_seed_mac", []byte{CipherSeedVersion}, birthday, entropy, salt, macKey)[:macLen]
}

func xorStream(key []byte, salt []byte, data []byte) {
	nonce := kmHash256("cipher_seed_encryption_nonce", salt)[:chacha20.NonceSize]
	c, err := chacha20.NewUnauthenticatedCipher(key, nonce)
	if err != nil {
		panic(err) // key and nonce sizes are fixed above
	}
	c.XORKeyStream(data, data)
}

// Encipher encrypts the seed into its 33-byte form. It is deterministic for a
// given seed and passphrase (nil = the default passphrase).
func (cs CipherSeed) Encipher(passphrase *string) []byte {
	var bday [2]byte
	binary.LittleEndian.PutUint16(bday[:], cs.Birthday)
	encKey, macKey := deriveEncryptionKeys(passphraseBytes(passphrase), cs.Salt[:])
	plain := make([]byte, 0, 2+entropyLen+macLen)
	plain = append(plain, bday[:]...)
	plain = append(plain, cs.Entropy[:]...)
	plain = append(plain, seedMAC(bday[:], cs.Entropy[:], cs.Salt[:], macKey)...)
	xorStream(encKey, cs.Salt[:], plain)

	out := make([]byte, 0, EncipheredLen)
	out = append(out, CipherSeedVersion)
	out = append(out, plain...)
	out = append(out, cs.Salt[:]...)
	var crc [4]byte
	binary.LittleEndian.PutUint32(crc[:], crc32.ChecksumIEEE(out))
	return append(out, crc[:]...)
}

// Decipher checks and decrypts the 33-byte form, in the reference's order:
// length, version, CRC, then the MAC (which a wrong passphrase fails).
func Decipher(b []byte, passphrase *string) (CipherSeed, error) {
	var cs CipherSeed
	if len(b) != EncipheredLen {
		return cs, ErrInvalidData
	}
	if b[0] != CipherSeedVersion {
		return cs, ErrVersionMismatch
	}
	if crc32.ChecksumIEEE(b[:29]) != binary.LittleEndian.Uint32(b[29:]) {
		return cs, ErrCRC
	}
	copy(cs.Salt[:], b[24:29])
	encKey, macKey := deriveEncryptionKeys(passphraseBytes(passphrase), cs.Salt[:])
	plain := append([]byte(nil), b[1:24]...)
	xorStream(encKey, cs.Salt[:], plain)
	cs.Birthday = binary.LittleEndian.Uint16(plain[0:2])
	copy(cs.Entropy[:], plain[2:18])
	want := seedMAC(plain[0:2], cs.Entropy[:], cs.Salt[:], macKey)
	if subtle.ConstantTimeCompare(want, plain[18:23]) != 1 {
		return CipherSeed{}, ErrDecryptionFailed
	}
	return cs, nil
}

// FromMnemonic parses and deciphers a seed phrase (nil passphrase = default).
func FromMnemonic(phrase string, passphrase *string) (CipherSeed, error) {
	b, _, err := MnemonicToBytes(SplitPhrase(phrase))
	if err != nil {
		return CipherSeed{}, err
	}
	return Decipher(b, passphrase)
}

// Mnemonic enciphers the seed and writes it as words of l.
func (cs CipherSeed) Mnemonic(l Language, passphrase *string) string {
	return strings.Join(BytesToMnemonic(cs.Encipher(passphrase), l), " ")
}

// BirthdayDate is the day the wallet was born.
func (cs CipherSeed) BirthdayDate() time.Time {
	return birthdayGenesis.AddDate(0, 0, int(cs.Birthday))
}

// DeriveHash is the 64-byte key-manager hash for a branch and index.
func DeriveHash(entropy []byte, branch string, index uint64) []byte {
	var idx [8]byte
	binary.LittleEndian.PutUint64(idx[:], index)
	return DomainHash(blake512(), keyManagerDomain, 1, "derive_key", entropy, []byte(branch), idx[:])
}

// DeriveKey derives the secret key for a branch and index: the 64-byte hash
// reduced mod ℓ. It returns the 32-byte little-endian scalar.
func DeriveKey(entropy []byte, branch string, index uint64) [32]byte {
	s := ristretto255.NewScalar().FromUniformBytes(DeriveHash(entropy, branch, index))
	var out [32]byte
	s.Encode(out[:0])
	return out
}

// PublicKeyOf returns the compressed Ristretto public key of a 32-byte
// little-endian secret scalar.
func PublicKeyOf(secret [32]byte) ([32]byte, error) {
	var out [32]byte
	s := ristretto255.NewScalar()
	if err := s.Decode(secret[:]); err != nil {
		return out, err
	}
	ristretto255.NewElement().ScalarBaseMult(s).Encode(out[:0])
	return out, nil
}

// SpendKey is the wallet's spend (= comms) secret: the key taritools signs with.
func (cs CipherSeed) SpendKey() [32]byte { return DeriveKey(cs.Entropy[:], SpendBranch, 0) }

// ViewKey is the wallet's view secret; it never signs, it only appears in the
// dual address.
func (cs CipherSeed) ViewKey() [32]byte { return DeriveKey(cs.Entropy[:], ViewBranch, 0) }
