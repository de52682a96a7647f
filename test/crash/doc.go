// Package crash holds the crash-safety and multi-instance tests of issue #7.
// They build the real tari-payment-server binary once, run it as child
// processes against a real SQLite file or PostgreSQL schema with the shipped
// webhook plugin pointed at a receiver inside the test, drive the full order
// and payment flow under concurrent load, SIGKILL the server at random points
// and restart it on the same database, and then prove from the database (via
// package test/dbcheck) and the HTTP API that nothing acknowledged was lost,
// the balance invariants hold, and every committed event reached the webhook
// at least once (none invented).
//
//	go test ./test/crash                          # short: 3 rounds on SQLite
//	TPG_TEST_POSTGRES_URL=... go test ./test/crash # also PostgreSQL and 3 instances
//	TPG_CRASH_ROUNDS=20 TPG_CRASH_ROUND_MAX=10s go test -v -run Crash -timeout 60m ./test/crash
//
// Knobs: TPG_CRASH_ROUNDS (default 3), TPG_CRASH_ROUND_MAX (3s; each round
// lasts a random 1/4 to 1 of it), TPG_CRASH_RATE (flows started per second
// in all, default 40, 0 = unlimited), TPG_MULTI_DURATION (8s). Each run ends
// with about a minute of waiting: a killed server's 60 s lease on the webhook
// cursor must lapse before the restarted one delivers again. The default
// plugins are built once into <user cache dir>/tps-test-plugin-cache.
//
// The package has no code of its own outside its tests.
package crash
