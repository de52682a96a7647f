//go:build race

package plugins_test

// raceBuild: under -race every call from guest code back into wazero's Go
// code (one per loop iteration of a guest with a deadline) is instrumented,
// so plugin calls are many times slower; the heaviest tests do less.
const raceBuild = true
