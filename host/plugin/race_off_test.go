//go:build !race

package plugin

// raceEnabled reports a -race build.
const raceEnabled = false
