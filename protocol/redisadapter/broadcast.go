package redisadapter

import (
	"github.com/sockwasm/sockwasm/protocol/msgpack"
	"math"
	"time"

	"github.com/sockwasm/sockwasm/protocol/socketio"
)

// EmitterUID is the uid of every message published by
// @socket.io/redis-emitter.
const EmitterUID = "emitter"

// Packet is a Socket.IO packet as the adapters carry it between servers:
// the packet object before socket.io-parser encodes it for clients.
type Packet struct {
	// Type is socketio.Event for broadcasts, even when the data holds
	// binary: the receiving server makes it a BINARY_EVENT for its
	// clients. (A type 5 on the wire would make a Node.js server write
	// its buffers as JSON.) The encoders write BINARY_EVENT and BINARY_ACK
	// as EVENT and ACK, and the decoders return them so.
	Type socketio.Type
	// Nsp is the namespace. Classic broadcasts always carry it (a packet
	// without one is in "/"); ClusterAdapter packets leave it out, which
	// Nsp "" stands for.
	Nsp string
	// Data is the packet's data as JSON text, for an event the array
	// [name, ...args] exactly as socketio.Packet.Data holds it, with
	// placeholders {"_placeholder":true,"num":N} for binary values. nil
	// when the packet has no data.
	Data []byte
	// Attachments are the binary values the placeholders of Data refer
	// to. On the wire they are inline msgpack bin values; decoded ones
	// alias the message.
	Attachments [][]byte
}

// Flags are the broadcast flags a message carries, the subset of
// socket.io's BroadcastFlags that has a meaning on a receiving server.
// Other flags are ignored when decoding.
type Flags struct {
	// Volatile lets a receiving server drop the packet for clients that
	// are not ready to take it.
	Volatile bool
	// Compress is the compress flag; valid when HasCompress. Engine.IO
	// compresses unless it is false.
	Compress    bool
	HasCompress bool
	// Local restricts a broadcast to the local server; Node.js never
	// publishes a broadcast with it.
	Local bool
	// Timeout is the ack timeout of a broadcast with acknowledgements,
	// carried in milliseconds; valid when HasTimeout.
	Timeout    time.Duration
	HasTimeout bool
	// ExpectSingleResponse is set by socket.io's RemoteSocket.emit, so
	// that an acknowledgement callback gets one response instead of an
	// array. Only the sender uses it.
	ExpectSingleResponse bool
}

// BroadcastOptions select the receivers of a broadcast or of a remote
// operation: the sockets in any of Rooms (every socket when Rooms is
// empty), except the sockets in any of Except.
type BroadcastOptions struct {
	Rooms  []string
	Except []string
	// Flags are carried by broadcasts and ClusterAdapter messages only.
	Flags Flags
}

// Broadcast is the message published on a broadcast channel, the msgpack
// array [uid, packet, opts].
type Broadcast struct {
	// UID is the publishing adapter's uid, EmitterUID for the emitter. A
	// server drops broadcasts that carry its own uid.
	UID    string
	Packet Packet
	Opts   BroadcastOptions
}

// AppendBroadcast appends the msgpack message of b, byte for byte what
// @socket.io/redis-adapter publishes for the same broadcast: [uid,
// {type, data, nsp}, {rooms, except, flags}], with the binary values of
// b.Packet inline (see AppendMsgpack for the data). Flags are written in
// the order expectSingleResponse, volatile, compress, local, timeout;
// socket.io writes them in the order of the calls that set them. An empty b.Packet.Nsp is written as "/". The
// channel to publish it on is PublishChannel(key, nsp, b.Opts.Rooms). On
// error dst is returned unchanged.
func AppendBroadcast(dst []byte, b *Broadcast) ([]byte, error) {
	w := getWriter(dst)
	w.ArrayLen(3)
	w.Str(b.UID)
	if err := w.packet(&b.Packet, true); err != nil {
		w.Done()
		return dst, err
	}
	w.options(&b.Opts, true)
	return w.Done(), nil
}

// DecodeBroadcast decodes a message received on a broadcast channel as a
// Node.js server does; the result's Attachments alias msg. A packet
// without a namespace is in "/"; a null uid reads as "". Packet members
// other than type, data and nsp are ignored (the format has no ack id:
// a server gives the packets of a broadcast with acknowledgements ids of
// its own). Like Node.js, a server then drops a broadcast with its own
// UID or another namespace.
func DecodeBroadcast(msg []byte, lim Limits) (Broadcast, error) {
	r := newReader(msg, lim)
	defer r.Release()
	var b Broadcast
	t, err := r.Next()
	if err != nil {
		return b, err
	}
	if t.Kind != msgpack.KindArray {
		return b, fieldErr("message", "not an array")
	}
	if t.Len < 3 {
		return b, fieldErr("message", "fewer than 3 elements")
	}
	v, err := r.Next()
	if err != nil {
		return b, err
	}
	switch v.Kind {
	case msgpack.KindStr:
		b.UID = r.string(v.Bytes)
	case msgpack.KindNil, msgpack.KindUndefined:
	default:
		return b, fieldErr("uid", "not a string")
	}
	if v, err = r.Next(); err != nil {
		return b, err
	}
	if b.Packet, err = r.packet(v, "packet", socketio.DefaultNamespace); err != nil {
		return b, err
	}
	if v, err = r.Next(); err != nil {
		return b, err
	}
	if v.Kind != msgpack.KindMap {
		return b, fieldErr("opts", "not a map")
	}
	if b.Opts, err = r.options(v, "opts"); err != nil {
		return b, err
	}
	for range t.Len - 3 {
		if err := r.skipNext(); err != nil {
			return b, err
		}
	}
	return b, r.End()
}

