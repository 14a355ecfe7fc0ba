// Package track counts the goroutines a component starts, so that its
// Shutdown can wait for them (STYLE: every goroutine has an owner and a
// way to stop).
package track
