//go:build wasip1

// Command plugin is the auth-jwt example plugin (plugins/auth-jwt/auth-jwt.wasm):
// connection middleware that accepts a socket only with a valid HS256 JSON
// Web Token in its CONNECT payload, auth {"token": "<jwt>"}.
//
// A token is valid when its header says "alg":"HS256", its HMAC-SHA256
// signature matches the configured secret (compared in constant time), its
// "exp" (when present) is in the future and its "nbf" (when present) in the
// past by the wall clock, and its "iss" and "aud" match the configured
// issuer and audience when those are set. The claims object is then stored
// as the socket data, where every later call of any plugin can read it.
//
// A refused client gets CONNECT_ERROR
// {"message":"unauthorized","data":{"reason":"..."}}, reason being one of
// "missing token", "malformed token", "unsupported alg", "bad signature",
// "expired", "not yet valid", "bad issuer", "bad audience" or
// "claims too large".
//
// Config ([plugin.auth-jwt.config] in server.toml):
//
//   - secret (string, required): the HMAC key; the plugin refuses to start
//     (its INIT call fails) when it is missing or empty;
//   - issuer (string, optional): the required "iss";
//   - audience (string, optional): a value "aud" must be or contain;
//   - leeway (number of seconds, optional, default 0): clock skew allowed
//     for "exp" and "nbf".
//
// Events: whoami (with an ack) answers {"id": socket id, "claims": the
// socket data}.
package main
