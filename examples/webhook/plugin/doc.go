// Command plugin is the webhook example plugin
// (plugins/webhook/webhook.wasm): it handles the chat's "say" event
// (routed to it with events = { say = "webhook" }, the chat plugin
// handling the rest) and posts each message to a webhook.
//
// "say" [{"room": R, "text": T}] is broadcast to the room as "said"
// {"room", "from", "text"}, as the chat plugin does, then POSTed to the
// webhook as JSON: {"room": R, "from": socket id, "text": T, "at": Unix
// time in milliseconds}, with the header "X-Webhook-Signature:
// sha256=<hex HMAC-SHA256 of the body>" when a secret is configured. The
// client's ack waits for the webhook: [{"ok":true,"delivered":true}] when it
// answered 2xx, else [{"ok":true,"delivered":false,"error":E}], E being
// "status N" or the failure (timeout, not_allowed, too_large, failed, or
// busy when max_http_concurrent posts are in flight). The message is
// delivered to the room either way; the webhook is told once, never
// retried.
//
// The ack id travels in the request's context, and the HTTP_RESPONSE call
// is about the socket that spoke, so the instance keeps nothing.
//
// Config ([plugin.webhook.config]): url, the webhook's URL (required; it
// must be under the plugin's http_allow), secret (optional). The plugin
// needs grants = ["http"].
package main
