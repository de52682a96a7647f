//go:build race

package plugins_test

// raceBuild: under -race every call from guest code back into wazero's Go
// code (host functions; one per loop iteration in wazero's guarded mode, one
// per interruptBudget iterations with the instrumented module) is
// instrumented, so plugin calls are slower; the heaviest tests do less.
const raceBuild = true
