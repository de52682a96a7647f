package tari

import (
	"testing"
	"time"

	"github.com/gtank/ristretto255"
)

// benchMemo is a real memo signature (vector memo_signature#023).
var benchMemo = MemoSignature{
	Address:   "14s9vDTwrweZvWEgQ9gNhXXPX68DPXSSAHNFWYEPi5JsBQY",
	OrderID:   "oid554432",
	Signature: "74236918f5815383ad7a889fa2c26037418b217f983575b5b5cfde21c7bcf3094ca6ff09c43fca8d4040a38e60b57fea622d5919979fae4ccfea93883df6bd00",
}

// BenchmarkVerify is the cost of checking one memo signature with parsed
// key and signature (what the server does per claim after parsing the
// body). Compare with BenchmarkDoubleScalarMult, its floor.
func BenchmarkVerify(b *testing.B) {
	a := benchMemo.ParsedAddress()
	sig, _ := ParseSignature(benchMemo.Signature)
	msg := MemoMessage(a, benchMemo.OrderID)
	if !Verify(MemoDomain, a.SpendKey, msg, sig) {
		b.Fatal("vector does not verify")
	}
	b.ReportAllocs()
	for b.Loop() {
		if !Verify(MemoDomain, a.SpendKey, msg, sig) {
			b.Fatal("verify failed")
		}
	}
}

// BenchmarkVerifyColdKey is Verify without the decoded-key cache (a key
// seen for the first time): one more point decode.
func BenchmarkVerifyColdKey(b *testing.B) {
	a := benchMemo.ParsedAddress()
	sig, _ := ParseSignature(benchMemo.Signature)
	msg := MemoMessage(a, benchMemo.OrderID)
	b.ReportAllocs()
	for b.Loop() {
		if !verify(MemoDomain, a.SpendKey, msg, sig, false) {
			b.Fatal("verify failed")
		}
	}
}

// BenchmarkDoubleScalarMult is the bare gtank variable-time s·G − e·P on the
// same inputs as BenchmarkVerify.
func BenchmarkDoubleScalarMult(b *testing.B) {
	a := benchMemo.ParsedAddress()
	sig, _ := ParseSignature(benchMemo.Signature)
	msg := MemoMessage(a, benchMemo.OrderID)
	var P, R ristretto255.Element
	var s ristretto255.Scalar
	_ = P.Decode(a.SpendKey.b[:])
	_ = R.Decode(sig.b[:32])
	_ = s.Decode(sig.b[32:])
	e := challenge(MemoDomain, sig.b[:32], a.SpendKey.b[:], msg)
	e.Negate(e)
	var out ristretto255.Element
	b.ReportAllocs()
	for b.Loop() {
		out.VarTimeDoubleScalarBaseMult(e, &P, &s)
	}
	if out.Equal(&R) != 1 {
		b.Fatal("inputs do not verify")
	}
}

// BenchmarkVerifyMemo includes parsing the address and signature strings.
func BenchmarkVerifyMemo(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if !benchMemo.Verify() {
			b.Fatal("verify failed")
		}
	}
}

func BenchmarkParseAddress(b *testing.B) {
	a := benchMemo.ParsedAddress()
	for _, c := range []struct{ name, s string }{{"base58", a.Base58()}, {"emoji", a.Emoji()}, {"hex", a.Hex()}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseAddress(c.s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyRatio interleaves Verify and the bare double-scalar
// multiplication in small alternating batches and reports their time ratio,
// which holds up on a machine whose load drifts (plain ns/op does not).
func BenchmarkVerifyRatio(b *testing.B) {
	a := benchMemo.ParsedAddress()
	sig, _ := ParseSignature(benchMemo.Signature)
	msg := MemoMessage(a, benchMemo.OrderID)
	var P ristretto255.Element
	var s ristretto255.Scalar
	_ = P.Decode(a.SpendKey.b[:])
	_ = s.Decode(sig.b[32:])
	e := challenge(MemoDomain, sig.b[:32], a.SpendKey.b[:], msg)
	e.Negate(e)
	var out ristretto255.Element
	const batch = 20
	var tv, td, tc time.Duration
	for b.Loop() {
		t0 := time.Now()
		for range batch {
			Verify(MemoDomain, a.SpendKey, msg, sig)
		}
		t1 := time.Now()
		for range batch {
			out.VarTimeDoubleScalarBaseMult(e, &P, &s)
		}
		t2 := time.Now()
		for range batch {
			verify(MemoDomain, a.SpendKey, msg, sig, false)
		}
		t3 := time.Now()
		tv, td, tc = tv+t1.Sub(t0), td+t2.Sub(t1), tc+t3.Sub(t2)
	}
	b.ReportMetric(float64(tv)/float64(td), "verify/dsm")
	b.ReportMetric(float64(tc)/float64(td), "coldverify/dsm")
}
