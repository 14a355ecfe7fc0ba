package redisadapter

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"github.com/sockwasm/sockwasm/protocol/msgpack"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sockwasm/sockwasm/protocol/socketio"
)

var selector = BroadcastOptions{Rooms: []string{"r1"}, Except: []string{"ex"}}

func TestRequests(t *testing.T) {
	tests := []struct {
		req  Request
		want string // JSON, or hex for msgpack
	}{
		{&SocketsRequest{UID: "abcdef", RequestID: "req123", Rooms: []string{"r1", "r2"}},
			`{"uid":"abcdef","requestId":"req123","type":0,"rooms":["r1","r2"]}`},
		{&SocketsRequest{RequestID: "req123"}, // adapter 6.x and 7.0 had no uid
			`{"requestId":"req123","type":0,"rooms":[]}`},
		{&AllRoomsRequest{UID: "abcdef", RequestID: "req123"},
			`{"uid":"abcdef","requestId":"req123","type":1}`},
		{&JoinRequest{UID: "abcdef", Opts: selector, Rooms: []string{"r2"}},
			`{"uid":"abcdef","type":2,"opts":{"rooms":["r1"],"except":["ex"]},"rooms":["r2"]}`},
		{&JoinRequest{Opts: BroadcastOptions{Rooms: []string{"r1"}}, Rooms: []string{"r2"}}, // emitter
			`{"type":2,"opts":{"rooms":["r1"],"except":[]},"rooms":["r2"]}`},
		{&LeaveRequest{UID: "abcdef", Opts: selector, Rooms: []string{"r2", "r3"}},
			`{"uid":"abcdef","type":3,"opts":{"rooms":["r1"],"except":["ex"]},"rooms":["r2","r3"]}`},
		{&DisconnectRequest{UID: "abcdef", Opts: selector, Close: true},
			`{"uid":"abcdef","type":4,"opts":{"rooms":["r1"],"except":["ex"]},"close":true}`},
		{&DisconnectRequest{},
			`{"type":4,"opts":{"rooms":[],"except":[]},"close":false}`},
		{&LegacyRequest{Type: TypeRemoteJoin, UID: "abcdef", RequestID: "req123", SID: "sid", Room: "r\"1"},
			`{"uid":"abcdef","requestId":"req123","type":2,"sid":"sid","room":"r\"1"}`},
		{&LegacyRequest{Type: TypeRemoteLeave, UID: "abcdef", RequestID: "req123", SID: "sid", Room: "r1"},
			`{"uid":"abcdef","requestId":"req123","type":3,"sid":"sid","room":"r1"}`},
		{&LegacyRequest{Type: TypeRemoteDisconnect, UID: "abcdef", RequestID: "req123", SID: "sid", Close: true},
			`{"uid":"abcdef","requestId":"req123","type":4,"sid":"sid","close":true}`},
		{&FetchSocketsRequest{UID: "abcdef", RequestID: "req123", Opts: selector},
			`{"uid":"abcdef","requestId":"req123","type":5,"opts":{"rooms":["r1"],"except":["ex"]}}`},
		{&ServerSideEmitRequest{UID: "abcdef", Data: json.RawMessage(`["hello",1,{"a":"b"}]`)},
			`{"uid":"abcdef","type":6,"data":["hello",1,{"a":"b"}]}`},
		{&ServerSideEmitRequest{UID: "abcdef", RequestID: "req123", Data: json.RawMessage(`["ping"]`)},
			`{"uid":"abcdef","requestId":"req123","type":6,"data":["ping"]}`},
		{&BroadcastRequest{UID: "abcdef", RequestID: "req123",
			Packet: Packet{Type: socketio.Event, Nsp: "/", Data: []byte(`["ask",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{9}}},
			Opts:   BroadcastOptions{Flags: Flags{HasTimeout: true, Timeout: time.Second}}},
			"85a3756964a6616263646566a9726571756573744964a6726571313233a47479706507a67061636b657483a47479706502a46461746192a361736bc40109a36e7370a12fa46f70747383a5726f6f6d7390a665786365707490a5666c61677381a774696d656f7574cd03e8"},
	}
	for _, c := range tests {
		t.Run(c.req.RequestType().String(), func(t *testing.T) {
			got, err := AppendRequest(nil, c.req)
			if err != nil {
				t.Fatal(err)
			}
			want := []byte(c.want)
			if c.want[0] != '{' {
				want, _ = hex.DecodeString(c.want)
			}
			if string(got) != string(want) {
				t.Fatalf("got  %q\nwant %q", got, want)
			}
			back, err := DecodeRequest(got, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(normalizeRequest(back), normalizeRequest(c.req)) {
				t.Fatalf("decoded %#v\nwant %#v", back, c.req)
			}
		})
	}
}

// normalizeRequest makes empty lists nil, for comparisons.
func normalizeRequest(r Request) Request {
	opts := func(o *BroadcastOptions) {
		if len(o.Rooms) == 0 {
			o.Rooms = nil
		}
		if len(o.Except) == 0 {
			o.Except = nil
		}
	}
	switch t := r.(type) {
	case *SocketsRequest:
		c := *t
		if len(c.Rooms) == 0 {
			c.Rooms = nil
		}
		return &c
	case *JoinRequest:
		c := *t
		opts(&c.Opts)
		return &c
	case *LeaveRequest:
		c := *t
		opts(&c.Opts)
		return &c
	case *DisconnectRequest:
		c := *t
		opts(&c.Opts)
		return &c
	case *FetchSocketsRequest:
		c := *t
		opts(&c.Opts)
		return &c
	case *BroadcastRequest:
		c := *t
		opts(&c.Opts)
		return &c
	}
	return r
}

func TestDecodeRequestForms(t *testing.T) {
	tests := []struct {
		in   string
		want Request
		err  error
	}{
		// opts tested for truthiness: a falsy opts is the legacy form.
		{in: `{"uid":"u","requestId":"i","type":2,"opts":null,"sid":"s","room":7}`,
			want: &LegacyRequest{Type: TypeRemoteJoin, UID: "u", RequestID: "i", SID: "s", Room: "7"}},
		{in: `{"type":2.0,"opts":{"rooms":["a",1.5]},"rooms":["b"]}`,
			want: &JoinRequest{Opts: BroadcastOptions{Rooms: []string{"a", "1.5"}}, Rooms: []string{"b"}}},
		{in: `{"type":4,"opts":{"rooms":null,"except":["x"],"extra":1},"close":1}`,
			want: &DisconnectRequest{Opts: BroadcastOptions{Except: []string{"x"}}, Close: true}},
		{in: `{ "type" : 1 , "requestId" : "i" , "other" : [ {} ] }`,
			want: &AllRoomsRequest{RequestID: "i"}},
		{in: "\x83\xa4type\x06\xa4data\x91\xa1e\xa3uid\xa1u", // msgpack
			want: &ServerSideEmitRequest{UID: "u", Data: json.RawMessage(`["e"]`)}},
		{in: `{"type":8,"requestId":"i"}`, err: ErrUnknownType},
		{in: `{"type":9,"requestId":"i"}`, err: ErrUnknownType},
		{in: `{"type":"2"}`, err: ErrUnknownType},
		{in: `{"requestId":"i"}`, err: ErrUnknownType},
		{in: `{"type":5,"requestId":"i"}`, err: ErrInvalidMessage},
		{in: `{"type":6,"data":{"a":1}}`, err: ErrInvalidMessage},
		{in: `{"type":6}`, err: ErrInvalidMessage},
		{in: `{"type":7,"requestId":"i","opts":{}}`, err: ErrInvalidMessage},
		{in: `{"type":0,"rooms":[null]}`, err: ErrInvalidMessage},
		{in: `{"type":0,"rooms":"r1"}`, err: ErrInvalidMessage},
		{in: `{"type":0,"uid":5}`, err: ErrInvalidMessage},
		{in: `{"type":0,`, err: ErrInvalidJSON},
		{in: `{"type":0} x`, err: ErrInvalidJSON},
		{in: "\x81\xa4type\x06\xa4data", err: ErrInvalidMsgpack},
		{in: "\x92\x01\x02", err: ErrInvalidMessage},
		{in: "\x82\xa4type\x06\xa4data\x91\xc4\x00", err: ErrInvalidMessage}, // binary in JSON-only data
	}
	for _, c := range tests {
		got, err := DecodeRequest([]byte(c.in), Limits{})
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("%q: %v, want %v", c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: %#v, want %#v", c.in, got, c.want)
		}
	}
}

func TestResponses(t *testing.T) {
	hs, err := AppendHandshake(nil, &Handshake{
		Headers: json.RawMessage(`{"host":"localhost:3000"}`),
		Time:    "Tue Dec 01 2026 23:45:04 GMT+0000 (Coordinated Universal Time)",
		Address: "::1", Secure: true, Issued: 1796168704387, URL: "/socket.io/?EIO=4&transport=websocket",
		Query: json.RawMessage(`{"EIO":"4"}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	const hsJSON = `{"headers":{"host":"localhost:3000"},"time":"Tue Dec 01 2026 23:45:04 GMT+0000 (Coordinated Universal Time)","address":"::1","xdomain":false,"secure":true,"issued":1796168704387,"url":"/socket.io/?EIO=4&transport=websocket","query":{"EIO":"4"},"auth":{}}`
	if string(hs) != hsJSON {
		t.Fatalf("handshake %s", hs)
	}
	tests := []struct {
		resp Response
		want string // JSON, or hex for msgpack
	}{
		{&SocketsResponse{RequestID: "req123", SocketIDs: []string{"a", "b"}},
			`{"requestId":"req123","sockets":["a","b"]}`},
		{&SocketsResponse{RequestID: "req123"},
			`{"requestId":"req123","sockets":[]}`},
		{&SocketsResponse{RequestID: "req123", Sockets: []FetchedSocket{
			{ID: "sid1", Handshake: hs, Rooms: []string{"sid1", "r1"}, Data: json.RawMessage(`{"name":"alice","n":1.5}`)},
			{ID: "sid2", Handshake: json.RawMessage(`{}`), Rooms: []string{"sid2"}},
		}}, `{"requestId":"req123","sockets":[{"id":"sid1","handshake":` + hsJSON + `,"rooms":["sid1","r1"],"data":{"name":"alice","n":1.5}},{"id":"sid2","handshake":{},"rooms":["sid2"]}]}`},
		{&AllRoomsResponse{RequestID: "req123", Rooms: []string{"sid1", "r1"}},
			`{"requestId":"req123","rooms":["sid1","r1"]}`},
		{&LegacyResponse{RequestID: "req123"}, `{"requestId":"req123"}`},
		{&ServerSideEmitResponse{RequestID: "req123", Data: json.RawMessage(`{"ok":7}`)},
			`{"type":6,"requestId":"req123","data":{"ok":7}}`},
		{&ServerSideEmitResponse{RequestID: "req123"}, `{"type":6,"requestId":"req123"}`},
		{&ClientCountResponse{RequestID: "req123", ClientCount: 3},
			`{"type":8,"requestId":"req123","clientCount":3}`},
		{&BroadcastAckResponse{RequestID: "req005", Packet: json.RawMessage(`"pong"`)},
			"83a47479706509a9726571756573744964a6726571303035a67061636b6574a4706f6e67"},
		{&BroadcastAckResponse{RequestID: "req006", Packet: json.RawMessage(`{"bin":{"_placeholder":true,"num":0}}`), Attachments: [][]byte{{6}}},
			"83a47479706509a9726571756573744964a6726571303036a67061636b657481a362696ec40106"},
		{&BroadcastAckResponse{RequestID: "req007"},
			"82a47479706509a9726571756573744964a6726571303037"},
	}
	for _, c := range tests {
		got, err := AppendResponse(nil, c.resp)
		if err != nil {
			t.Fatal(err)
		}
		want := []byte(c.want)
		if c.want[0] != '{' {
			want, _ = hex.DecodeString(c.want)
		}
		if string(got) != string(want) {
			t.Fatalf("got  %q\nwant %q", got, want)
		}
		back, err := DecodeResponse(got, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, c.resp) {
			t.Fatalf("decoded %#v\nwant %#v", back, c.resp)
		}
		if back.ResponseTo() == "" {
			t.Fatal("no request id")
		}
	}
	for _, c := range []struct {
		in  string
		err error
	}{
		{`{"type":6}`, ErrInvalidMessage},
		{`{"requestId":1}`, ErrInvalidMessage},
		{`{"type":7,"requestId":"i"}`, ErrUnknownType},
		{`{"requestId":"i","sockets":["a",{"id":"b"}]}`, ErrInvalidMessage},
		{`{"requestId":"i","sockets":[{"rooms":[]}]}`, ErrInvalidMessage},
		{`{"requestId":"i","sockets":{}}`, ErrInvalidMessage},
		{`{"requestId":"i",}`, ErrInvalidJSON},
	} {
		if _, err := DecodeResponse([]byte(c.in), Limits{}); !errors.Is(err, c.err) {
			t.Errorf("%s: %v, want %v", c.in, err, c.err)
		}
	}
}

func TestBroadcastFlags(t *testing.T) {
	no := false
	for _, c := range []struct {
		flags Flags
		hex   string
	}{
		{Flags{}, "80"},
		{Flags{Volatile: true, HasCompress: true, Compress: no}, "82a8766f6c6174696c65c3a8636f6d7072657373c2"},
		{Flags{HasCompress: true, Compress: true, Local: true}, "82a8636f6d7072657373c3a56c6f63616cc3"},
		{Flags{HasTimeout: true, Timeout: 1500 * time.Microsecond}, "81a774696d656f7574cb3ff8000000000000"},
		{Flags{ExpectSingleResponse: true, HasTimeout: true, Timeout: 100 * time.Millisecond}, "82b465787065637453696e676c65526573706f6e7365c3a774696d656f757464"},
	} {
		b := Broadcast{UID: "u", Packet: Packet{Type: socketio.Event, Data: []byte(`["e"]`)}, Opts: BroadcastOptions{Flags: c.flags}}
		msg, err := AppendBroadcast(nil, &b)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(hex.EncodeToString(msg), "a5666c616773"+c.hex) {
			t.Errorf("%+v: %x", c.flags, msg)
		}
		back, err := DecodeBroadcast(msg, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if back.Opts.Flags != c.flags || back.Packet.Nsp != "/" {
			t.Errorf("%+v: decoded %+v", c.flags, back)
		}
		js := appendJSONFlags(nil, &c.flags)
		mp, err := msgpack.AppendMsgpack(nil, js, nil, Limits{})
		if err != nil || hex.EncodeToString(mp) != c.hex {
			t.Errorf("%+v: JSON %s -> %x %v", c.flags, js, mp, err)
		}
	}
	// Flags decode leniently: unknown ones are dropped, values are read
	// as JavaScript would.
	msg := "93a17583a474797065a4646174619401a162c0d40000a36e7370a12f81a5666c61677386a8766f6c6174696c6501a8636f6d7072657373c0a3666f6fc3a774696d656f7574a3313030a56c6f63616ca0b465787065637453696e676c65526573706f6e736591c0"
	raw, _ := hex.DecodeString(strings.ReplaceAll(msg, "a474797065a464617461", "a47479706502a464617461"))
	b, err := DecodeBroadcast(raw, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := Flags{Volatile: true, Compress: true, HasCompress: true, ExpectSingleResponse: true}
	if b.Opts.Flags != want || string(b.Packet.Data) != `[1,"b",null,null]` || b.Opts.Rooms != nil {
		t.Fatalf("%+v %s", b.Opts, b.Packet.Data)
	}
}

func TestPacketTypes(t *testing.T) {
	for _, c := range []struct {
		in, out socketio.Type
	}{{socketio.Event, socketio.Event}, {socketio.BinaryEvent, socketio.Event}, {socketio.BinaryAck, socketio.Ack}, {socketio.Ack, socketio.Ack}} {
		b := Broadcast{UID: "u", Packet: Packet{Type: c.in, Nsp: "/chat", Data: []byte(`[{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1}}}}
		msg, err := AppendBroadcast(nil, &b)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeBroadcast(msg, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if back.Packet.Type != c.out || back.Packet.Nsp != "/chat" {
			t.Errorf("%v: %+v", c.in, back.Packet)
		}
	}
	for _, in := range []string{
		"93a17581a4646174619100" + "80",         // no type
		"93a17582a474797065a17881" + "80",       // type not a number
		"93a17581a47479706507" + "80",           // type 7
		"93a17582a47479706502a36e7370c0" + "80", // nsp null
		"92a17580",                              // two elements
		"93a175c080",                            // packet null
		"93a17581a4747970650290",                // opts an array
		"93c381a4747970650280",                  // uid true
	} {
		msg, _ := hex.DecodeString(in)
		if _, err := DecodeBroadcast(msg, Limits{}); !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("%s: %v", in, err)
		}
	}
}

func TestClusterMessages(t *testing.T) {
	opts := BroadcastOptions{Rooms: []string{"room1"}, Except: []string{}}
	tests := []struct {
		m    ClusterMessage
		want string // JSON, or hex for msgpack
	}{
		{ClusterMessage{Type: MessageBroadcast, UID: "e0be7c1360085f12", Nsp: "/", Opts: opts,
			Packet: Packet{Type: socketio.Event, Data: []byte(`["hi",1]`)}},
			`{"type":3,"data":{"packet":{"type":2,"data":["hi",1]},"opts":{"rooms":["room1"],"except":[],"flags":{}}},"uid":"e0be7c1360085f12","nsp":"/"}`},
		{ClusterMessage{Type: MessageBroadcast, UID: "u", Nsp: "/", RequestID: "r", Opts: BroadcastOptions{Flags: Flags{HasTimeout: true, Timeout: 500 * time.Millisecond}},
			Packet: Packet{Type: socketio.Event, Data: []byte(`["q"]`)}},
			`{"type":3,"data":{"packet":{"type":2,"data":["q"]},"requestId":"r","opts":{"rooms":[],"except":[],"flags":{"timeout":500}}},"uid":"u","nsp":"/"}`},
		{ClusterMessage{Type: MessageBroadcast, UID: "u", Nsp: "/", Opts: opts,
			Packet: Packet{Type: socketio.Event, Data: []byte(`["b",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{7, 8}}}},
			"84a47479706503a46461746182a67061636b657482a47479706502a46461746192a162c4020708a46f70747383a5726f6f6d7391a5726f6f6d31a665786365707490a5666c61677380a3756964a175a36e7370a12f"},
		{ClusterMessage{Type: MessageSocketsJoin, UID: "u", Nsp: "/", Opts: BroadcastOptions{}, Rooms: []string{"z"}},
			`{"type":4,"data":{"opts":{"rooms":[],"except":[],"flags":{}},"rooms":["z"]},"uid":"u","nsp":"/"}`},
		{ClusterMessage{Type: MessageSocketsLeave, UID: "u", Nsp: "/", Opts: opts, Rooms: []string{"z"}},
			`{"type":5,"data":{"opts":{"rooms":["room1"],"except":[],"flags":{}},"rooms":["z"]},"uid":"u","nsp":"/"}`},
		{ClusterMessage{Type: MessageDisconnectSockets, UID: "u", Nsp: "/", Close: true},
			`{"type":6,"data":{"opts":{"rooms":[],"except":[],"flags":{}},"close":true},"uid":"u","nsp":"/"}`},
		{ClusterMessage{Type: MessageFetchSockets, UID: "u", Nsp: "/", RequestID: "r"},
			`{"type":7,"data":{"opts":{"rooms":[],"except":[],"flags":{}},"requestId":"r"},"uid":"u","nsp":"/"}`},
		{ClusterMessage{Type: MessageFetchSocketsResponse, UID: "u", Nsp: "/", RequestID: "r", Sockets: []FetchedSocket{{ID: "s", Handshake: json.RawMessage(`{}`), Rooms: []string{"s"}, Data: json.RawMessage(`{"d":1}`)}}},
			`{"type":8,"data":{"requestId":"r","sockets":[{"id":"s","handshake":{},"rooms":["s"],"data":{"d":1}}]},"uid":"u","nsp":"/"}`},
		{ClusterMessage{Type: MessageFetchSocketsResponse, UID: "u", Nsp: "/", RequestID: "r", Sockets: []FetchedSocket{{ID: "s", Handshake: json.RawMessage(`{}`), Rooms: []string{"s"}, Data: json.RawMessage(`{"d":{"_placeholder":true,"num":0}}`)}}, Attachments: [][]byte{{1}}},
			"84a47479706508a46461746182a9726571756573744964a172a7736f636b6574739184a26964a173a968616e647368616b6580a5726f6f6d7391a173a46461746181a164c40101a3756964a175a36e7370a12f"},
		{ClusterMessage{Type: MessageServerSideEmit, UID: "u", Nsp: "/", Value: json.RawMessage(`["sse",1]`)},
			`{"type":9,"data":{"packet":["sse",1]},"uid":"u","nsp":"/"}`},
		{ClusterMessage{Type: MessageServerSideEmit, UID: "u", Nsp: "/", RequestID: "r", Value: json.RawMessage(`["sse",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{3}}},
			"84a47479706509a46461746182a9726571756573744964a172a67061636b657492a3737365c40103a3756964a175a36e7370a12f"},
		{ClusterMessage{Type: MessageServerSideEmitResponse, UID: "u", Nsp: "/", RequestID: "r", Value: json.RawMessage(`{"ok":true}`)},
			`{"type":10,"data":{"requestId":"r","packet":{"ok":true}},"uid":"u","nsp":"/"}`},
		{ClusterMessage{Type: MessageBroadcastClientCount, UID: "u", Nsp: "/", RequestID: "r", ClientCount: 2},
			`{"type":11,"data":{"requestId":"r","clientCount":2},"uid":"u","nsp":"/"}`},
		{ClusterMessage{Type: MessageBroadcastAck, UID: "u", Nsp: "/", RequestID: "r", Value: json.RawMessage(`{"_placeholder":true,"num":0}`), Attachments: [][]byte{{5}}},
			"84a4747970650ca46461746182a9726571756573744964a172a67061636b6574c40105a3756964a175a36e7370a12f"},
		{ClusterMessage{Type: MessageBroadcastAck, UID: "u", Nsp: "/", RequestID: "r"},
			`{"type":12,"data":{"requestId":"r"},"uid":"u","nsp":"/"}`},
		{ClusterMessage{Type: MessageInitialHeartbeat, UID: "u", Nsp: "/"}, `{"type":1,"uid":"u","nsp":"/"}`},
		{ClusterMessage{Type: MessageHeartbeat, UID: "u", Nsp: "/"}, `{"type":2,"uid":"u","nsp":"/"}`},
		{ClusterMessage{Type: MessageAdapterClose, UID: "u", Nsp: "/"}, `{"type":13,"uid":"u","nsp":"/"}`},
	}
	for _, c := range tests {
		t.Run(c.m.Type.String(), func(t *testing.T) {
			got, err := AppendClusterMessage(nil, &c.m)
			if err != nil {
				t.Fatal(err)
			}
			want := []byte(c.want)
			if c.want[0] != '{' {
				want, _ = hex.DecodeString(c.want)
			}
			if string(got) != string(want) {
				t.Fatalf("got  %q\nwant %q", got, want)
			}
			back, err := DecodeClusterMessage(got, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			normalizeCluster(&back)
			normalizeCluster(&c.m)
			if !reflect.DeepEqual(back, c.m) {
				t.Fatalf("decoded %#v\nwant %#v", back, c.m)
			}
		})
	}
	for _, c := range []struct {
		in  string
		err error
	}{
		{`{"type":0,"uid":"u","nsp":"/"}`, ErrUnknownType},
		{`{"type":14,"uid":"u","nsp":"/"}`, ErrUnknownType},
		{`{"uid":"u","nsp":"/"}`, ErrUnknownType},
		{`{"type":3,"uid":"u","nsp":"/"}`, ErrInvalidMessage},
		{`{"type":3,"data":{"packet":{"type":2}},"uid":"u","nsp":"/"}`, ErrInvalidMessage},
		{`{"type":3,"data":{"opts":{}},"uid":"u","nsp":"/"}`, ErrInvalidMessage},
		{`{"type":9,"data":{"packet":{}},"uid":"u","nsp":"/"}`, ErrInvalidMessage},
		{`[1]`, ErrInvalidMessage}, // msgpack: the fixint 0x5b
		{"\x91\x01", ErrInvalidMessage},
	} {
		if _, err := DecodeClusterMessage([]byte(c.in), Limits{}); !errors.Is(err, c.err) {
			t.Errorf("%s: %v, want %v", c.in, err, c.err)
		}
	}
	// The type may come after the data.
	m, err := DecodeClusterMessage([]byte(`{"data":{"packet":["e"]},"nsp":"/","type":9,"uid":"u"}`), Limits{})
	if err != nil || string(m.Value) != `["e"]` || m.Type != MessageServerSideEmit {
		t.Fatalf("%+v %v", m, err)
	}
	if _, err := AppendClusterMessage(nil, &ClusterMessage{Type: MessageSocketsJoin, Attachments: [][]byte{{1}}}); !errors.Is(err, ErrInvalidMessage) {
		t.Fatal(err)
	}
	if _, err := AppendClusterMessage(nil, &ClusterMessage{Type: 42}); !errors.Is(err, ErrUnknownType) {
		t.Fatal(err)
	}
}

func normalizeCluster(m *ClusterMessage) {
	if len(m.Opts.Rooms) == 0 {
		m.Opts.Rooms = nil
	}
	if len(m.Opts.Except) == 0 {
		m.Opts.Except = nil
	}
}
