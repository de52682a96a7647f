package seedwords

import (
	"strings"
	"testing"
)

// FuzzMnemonic: arbitrary phrases never panic, and whatever decodes to bytes
// encodes back to words that decode to the same bytes.
func FuzzMnemonic(f *testing.F) {
	f.Add("park bridge era mushroom also replace acquire around clarify loop hurry hard canvas lesson start inflict brand just sample arrange foam mixture attitude border")
	f.Add("ÉLÈVE abaisser zoologie")
	f.Add("目 一 龙")
	f.Add("")
	f.Fuzz(func(t *testing.T, phrase string) {
		words := SplitPhrase(phrase)
		if len(words) > 48 {
			return
		}
		b, lang, err := MnemonicToBytes(words)
		if err != nil {
			return
		}
		// Re-encode in the detected language and pack the indices again
		// (not re-detected: words can be in several lists).
		var again []byte
		var acc uint32
		var pending uint
		for _, w := range BytesToMnemonic(b, lang) {
			idx, ok := WordIndex(lang, w)
			if !ok {
				t.Fatalf("%q: encoded word %q not in %v", phrase, w, lang)
			}
			acc |= uint32(idx) << pending
			for pending += 11; pending >= 8; pending -= 8 {
				again = append(again, byte(acc))
				acc >>= 8
			}
		}
		if n := min(len(again), len(b)); string(again[:n]) != string(b[:n]) || len(again) < len(b)-1 {
			t.Fatalf("%q: %x -> %x", phrase, b, again)
		}
		if len(b) == EncipheredLen && b[0] == CipherSeedVersion && !strings.Contains(phrase, "\x00") {
			_, _ = Decipher(b, nil) // CRC usually fails first; must not panic either way
		}
	})
}
