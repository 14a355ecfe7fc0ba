//go:build wasip1

// Command plugin is the ratelimit example plugin (plugins/ratelimit.wasm):
// per-event middleware (event_middleware = ["ratelimit"] in server.toml)
// that limits events per second with a token bucket.
//
// A bucket holds at most burst tokens and refills at rate tokens per
// second by the wall clock. An event takes one token and passes on to its
// handler; when the bucket holds less than one token the event is rejected
// with the message "rate limited": its handler does not run, and a client
// that asked for an ack gets {"error":"rate limited","data":{"retryAfterMs":N}},
// N being the wait until the next token.
//
// Whose bucket (config "per"):
//
//   - "socket" (default): one per socket, kept in the socket data under the
//     key "ratelimit" of its JSON object, {"tokens":T,"at":MS} (the tokens
//     left at the Unix time MS in milliseconds). Per-event middleware may
//     change nothing but the socket data, and instances keep nothing
//     between calls. When the socket data is not an object, events pass
//     unlimited (a warning is logged).
//   - "address": one per client address, in the plugin's key-value store
//     (grants = ["kv"]) under "addr:<address>".
//   - "user": one per user, the "sub" claim of the JWT in the CONNECT auth
//     payload's "token", under "user:<sub>". The token's signature is not
//     checked here: put a connection middleware that checks it in front
//     (examples/auth-jwt). A socket without one has its own bucket.
//
// A shared bucket is read, charged and written back with a compare-and-swap,
// so concurrent events never spend one token twice; with the Redis adapter
// the store is the cluster's, and the limit holds across every node. It
// expires once it would be full again. When the store cannot be used (no
// grant, Redis away), the socket's own bucket limits meanwhile (a warning is
// logged).
//
// Config ([plugin.ratelimit.config] in server.toml): rate (events per
// second, > 0, default 5), burst (bucket size, ≥ 1, default 10), per
// ("socket", "address" or "user"). INIT refuses other values.
package main
