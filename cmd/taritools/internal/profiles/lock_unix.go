//go:build unix

package profiles

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock on path (created if missing) so
// two taritools processes (the notify script can start several at once)
// never hand out the same nonce. The returned function releases it.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
