//go:build !unix

package profiles

// lockFile is a no-op where flock is not available; nonces then rely on the
// millisecond clock alone.
func lockFile(string) (func(), error) { return func() {}, nil }