// string returns the string in the bytes of a msgpack str, sharing the
// common constants instead of allocating.
func (r reader) string(b []byte) string {
	switch string(b) {
	case "":
		return ""
	case "/":
		return "/"
	case EmitterUID:
		return EmitterUID
	}
	return socketio.NodeString(b)
}

// skipNext skips the next value, nested at most MaxDepth deep.
func (r reader) skipNext() error {
	t, err := r.Next()
	if err != nil {
		return err
	}
	return r.Skip(t, 1)
}

// fields calls f for each member of the map t whose value is not
// undefined (JavaScript reads such a member as absent). f must consume
// the value's elements if it is an array or a map. Keys that are numbers
// reach f as nil, as no field this package reads has such a name.
func (r reader) fields(t msgpack.Token, field string, f func(key []byte, v msgpack.Token) error) error {
	if t.Kind != msgpack.KindMap {
		return fieldErr(field, "not a map")
	}
	for range t.Len {
		k, err := r.Next()
		if err != nil {
			return err
		}
		var key []byte
		switch k.Kind {
		case msgpack.KindStr:
			key = k.Bytes
		case msgpack.KindInt, msgpack.KindUint, msgpack.KindFloat:
		default:
			return ErrMapKey
		}
		v, err := r.Next()
		if err != nil {
			return err
		}
		if v.Kind == msgpack.KindUndefined {
			continue
		}
		if err := f(key, v); err != nil {
			return err
		}
	}
	return nil
}

// stringValue returns the string v.
func (r reader) stringValue(v msgpack.Token, field string) (string, error) {
	if v.Kind != msgpack.KindStr {
		return "", fieldErr(field, "not a string")
	}
	return r.string(v.Bytes), nil
}

// stringList decodes a list of rooms or ids. null is the empty list, as
// for new Set(null); numbers become their JavaScript string form.
func (r reader) stringList(v msgpack.Token, field string) ([]string, error) {
	switch v.Kind {
	case msgpack.KindNil:
		return nil, nil
	case msgpack.KindArray:
	default:
		return nil, fieldErr(field, "not an array")
	}
	if v.Len == 0 {
		return nil, nil
	}
	list := make([]string, 0, v.Len)
	for range v.Len {
		e, err := r.Next()
		if err != nil {
			return nil, err
		}
		s, err := r.roomValue(e, field)
		if err != nil {
			return nil, err
		}
		list = append(list, s)
	}
	return list, nil
}

// intValue returns the integral number v.
func intValue(v msgpack.Token, field string) (int64, error) {
	switch v.Kind {
	case msgpack.KindInt:
		return v.Int, nil
	case msgpack.KindFloat:
		if v.Float == math.Trunc(v.Float) && math.Abs(v.Float) < 1<<63 {
			return int64(v.Float), nil
		}
	}
	return 0, fieldErr(field, "not an integer")
}

// boolValue returns whether v is truthy, skipping its elements.
func (r reader) boolValue(v msgpack.Token) (bool, error) {
	return v.Truthy(), r.Skip(v, 1)
}

// packet decodes a packet map; defNsp is the namespace of a packet
// without one.
func (r reader) packet(t msgpack.Token, field, defNsp string) (Packet, error) {
	p := Packet{Nsp: defNsp}
	hasType := false
	err := r.fields(t, field, func(key []byte, v msgpack.Token) error {
		switch string(key) {
		case "type":
			n, err := intValue(v, "type")
			if err != nil {
				return within(field, err)
			}
			if n < int64(socketio.Connect) || n > int64(socketio.BinaryAck) {
				return within(field, fieldErr("type", "not a packet type"))
			}
			p.Type, hasType = normalType(socketio.Type(n)), true
		case "data":
			p.Attachments = p.Attachments[:0]
			buf := p.Data[:0]
			if buf == nil {
				buf = make([]byte, 0, r.JSONSize(v))
			}
			data, defined, err := r.jsonValue(buf, v, &p.Attachments, 0)
			if err != nil {
				return err
			}
			if defined {
				p.Data = data
			} else {
				p.Data = nil
			}
		case "nsp":
			s, err := r.stringValue(v, "nsp")
			if err != nil {
				return within(field, err)
			}
			p.Nsp = s
		default:
			return r.Skip(v, 1)
		}
		return nil
	})
	if err != nil {
		return p, err
	}
	if !hasType {
		return p, within(field, fieldErr("type", "missing"))
	}
	if len(p.Attachments) == 0 {
		p.Attachments = nil
	}
	return p, nil
}

