// Command plugin is the auth-http example plugin
// (plugins/auth-http/auth-http.wasm): it admits a socket only once an
// HTTP auth service has accepted the token of its CONNECT payload.
//
// A connection middleware must decide at once, and an HTTP request takes
// longer, so the check spans three kinds of call:
//
//  1. MIDDLEWARE refuses a connection without a token at once
//     (CONNECT_ERROR {"message":"unauthorized","data":{"reason":"missing token"}})
//     and accepts the others, unverified.
//  2. CONNECT starts the check: POST <url> with the header
//     "Authorization: Bearer <token>" and the body {"token":"<token>"}.
//  3. HTTP_RESPONSE, about that socket: a 200 whose body is a JSON object
//     verifies the socket, the object becoming its user (socket data
//     {"user":{…}}) and the client getting "authenticated" with it; a 401
//     or 403 sends "unauthorized" {"reason":"rejected"}, any other answer
//     or a failure (timeout, refused, too large…) "unauthorized"
//     {"reason":"auth service unavailable"}, and then disconnects it.
//
// Meanwhile the socket is connected but not verified: the plugin's event
// middleware (event_middleware = ["auth-http"]) refuses its events with
// "not authenticated" until the check has passed. The plugin answers one
// event itself, "whoami": {"id": socket id, "user": the verified user}.
//
// Config ([plugin.auth-http.config]): url, the check's URL (required; it
// must be under the plugin's http_allow). The plugin needs grants =
// ["http"].
package main
