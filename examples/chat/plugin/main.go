package main

import (
	"encoding/binary"
	"slices"
	"time"
	"unicode/utf8"

	sockwasm "github.com/sockwasm/sockwasm/sdk/go"
)

const maxRoomLen = 128

var badRequest = []byte(`[{"ok":false,"error":"bad request"}]`)

func init() {
	sockwasm.OnConnect(func(s *sockwasm.Socket) *sockwasm.ConnectError {
		if tok, ok := s.Auth().Get("token").AsString(); ok && tok == "bad" {
			return &sockwasm.ConnectError{Message: "unauthorized", Data: []byte(`{"code":401}`)}
		}
		return nil
	})
	sockwasm.OnEvent("echo", echo)
	sockwasm.OnEvent("join", func(s *sockwasm.Socket, e *sockwasm.Event) { membership(s, e, true) })
	sockwasm.OnEvent("leave", func(s *sockwasm.Socket, e *sockwasm.Event) { membership(s, e, false) })
	sockwasm.OnEvent("say", say)
	sockwasm.OnEvent("rooms", rooms)
	sockwasm.OnEvent("whoami", whoami)
	sockwasm.OnEvent("stats", func(s *sockwasm.Socket, e *sockwasm.Event) {
		n, err := s.ClientCount()
		e.Ack(append(appendCount([]byte(`[{"clients":`), n, err), "}]"...))
	})
	sockwasm.OnEvent("ping-me", pingMe)
	sockwasm.OnAckResponse(pong)
	sockwasm.OnEvent("bye", func(s *sockwasm.Socket, e *sockwasm.Event) { s.Disconnect() })
	sockwasm.OnDisconnect(left)
}

func echo(s *sockwasm.Socket, e *sockwasm.Event) {
	if e.HasAck() {
		e.Ack(e.Args(), e.Attachments()...)
		return
	}
	s.Emit("echo-back", e.Args(), e.Attachments()...)
}

// room returns the valid room of the first argument {room: string}.
func room(e *sockwasm.Event) (string, bool) {
	r, ok := e.Arg(0).Get("room").AsString()
	if !ok || r == "" || utf8.RuneCountInString(r) > maxRoomLen {
		return "", false
	}
	return r, true
}

func membership(s *sockwasm.Socket, e *sockwasm.Event, join bool) {
	r, ok := room(e)
	if !ok {
		e.Ack(badRequest)
		return
	}
	if join {
		s.Join(r)
	} else {
		s.Leave(r)
	}
	b := append([]byte(`[{"ok":true,"room":`), sockwasm.AppendString(nil, r)...)
	b = append(b, `,"size":`...)
	n, err := s.RoomSize(r)
	e.Ack(append(appendCount(b, n, err), "}]"...))
}

// appendCount appends a count, or null when it could not be had (in a
// cluster whose other nodes did not answer in time).
func appendCount(b []byte, n int, err error) []byte {
	if err != nil {
		return append(b, "null"...)
	}
	return sockwasm.AppendInt(b, int64(n))
}

func say(s *sockwasm.Socket, e *sockwasm.Event) {
	r, ok := room(e)
	text := e.Arg(0).Get("text")
	if ok && text.Kind() != sockwasm.KindString {
		ok = false
	}
	if !ok {
		e.Ack(badRequest)
		return
	}
	b := append([]byte(`[{"room":`), sockwasm.AppendString(nil, r)...)
	b = append(b, `,"from":`...)
	b = sockwasm.AppendString(b, s.ID())
	b = append(b, `,"text":`...)
	b = append(b, text.Raw()...)
	s.To(r).Emit("said", append(b, "}]"...))
	e.Ack([]byte(`[{"ok":true}]`))
}

func rooms(s *sockwasm.Socket, e *sockwasm.Event) {
	rs := slices.DeleteFunc(s.Rooms(), func(r string) bool { return r == s.ID() })
	slices.Sort(rs)
	b := append([]byte{'['}, sockwasm.AppendStrings(nil, rs)...)
	e.Ack(append(b, ']'))
}

func whoami(s *sockwasm.Socket, e *sockwasm.Event) {
	b := append([]byte(`[{"id":`), sockwasm.AppendString(nil, s.ID())...)
	b = append(b, `,"nsp":`...)
	b = sockwasm.AppendString(b, s.Namespace())
	b = append(b, `,"auth":`...)
	auth := s.Auth().Raw()
	if len(auth) == 0 {
		auth = []byte("{}")
	}
	b = append(b, auth...)
	b = append(b, `,"transport":`...)
	b = sockwasm.AppendString(b, s.Transport())
	e.Ack(append(b, "}]"...))
}

// pingMe asks the client back; the original ack id travels in the context
// and is answered from pong.
func pingMe(s *sockwasm.Socket, e *sockwasm.Event) {
	var ctx []byte
	if e.HasAck() {
		ctx = binary.LittleEndian.AppendUint64(nil, e.AckID())
	}
	if err := s.EmitWithAck("server-ping", e.Args(), 2*time.Second, ctx, e.Attachments()...); err != nil && e.HasAck() {
		e.Ack([]byte(`[{"ok":false,"error":"unavailable"}]`))
	}
}

func pong(s *sockwasm.Socket, r *sockwasm.AckResponse) {
	if len(r.Context) != 8 {
		return
	}
	id := binary.LittleEndian.Uint64(r.Context)
	if !r.OK() {
		s.Ack(id, []byte(`[{"ok":false,"error":"timeout"}]`))
		return
	}
	answer := r.Arg(0).Raw()
	if len(answer) == 0 {
		answer = []byte("null")
	}
	b := append([]byte(`[{"ok":true,"answer":`), answer...)
	s.Ack(id, append(b, "}]"...), r.Attachments()...)
}

func left(s *sockwasm.Socket, reason string, rooms []string) {
	for _, r := range rooms {
		b := append([]byte(`[{"room":`), sockwasm.AppendString(nil, r)...)
		b = append(b, `,"id":`...)
		b = sockwasm.AppendString(b, s.ID())
		b = append(b, `,"reason":`...)
		b = sockwasm.AppendString(b, reason)
		s.To(r).Emit("left", append(b, "}]"...))
	}
}

// main is not run in c-shared mode; handlers are registered by init.
func main() {}
