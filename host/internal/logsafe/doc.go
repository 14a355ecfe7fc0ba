// Package logsafe turns untrusted bytes (a plugin's log message, a
// client's packet) into text that cannot forge log lines: no control
// characters, no invalid UTF-8, bounded length. zerolog's JSON output
// escapes on its own; its console output does not, so every untrusted
// string goes through here before it reaches a logger.
package logsafe
