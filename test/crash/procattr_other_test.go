//go:build !linux

package crash

import "os/exec"

func dieWithTest(*exec.Cmd) {}
