// Package seedwords turns a Tari wallet's 24 seed words into the keys the
// wallet signs with, byte-exact with the reference Rust crates
// (tari_key_manager / tari_common_types v1.3.1-pre.1): word lists and language
// detection, the CipherSeed v2 format (CRC-32, Argon2d, ChaCha20, MAC) and the
// key manager's domain-separated key derivation. See
// docs/tari-formats.md §7; the vectors in testdata come from the reference.
//
// taritools uses it for profiles created from seed words: the spend key
// (branch "comms", index 0) signs everything; the view key only appears in the
// profile's dual address.
package seedwords

import (
	"embed"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Language is one of the seven mnemonic word lists, in detection order.
type Language int

// The languages, in the order the reference tries them when detecting.
const (
	ChineseSimplified Language = iota
	English
	French
	Italian
	Japanese
	Korean
	Spanish
)

// Languages lists every language in detection order.
var Languages = []Language{ChineseSimplified, English, French, Italian, Japanese, Korean, Spanish}

var languageNames = [...]string{"ChineseSimplified", "English", "French", "Italian", "Japanese", "Korean", "Spanish"}
var languageFiles = [...]string{"chinesesimplified", "english", "french", "italian", "japanese", "korean", "spanish"}

// String gives the reference's name for the language (e.g. "ChineseSimplified").
func (l Language) String() string {
	if l < 0 || int(l) >= len(languageNames) {
		return fmt.Sprintf("Language(%d)", int(l))
	}
	return languageNames[l]
}

// Errors a phrase can fail with.
var (
	ErrUnknownLanguage  = errors.New("mnemonic: unknown language")
	ErrInvalidData      = errors.New("cipher seed: invalid data")
	ErrVersionMismatch  = errors.New("cipher seed: version mismatch")
	ErrCRC              = errors.New("cipher seed: CRC32 checksum mismatch")
	ErrDecryptionFailed = errors.New("cipher seed: MAC mismatch (wrong passphrase or corrupt phrase)")
)

//go:embed wordlists/*.txt
var wordlistFS embed.FS

var (
	listsOnce sync.Once
	lists     [7][]string
)

// wordList returns the sorted list for l. The files are the upstream lists,
// one word per line; their SHA-256 values are checked by the tests.
func wordList(l Language) []string {
	listsOnce.Do(func() {
		for i, name := range languageFiles {
			b, err := wordlistFS.ReadFile("wordlists/" + name + ".txt")
			if err != nil {
				panic(err)
			}
			words := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
			if len(words) != 2048 {
				panic("seedwords: word list " + name + " does not have 2048 words")
			}
			lists[i] = words
		}
	})
	return lists[l]
}

// WordList returns a copy of the 2048 words of l, in their (sorted) index order.
func WordList(l Language) []string {
	return append([]string(nil), wordList(l)...)
}

// latinLanguage reports whether lookups strip accents (the lists are ASCII).
func latinLanguage(l Language) bool {
	return l == English || l == French || l == Italian || l == Spanish
}

// extraBase maps Latin letters that have no canonical decomposition to their
// base letter, as the reference's diacritics table does.
var extraBase = map[rune]rune{
	'ø': 'o', 'đ': 'd', 'ł': 'l', 'ħ': 'h', 'ı': 'i', 'ŀ': 'l', 'ŧ': 't', 'ƀ': 'b', 'ɨ': 'i', 'ʉ': 'u',
	'ð': 'd', 'ŋ': 'n', 'ƒ': 'f', 'ɍ': 'r', 'ɏ': 'y', 'ȼ': 'c', 'ɇ': 'e', 'ɉ': 'j', 'ƶ': 'z',
}

// normalizeWord lower-cases w and, for the Latin lists, maps accented letters
// to their base letter and drops every other non-ASCII character.
func normalizeWord(l Language, w string) string {
	w = strings.ToLower(w)
	if !latinLanguage(l) {
		return w
	}
	var b strings.Builder
	for _, r := range w {
		if r < utf8.RuneSelf {
			b.WriteRune(r)
			continue
		}
		if base, ok := extraBase[r]; ok {
			b.WriteRune(base)
			continue
		}
		// The canonical decomposition of an accented letter starts with its base.
		d := norm.NFD.String(string(r))
		if first, _ := utf8.DecodeRuneInString(d); first < utf8.RuneSelf && first >= 'a' && first <= 'z' {
			b.WriteRune(first)
		}
	}
	return b.String()
}

// WordIndex finds word in l's list (after l's normalisation) and returns its
// 11-bit value.
func WordIndex(l Language, word string) (int, bool) {
	list := wordList(l)
	w := normalizeWord(l, word)
	i := sort.SearchStrings(list, w)
	if i < len(list) && list[i] == w {
		return i, true
	}
	return 0, false
}

// DetectLanguage picks the language of a phrase exactly as the reference does:
// for each word in turn, each language containing it is accepted if every
// other word is in that language too; the first accepted wins.
func DetectLanguage(words []string) (Language, error) {
	switch len(words) {
	case 0:
		return 0, ErrUnknownLanguage
	case 1:
		for _, l := range Languages {
			if _, ok := WordIndex(l, words[0]); ok {
				return l, nil
			}
		}
		return 0, ErrUnknownLanguage
	}
	for _, w := range words {
		for _, l := range Languages {
			if _, ok := WordIndex(l, w); !ok {
				continue
			}
			all := true
			for _, other := range words {
				if other == w {
					continue
				}
				if _, ok := WordIndex(l, other); !ok {
					all = false
					break
				}
			}
			if all {
				return l, nil
			}
		}
	}
	return 0, ErrUnknownLanguage
}

// SplitPhrase splits a phrase into words on any whitespace. For every phrase
// the reference accepts (single spaces) the result is identical.
func SplitPhrase(phrase string) []string {
	return strings.Fields(phrase)
}

// MnemonicToBytes decodes words (language detected) into bytes: word k's 11
// bits occupy bits 11k..11k+10 of a little-endian bit string.
func MnemonicToBytes(words []string) ([]byte, Language, error) {
	lang, err := DetectLanguage(words)
	if err != nil {
		return nil, 0, err
	}
	var out []byte
	var acc uint32
	var pending uint
	for _, w := range words {
		idx, ok := WordIndex(lang, w)
		if !ok {
			return nil, 0, ErrUnknownLanguage
		}
		acc |= uint32(idx) << pending
		pending += 11
		for pending >= 8 {
			out = append(out, byte(acc))
			acc >>= 8
			pending -= 8
		}
	}
	if pending > 0 && acc != 0 {
		out = append(out, byte(acc))
	}
	return out, lang, nil
}

// BytesToMnemonic encodes bytes as words of l, reading the same bit order and
// zero-padding to a multiple of 11 bits.
func BytesToMnemonic(b []byte, l Language) []string {
	list := wordList(l)
	var words []string
	var acc uint32
	var pending uint
	for _, x := range b {
		acc |= uint32(x) << pending
		pending += 8
		for pending >= 11 {
			words = append(words, list[acc&0x7ff])
			acc >>= 11
			pending -= 11
		}
	}
	if pending > 0 {
		words = append(words, list[acc&0x7ff])
	}
	return words
}
