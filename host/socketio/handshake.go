package socketio

import (
	"bytes"
	"encoding/json"
	"net"
	"strings"
	"time"
)

// handshakeJSON is the JSON shape of the reference server's
// socket.handshake, as fetchSockets hands it to other servers.
type handshakeJSON struct {
	Headers map[string]string `json:"headers"`
	Time    string            `json:"time"`
	Address string            `json:"address"`
	XDomain bool              `json:"xdomain"`
	Secure  bool              `json:"secure"`
	Issued  int64             `json:"issued"`
	URL     string            `json:"url"`
	Query   map[string]any    `json:"query"`
	Auth    json.RawMessage   `json:"auth"`
}

// HandshakeJSON returns the socket's handshake as the reference server
// shows it (socket.handshake): headers with lower-case names and repeated
// values joined with ", ", the time as JavaScript's Date.toString in UTC,
// the peer's IP, xdomain (an Origin header was sent), secure (TLS),
// issued (milliseconds since the Unix epoch), the request URL, the query
// (a string per key, an array for repeated keys) and the auth payload.
func (s *Socket) HandshakeJSON() []byte {
	hs := s.Handshake()
	out := handshakeJSON{Headers: map[string]string{}, Query: map[string]any{}, Auth: s.Auth()}
	if hs != nil {
		for k, v := range hs.Header() {
			out.Headers[strings.ToLower(k)] = strings.Join(v, ", ")
		}
		for k, v := range hs.Query() {
			if len(v) == 1 {
				out.Query[k] = v[0]
			} else {
				out.Query[k] = v
			}
		}
		out.Address = hs.RemoteAddr
		if host, _, err := net.SplitHostPort(hs.RemoteAddr); err == nil {
			out.Address = host
		}
		out.Time = jsDateString(hs.Time)
		out.Issued = hs.Time.UnixMilli()
		out.Secure = hs.Secure
		out.XDomain = out.Headers["origin"] != ""
		out.URL = hs.URL
	}
	if len(out.Auth) == 0 {
		out.Auth = json.RawMessage("{}")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&out); err != nil { // auth is valid JSON (checked by the decoder)
		return []byte("{}")
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// jsDateString formats t as JavaScript's Date.prototype.toString does in
// the UTC time zone: "Tue Dec 01 2026 23:59:00 GMT+0000 (Coordinated
// Universal Time)".
func jsDateString(t time.Time) string {
	return t.UTC().Format("Mon Jan 02 2006 15:04:05") + " GMT+0000 (Coordinated Universal Time)"
}
