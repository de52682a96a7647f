package main

import (
	"log/slog"
	"syscall"
)

// raiseFileLimit lifts the soft limit on open files to the hard limit, so
// the server can hold as many connections and database files as the system
// allows (the Go runtime does the same on Linux since 1.19; doing it here
// makes it explicit, and the startup log says what the limit is). The
// per-IP connection cap (TPG_MAX_CONNECTIONS_PER_IP) keeps one client from
// taking them all.
func raiseFileLimit(log *slog.Logger) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		log.Warn("reading the open-file limit", "err", err)
		return
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			log.Warn("raising the open-file limit to its hard limit", "hard", lim.Max, "err", err)
			return
		}
	}
	log.Info("open-file limit", "limit", lim.Cur)
}
