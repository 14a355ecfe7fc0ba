//go:build wasip1

// Command plugin is the ratelimit example plugin (plugins/ratelimit.wasm):
// per-event middleware (event_middleware = ["ratelimit"] in server.toml)
// that limits each socket to a number of events per second with a token
// bucket.
//
// Each socket has a bucket of at most burst tokens that refills at rate
// tokens per second by the wall clock. An event takes one token and passes
// on to its handler; when the bucket holds less than one token the event is
// rejected with the message "rate limited": its handler does not run, and
// a client that asked for an ack gets
// {"error":"rate limited","data":{"retryAfterMs":N}}, N being the wait
// until the next token.
//
// Instances keep nothing between calls, and per-event middleware may change
// nothing but the socket data, so the bucket lives in the socket data,
// under the key "ratelimit" of its JSON object: {"tokens":T,"at":MS}, the
// tokens left at the Unix time MS in milliseconds. Other keys (the claims
// of an auth middleware, say) are kept. When another plugin has set the
// socket data to something other than an object, the bucket cannot be kept
// and events pass unlimited (a warning is logged).
//
// Config ([plugin.ratelimit.config] in server.toml): rate (events per
// second, > 0, default 5) and burst (bucket size, ≥ 1, default 10).
package main