// normalType maps the binary packet types to the types the adapters carry.
func normalType(t socketio.Type) socketio.Type {
	switch t {
	case socketio.BinaryEvent:
		return socketio.Event
	case socketio.BinaryAck:
		return socketio.Ack
	}
	return t
}

// options decodes {rooms, except, flags}.
func (r reader) options(t msgpack.Token, field string) (BroadcastOptions, error) {
	var o BroadcastOptions
	err := r.fields(t, field, func(key []byte, v msgpack.Token) error {
		var err error
		switch string(key) {
		case "rooms":
			o.Rooms, err = r.stringList(v, "rooms")
		case "except":
			o.Except, err = r.stringList(v, "except")
		case "flags":
			o.Flags, err = r.flags(v)
		default:
			err = r.Skip(v, 1)
		}
		return within(field, err)
	})
	return o, err
}

// flags decodes the flags map; anything else counts as no flags.
func (r reader) flags(t msgpack.Token) (Flags, error) {
	var f Flags
	if t.Kind != msgpack.KindMap {
		return f, r.Skip(t, 1)
	}
	err := r.fields(t, "flags", func(key []byte, v msgpack.Token) error {
		var err error
		switch string(key) {
		case "volatile":
			f.Volatile, err = r.boolValue(v)
		case "compress":
			// Engine.IO compresses unless the flag is exactly false.
			f.Compress, f.HasCompress = v.Kind != msgpack.KindBool || v.Bool, true
			err = r.Skip(v, 1)
		case "local":
			f.Local, err = r.boolValue(v)
		case "expectSingleResponse":
			f.ExpectSingleResponse, err = r.boolValue(v)
		case "timeout":
			if ms, ok := v.Number(); ok && !math.IsNaN(ms) {
				f.Timeout, f.HasTimeout = msDuration(ms), true
			}
			err = r.Skip(v, 1)
		default:
			err = r.Skip(v, 1)
		}
		return err
	})
	return f, err
}

// msDuration converts milliseconds to a Duration, saturating.
func msDuration(ms float64) time.Duration {
	ns := ms * float64(time.Millisecond)
	switch {
	case ns >= math.MaxInt64:
		return math.MaxInt64
	case ns <= math.MinInt64:
		return math.MinInt64
	}
	return time.Duration(ns)
}

// packet writes the msgpack map {type, data, nsp}; withNsp writes the
// namespace ("/" when empty), otherwise it is written only when set.
func (w writer) packet(p *Packet, withNsp bool) error {
	nsp := p.Nsp
	if withNsp && nsp == "" {
		nsp = socketio.DefaultNamespace
	}
	n := 1
	if p.Data != nil {
		n++
	}
	if nsp != "" {
		n++
	}
	w.MapLen(n)
	w.Str("type")
	w.Uint(uint64(normalType(p.Type)))
	if p.Data != nil {
		w.Str("data")
		if err := w.JSONValue(p.Data, p.Attachments, Limits{}); err != nil {
			return err
		}
	}
	if nsp != "" {
		w.Str("nsp")
		w.Str(nsp)
	}
	return nil
}

func (w writer) strList(list []string) {
	w.ArrayLen(len(list))
	for _, s := range list {
		w.Str(s)
	}
}

// options writes the msgpack map {rooms, except[, flags]}.
func (w writer) options(o *BroadcastOptions, withFlags bool) {
	if withFlags {
		w.MapLen(3)
	} else {
		w.MapLen(2)
	}
	w.Str("rooms")
	w.strList(o.Rooms)
	w.Str("except")
	w.strList(o.Except)
	if withFlags {
		w.Str("flags")
		w.flags(&o.Flags)
	}
}

// flags writes the msgpack map of the flags that are set. socket.io adds
// flags in the order of the calls that set them, which Flags does not
// keep; the order here is expectSingleResponse (set when a RemoteSocket is
// made), volatile, compress, local, timeout.
func (w writer) flags(f *Flags) {
	n := 0
	for _, set := range [...]bool{f.ExpectSingleResponse, f.Volatile, f.HasCompress, f.Local, f.HasTimeout} {
		if set {
			n++
		}
	}
	w.MapLen(n)
	if f.ExpectSingleResponse {
		w.Str("expectSingleResponse")
		w.Bool(true)
	}
	if f.Volatile {
		w.Str("volatile")
		w.Bool(true)
	}
	if f.HasCompress {
		w.Str("compress")
		w.Bool(f.Compress)
	}
	if f.Local {
		w.Str("local")
		w.Bool(true)
	}
	if f.HasTimeout {
		w.Str("timeout")
		w.Number(timeoutMS(f.Timeout))
	}
}

// timeoutMS converts a timeout to the milliseconds JavaScript would hold.
func timeoutMS(d time.Duration) float64 {
	if d%time.Millisecond == 0 {
		return float64(d / time.Millisecond)
	}
	return float64(d) / float64(time.Millisecond)
}
