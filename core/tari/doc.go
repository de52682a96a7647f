// Package tari implements the Tari wire formats the payment server speaks:
// Ristretto255 Schnorr signatures with BLAKE2b-512 domain-separated challenges
// (tari_crypto 0.20.3), secret/public key hex forms, Tari addresses (single
// and dual, every network; base58, emoji and hex text forms; DammSum
// checksum), the credit-note dummy addresses, order-claim ("memo")
// signatures, hot-wallet notification signatures and the Ristretto256 JWTs
// used for login and access tokens. The byte layouts are specified in
// docs/tari-formats.md; testdata/tari-vectors.json holds the
// vectors every change must keep passing.
//
// It is pure Go (gtank/ristretto255 and x/crypto/blake2b, no cgo) and has no
// knowledge of HTTP or storage.
//
// Traps for callers:
//
//   - Signatures use a fresh random nonce, so signing the same message twice
//     gives different bytes. Never compare signatures; verify them.
//     SignWithNonce exists only for golden tests.
//   - Verifiers rebuild the signed message from parsed values, not from what
//     was received: a memo signature is over base58(address)+":"+order_id
//     whatever form the address was sent in; a wallet signature is over
//     emoji(address)+":"+nonce+":"+payload where payload is re-serialised
//     serde_json style (PaymentPayloadJSON, ConfirmationPayloadJSON). A JWT is
//     the exception: its signature covers the transmitted ASCII text.
//   - The key that signs and verifies is always the address's spend key, also
//     for dual addresses.
//   - Addresses differing only in feature bits or single/dual form are
//     different strings but the same wallet: compare AccountKey values when
//     the question is "same customer" (decision D25), compare Base58 when the
//     question is "same address".
//   - Token errors: ErrTokenFormat is a token that cannot be split and
//     decoded (the reference answers 400); every other token error is a 401.
//   - SecretKey values print as a redacted placeholder with %v; use Hex only
//     where the secret must really be shown or stored.
package tari
