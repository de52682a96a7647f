// Package core is the payment engine's centre: the domain types (orders,
// payments, accounts, events) and the errors the engine returns. It knows
// nothing of HTTP or WebAssembly; api/ and plugins/ depend on it, never the
// other way round.
package core
