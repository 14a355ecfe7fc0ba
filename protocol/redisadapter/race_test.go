//go:build race

package redisadapter

// raceEnabled reports a -race build, where the runtime's tiny allocator
// is off and small strings take 16 bytes each.
const raceEnabled = true
