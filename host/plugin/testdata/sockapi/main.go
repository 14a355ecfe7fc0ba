//go:build wasip1

// Command sockapi is a test guest exercising the socket-facing imports:
// handshake, socket data, server-side room operations, volatile and
// broadcast-with-ack emits, and per-event middleware.
package main

import (
	"encoding/binary"
	"time"

	sockwasm "github.com/sockwasm/sockwasm/sdk/go"
)

func main() {}

// code returns the ABI result code of err (0 for nil).
func code(err error) int64 {
	if e, ok := err.(sockwasm.Error); ok {
		return int64(e)
	}
	return 0
}

func ackInt(e *sockwasm.Event, err error) {
	e.Ack(append(sockwasm.AppendInt([]byte("["), code(err)), ']'))
}

// strs returns the strings of a JSON array argument.
func strs(v sockwasm.Value) []string {
	var out []string
	for i := range v.Len() {
		s, _ := v.Index(i).AsString()
		out = append(out, s)
	}
	return out
}

func init() {
	sockwasm.OnConnect(func(s *sockwasm.Socket) *sockwasm.ConnectError {
		if u, ok := s.Auth().Get("user").AsString(); ok {
			if err := s.SetData(append(sockwasm.AppendString([]byte(`{"user":`), u), '}')); err != nil {
				return &sockwasm.ConnectError{Message: err.Error()}
			}
		}
		return nil
	})
	sockwasm.OnEventMiddleware(func(s *sockwasm.Socket, e *sockwasm.Event) *sockwasm.Rejection {
		switch e.Name {
		case "forbidden":
			return &sockwasm.Rejection{Message: "no way", Data: []byte(`{"code":7}`)}
		case "plain":
			return sockwasm.Reject("plain")
		case "probe":
			// Everything but socket data is refused here.
			b := []byte(`{"emit":`)
			b = sockwasm.AppendInt(b, code(s.Emit("x", []byte("[]"))))
			b = append(b, `,"ack":`...)
			b = sockwasm.AppendInt(b, code(e.Ack([]byte("[]"))))
			b = append(b, `,"join":`...)
			b = sockwasm.AppendInt(b, code(s.Join("r")))
			b = append(b, `,"bcast":`...)
			b = sockwasm.AppendInt(b, code(s.Broadcast().Emit("x", []byte("[]"))))
			b = append(b, `,"kick":`...)
			b = sockwasm.AppendInt(b, code(sockwasm.In("r").DisconnectSockets(false)))
			b = append(b, `,"name":`...)
			b = sockwasm.AppendString(b, e.Name)
			b = append(b, '}')
			if err := s.SetData(b); err != nil {
				return sockwasm.Reject(err.Error())
			}
		case "crash":
			panic("middleware crash")
		}
		return nil
	})
	sockwasm.OnEvent("handshake", func(s *sockwasm.Socket, e *sockwasm.Event) {
		h := s.Handshake()
		b := []byte("[")
		b = sockwasm.AppendString(b, h.Headers["user-agent"])
		b = append(b, ',')
		b = sockwasm.AppendString(b, h.Query["EIO"])
		b = append(b, ',')
		b = sockwasm.AppendString(b, h.Address)
		b = append(b, ',')
		b = sockwasm.AppendInt(b, h.Issued.UnixMilli())
		b = append(b, ',')
		b = append(b, h.Auth...)
		b = append(b, ',')
		b = append(b, s.HandshakeJSON().Get("url")...)
		e.Ack(append(b, ']'))
	})
	sockwasm.OnEvent("setdata", func(s *sockwasm.Socket, e *sockwasm.Event) {
		ackInt(e, s.SetData(e.Arg(0).Raw()))
	})
	sockwasm.OnEvent("baddata", func(s *sockwasm.Socket, e *sockwasm.Event) {
		ackInt(e, s.SetData([]byte("{")))
	})
	sockwasm.OnEvent("bigdata", func(s *sockwasm.Socket, e *sockwasm.Event) {
		n, _ := e.Arg(0).AsInt()
		b := make([]byte, n)
		b[0] = '"'
		for i := 1; i < len(b)-1; i++ {
			b[i] = 'x'
		}
		b[len(b)-1] = '"'
		ackInt(e, s.SetData(b))
	})
	sockwasm.OnEvent("getdata", func(s *sockwasm.Socket, e *sockwasm.Event) {
		d := s.Data()
		if !d.Exists() {
			d = sockwasm.Value("null")
		}
		e.Ack(append(append([]byte("["), d...), ']'))
	})
	// fetch [rooms]: acks [[id, rooms, data], ...].
	sockwasm.OnEvent("fetch", func(s *sockwasm.Socket, e *sockwasm.Event) {
		socks, err := sockwasm.In(strs(e.Arg(0))...).FetchSockets()
		if err != nil {
			ackInt(e, err)
			return
		}
		b := []byte("[")
		for i, rs := range socks {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = sockwasm.AppendString(b, rs.ID)
			b = append(b, ',')
			b = sockwasm.AppendStrings(b, rs.Rooms)
			b = append(b, ',')
			b = append(b, rs.Data...)
			b = append(b, ']')
		}
		e.Ack(append(b, ']'))
	})
	// join [rooms], [new rooms]
	sockwasm.OnEvent("join", func(s *sockwasm.Socket, e *sockwasm.Event) {
		ackInt(e, sockwasm.In(strs(e.Arg(0))...).SocketsJoin(strs(e.Arg(1))...))
	})
	sockwasm.OnEvent("leave", func(s *sockwasm.Socket, e *sockwasm.Event) {
		ackInt(e, s.To(strs(e.Arg(0))...).SocketsLeave(strs(e.Arg(1))...))
	})
	sockwasm.OnEvent("kick", func(s *sockwasm.Socket, e *sockwasm.Event) {
		ackInt(e, sockwasm.In(strs(e.Arg(0))...).Except(s.ID()).DisconnectSockets(true))
	})
	sockwasm.OnEvent("volatile", func(s *sockwasm.Socket, e *sockwasm.Event) {
		ackInt(e, s.Volatile().Compress(true).Emit("v", e.Args()))
	})
	sockwasm.OnEvent("vbcast", func(s *sockwasm.Socket, e *sockwasm.Event) {
		ackInt(e, s.To("r").Volatile().Emit("v", e.Args()))
	})
	// bcastack: broadcast "q" with acks to everyone else; the answers
	// come back to the client's ack.
	sockwasm.OnEvent("bcastack", func(s *sockwasm.Socket, e *sockwasm.Event) {
		ctx := binary.LittleEndian.AppendUint64(nil, e.AckID())
		if err := s.Broadcast().EmitWithAck("q", e.Args(), 500*time.Millisecond, ctx); err != nil {
			ackInt(e, err)
		}
	})
	sockwasm.OnAckResponse(func(s *sockwasm.Socket, r *sockwasm.AckResponse) {
		if !r.IsBroadcast() || len(r.Context) != 8 {
			return
		}
		b := []byte("[")
		b = sockwasm.AppendInt(b, int64(r.Status))
		for _, rep := range r.Replies() {
			b = append(b, ',')
			b = sockwasm.AppendString(b, rep.SocketID)
			b = append(b, ',')
			b = append(b, rep.Args...)
		}
		s.Ack(binary.LittleEndian.Uint64(r.Context), append(b, ']'), r.Attachments()...)
	})
}
