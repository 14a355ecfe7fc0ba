package main

import (
	"encoding/json"
	"errors"

	sockwasm "github.com/sockwasm/sockwasm/sdk/go"
)

func init() {
	sockwasm.OnInit(func(raw []byte) error {
		_, err := checkURL(raw)
		return err
	})
	sockwasm.OnConnect(admit)
	sockwasm.OnConnection(verify)
	sockwasm.OnHTTPResponse(verified)
	sockwasm.OnEventMiddleware(gate)
	sockwasm.OnEvent("whoami", whoami)
}

// checkURL returns the url of the config table.
func checkURL(raw []byte) (string, error) {
	var c struct {
		URL string `json:"url"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return "", errors.New("config: " + err.Error())
	}
	if c.URL == "" {
		return "", errors.New(`config: url is required ([plugin.auth-http.config] url = "https://auth.example.com/verify")`)
	}
	return c.URL, nil
}

// token returns the token of the socket's CONNECT payload.
func token(s *sockwasm.Socket) (string, bool) {
	t, ok := s.Auth().Get("token").AsString()
	return t, ok && t != ""
}

// reason builds {"reason":R}.
func reason(r string) []byte {
	return append(sockwasm.AppendString([]byte(`{"reason":`), r), '}')
}

// admit is the connection middleware: no token, no connection.
func admit(s *sockwasm.Socket) *sockwasm.ConnectError {
	if _, ok := token(s); !ok {
		return &sockwasm.ConnectError{Message: "unauthorized", Data: reason("missing token")}
	}
	return nil
}

// verify starts the check of a connected socket's token.
func verify(s *sockwasm.Socket) {
	url, err := checkURL(sockwasm.Config())
	tok, _ := token(s)
	if err == nil {
		body := append(sockwasm.AppendString([]byte(`{"token":`), tok), '}')
		_, err = sockwasm.StartHTTP(&sockwasm.HTTPRequest{Method: "POST", URL: url, Body: body,
			Header: map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}}, nil)
	}
	if err != nil {
		sockwasm.Log(sockwasm.LevelWarn, "auth check not started: "+err.Error())
		refuse(s, "auth service unavailable")
	}
}

// refuse tells the client why and disconnects it.
func refuse(s *sockwasm.Socket, why string) {
	s.Emit("unauthorized", append(append([]byte("["), reason(why)...), ']'))
	s.Disconnect()
}

// verified handles the auth service's answer, in a call about the socket.
func verified(r *sockwasm.HTTPResponse) {
	s := r.Socket
	if s == nil {
		return
	}
	switch {
	case r.Status == 200 && r.Failure == "" && sockwasm.Value(r.Body()).Kind() == sockwasm.KindObject:
		user := r.Body()
		data := append(append([]byte(`{"user":`), user...), '}')
		if err := s.SetData(data); err != nil {
			why := "auth service unavailable" // its answer is not JSON
			if err == sockwasm.ErrLimit {
				why = "user too large"
			}
			refuse(s, why)
			return
		}
		s.Emit("authenticated", append(append([]byte("["), user...), ']'))
	case r.Status == 401 || r.Status == 403:
		refuse(s, "rejected")
	default:
		detail := string(r.Failure)
		if detail == "" {
			detail = "status " + string(sockwasm.AppendInt(nil, int64(r.Status)))
		} else {
			detail += ": " + r.Detail
		}
		sockwasm.Log(sockwasm.LevelWarn, "auth check failed: "+detail)
		refuse(s, "auth service unavailable")
	}
}

// gate is the event middleware: only verified sockets' events pass.
func gate(s *sockwasm.Socket, e *sockwasm.Event) *sockwasm.Rejection {
	if !s.Data().Get("user").Exists() {
		return &sockwasm.Rejection{Message: "not authenticated"}
	}
	return nil
}

// whoami acks {"id": socket id, "user": the verified user}.
func whoami(s *sockwasm.Socket, e *sockwasm.Event) {
	user := s.Data().Get("user").Raw()
	if len(user) == 0 {
		user = []byte("null")
	}
	b := append(sockwasm.AppendString([]byte(`[{"id":`), s.ID()), `,"user":`...)
	e.Ack(append(append(b, user...), "}]"...))
}

// main is not run in c-shared mode; handlers are registered by init.
func main() {}
