//go:build race

package server

// raceDetector reports a -race build, where wazero's own Go code (loading
// a compiled module, instantiating it) runs several times slower.
const raceDetector = true
