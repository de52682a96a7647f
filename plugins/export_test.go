package plugins

// InstrumentModule exposes the load-time rewrite (interrupt.go) to the
// external tests, which build the shipped plugins from source.
var InstrumentModule = instrumentModule
