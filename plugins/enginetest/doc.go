// Package enginetest drives the shipped plugins with events produced by the
// real engine (core/engine). It holds only tests; it is a separate package so
// the plugin host's own tests do not depend on the engine compiling.
package enginetest
