package msgpack

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/sockwasm/sockwasm/protocol/socketio"
)

// golden is one line of testdata/packets.jsonl, written by
// testdata/packets.js with socket.io-msgpack-parser 3.0.2.
type golden struct {
	Dir  string   `json:"dir"`
	Name string   `json:"name"`
	Hex  string   `json:"hex"`
	Type int      `json:"type"`
	Nsp  string   `json:"nsp"`
	ID   *uint64  `json:"id"`
	Data *string  `json:"data"`
	Atts []string `json:"atts"`
}

func loadGolden(t testing.TB) []golden {
	f, err := os.Open("testdata/packets.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []golden
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var g golden
		if err := json.Unmarshal(sc.Bytes(), &g); err != nil {
			t.Fatal(err)
		}
		out = append(out, g)
	}
	if len(out) < 10 {
		t.Fatalf("only %d packets", len(out))
	}
	return out
}

func (g golden) packet(t *testing.T) socketio.Packet {
	p := socketio.Packet{Type: socketio.Type(g.Type), Namespace: g.Nsp}
	if g.ID != nil {
		p.ID, p.HasID = *g.ID, true
	}
	if g.Data != nil {
		p.Data = []byte(*g.Data)
	}
	for _, a := range g.Atts {
		b, err := hex.DecodeString(a)
		if err != nil {
			t.Fatal(err)
		}
		p.Attachments = append(p.Attachments, b)
	}
	return p
}

// TestGoldenPackets decodes what socket.io-msgpack-parser encodes, and
// encodes the server's packets to the same bytes.
func TestGoldenPackets(t *testing.T) {
	for _, g := range loadGolden(t) {
		t.Run(g.Name, func(t *testing.T) {
			msg, err := hex.DecodeString(g.Hex)
			if err != nil {
				t.Fatal(err)
			}
			want := g.packet(t)
			got, err := DecodePacket(msg, Limits{})
			if err != nil {
				t.Fatalf("DecodePacket: %v", err)
			}
			if got.Type != want.Type || got.Namespace != want.Namespace || got.HasID != want.HasID || got.ID != want.ID {
				t.Fatalf("decoded %v %q id %v/%d, want %v %q id %v/%d", got.Type, got.Namespace, got.HasID, got.ID, want.Type, want.Namespace, want.HasID, want.ID)
			}
			if string(got.Data) != string(want.Data) || (got.Data == nil) != (want.Data == nil) {
				t.Fatalf("data %s, want %s", got.Data, want.Data)
			}
			if len(got.Attachments) != len(want.Attachments) {
				t.Fatalf("%d attachments, want %d", len(got.Attachments), len(want.Attachments))
			}
			for i := range got.Attachments {
				if !bytes.Equal(got.Attachments[i], want.Attachments[i]) {
					t.Fatalf("attachment %d: %x, want %x", i, got.Attachments[i], want.Attachments[i])
				}
			}
			if g.Dir != "server" {
				return
			}
			enc, err := AppendPacket([]byte("x"), &want, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(enc[1:]) != g.Hex {
				t.Fatalf("AppendPacket:\n got %x\nwant %s", enc[1:], g.Hex)
			}
		})
	}
}

// TestAppendPacketBinaryTypes writes BINARY_EVENT and BINARY_ACK as EVENT
// and ACK, and an empty namespace as "/".
func TestAppendPacketBinaryTypes(t *testing.T) {
	for _, c := range []struct {
		p    socketio.Packet
		want socketio.Packet
	}{
		{socketio.Packet{Type: socketio.BinaryEvent, Data: []byte(`["a",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1}}},
			socketio.Packet{Type: socketio.Event, Namespace: "/", Data: []byte(`["a",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1}}}},
		{socketio.Packet{Type: socketio.BinaryAck, Namespace: "/x", ID: 3, HasID: true, Data: []byte(`[{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{}}},
			socketio.Packet{Type: socketio.Ack, Namespace: "/x", ID: 3, HasID: true, Data: []byte(`[{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{}}}},
		{socketio.Packet{Type: socketio.Disconnect, Data: []byte(`[]`)}, socketio.Packet{Type: socketio.Disconnect, Namespace: "/"}},
	} {
		msg, err := AppendPacket(nil, &c.p, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodePacket(msg, Limits{})
		if err != nil {
			t.Fatalf("%x: %v", msg, err)
		}
		if got.Type != c.want.Type || got.Namespace != c.want.Namespace || got.ID != c.want.ID || got.HasID != c.want.HasID ||
			string(got.Data) != string(c.want.Data) || len(got.Attachments) != len(c.want.Attachments) {
			t.Fatalf("%x: %+v, want %+v", msg, got, c.want)
		}
	}
	p := socketio.Packet{Type: socketio.Event, Data: []byte(`["a",{"_placeholder":true,"num":1}]`), Attachments: [][]byte{{1}}}
	if out, err := AppendPacket([]byte("x"), &p, Limits{}); !errors.Is(err, ErrBadPlaceholder) || string(out) != "x" {
		t.Fatalf("bad placeholder: %q %v", out, err)
	}
	deep := []byte(`["a",` + strings.Repeat("[", 8) + strings.Repeat("]", 8) + `]`)
	p = socketio.Packet{Type: socketio.Event, Data: deep}
	if _, err := AppendPacket(nil, &p, Limits{MaxDepth: 4}); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("deep: %v", err)
	}
}

// TestDecodePacketErrors refuses what socket.io-msgpack-parser's
// checkPacket refuses, and the few things the server refuses beyond it.
func TestDecodePacketErrors(t *testing.T) {
	undefined := "d40000"
	for _, c := range []struct {
		name string
		msg  string // JSON transcoded to msgpack, or hex after "hex:"
		want error
	}{
		{"ok", `{"type":2,"nsp":"/","data":["a"]}`, nil},
		{"not a map", `[2,"/"]`, ErrInvalidPacket},
		{"string", `"2"`, ErrInvalidPacket},
		{"no type", `{"nsp":"/","data":["a"]}`, ErrInvalidPacket},
		{"type 5", `{"type":5,"nsp":"/","data":["a"]}`, ErrInvalidPacket},
		{"type 6", `{"type":6,"nsp":"/","data":["a"]}`, ErrInvalidPacket},
		{"type -1", `{"type":-1,"nsp":"/"}`, ErrInvalidPacket},
		{"type 1.5", `{"type":1.5,"nsp":"/"}`, ErrInvalidPacket},
		{"type 2.0", "hex:83a474797065cb4000000000000000a36e7370a12fa46461746191a161", nil},
		{"type string", `{"type":"2","nsp":"/","data":["a"]}`, ErrInvalidPacket},
		{"no nsp", `{"type":2,"data":["a"]}`, ErrInvalidPacket},
		{"nsp number", `{"type":2,"nsp":1,"data":["a"]}`, ErrInvalidPacket},
		{"nsp undefined", "hex:83a47479706502a36e7370" + undefined + "a46461746191a161", ErrInvalidPacket},
		{"event no data", `{"type":2,"nsp":"/"}`, ErrInvalidPacket},
		{"event object", `{"type":2,"nsp":"/","data":{"a":1}}`, ErrInvalidPacket},
		{"event null", `{"type":2,"nsp":"/","data":null}`, ErrInvalidPacket},
		{"event no name", `{"type":2,"nsp":"/","data":[]}`, socketio.ErrEventName},
		{"event number name", `{"type":2,"nsp":"/","data":[1]}`, socketio.ErrEventName},
		{"event reserved", `{"type":2,"nsp":"/","data":["disconnect"]}`, socketio.ErrReservedEvent},
		{"ack empty", `{"type":3,"nsp":"/","id":1,"data":[]}`, nil},
		{"ack string", `{"type":3,"nsp":"/","id":1,"data":"x"}`, ErrInvalidPacket},
		{"connect array", `{"type":0,"nsp":"/","data":[]}`, ErrInvalidPacket},
		{"connect string", `{"type":0,"nsp":"/","data":"x"}`, ErrInvalidPacket},
		{"connect null", `{"type":0,"nsp":"/","data":null}`, ErrInvalidPacket},
		{"connect binary", `{"type":0,"nsp":"/","data":{"k":{"_placeholder":true,"num":0}}}`, ErrInvalidPacket},
		{"connect data undefined", "hex:83a47479706500a36e7370a12fa464617461" + undefined, nil},
		{"disconnect data", `{"type":1,"nsp":"/","data":[]}`, ErrInvalidPacket},
		{"disconnect null", `{"type":1,"nsp":"/","data":null}`, ErrInvalidPacket},
		{"connect error string", `{"type":4,"nsp":"/","data":"no"}`, nil},
		{"connect error number", `{"type":4,"nsp":"/","data":1}`, ErrInvalidPacket},
		{"connect error none", `{"type":4,"nsp":"/"}`, ErrInvalidPacket},
		{"id string", `{"type":2,"nsp":"/","id":"1","data":["a"]}`, ErrInvalidPacket},
		{"id float", `{"type":2,"nsp":"/","id":1.5,"data":["a"]}`, ErrInvalidPacket},
		{"id negative", `{"type":2,"nsp":"/","id":-1,"data":["a"]}`, ErrInvalidPacket},
		{"id null", `{"type":2,"nsp":"/","id":null,"data":["a"]}`, ErrInvalidPacket},
		{"id max", `{"type":2,"nsp":"/","id":18446744073709551615,"data":["a"]}`, nil},
		{"id undefined", "hex:84a47479706502a36e7370a12fa26964" + undefined + "a46461746191a161", nil},
		{"other members", `{"type":2,"nsp":"/","options":{"compress":true},"x":[[[1]]],"data":["a"]}`, nil},
		{"map key", "hex:81c0c0", ErrMapKey},
		{"trailing", "hex:82a47479706501a36e7370a12fc0", ErrInvalidMsgpack},
		{"truncated", "hex:83a47479706502a36e7370a12fa46461746192a161", ErrInvalidMsgpack},
		{"empty", "hex:", ErrInvalidMsgpack},
		{"too many attachments", `{"type":2,"nsp":"/","data":["a"` + strings.Repeat(`,{"_placeholder":true,"num":0}`, 11) + `]}`, ErrTooManyAttachments},
		{"too deep", `{"type":2,"nsp":"/","data":["a",` + strings.Repeat("[", 64) + strings.Repeat("]", 64) + `]}`, ErrTooDeep},
	} {
		t.Run(c.name, func(t *testing.T) {
			var msg []byte
			if h, ok := strings.CutPrefix(c.msg, "hex:"); ok {
				var err error
				if msg, err = hex.DecodeString(h); err != nil {
					t.Fatal(err)
				}
			} else {
				var err error
				msg, err = AppendMsgpack(nil, []byte(c.msg), [][]byte{{7}}, Limits{MaxDepth: 100})
				if err != nil {
					t.Fatal(err)
				}
			}
			_, err := DecodePacket(msg, Limits{})
			if !errors.Is(err, c.want) || (err == nil) != (c.want == nil) {
				t.Fatalf("%x: %v, want %v", msg, err, c.want)
			}
		})
	}
}

// TestDecodePacketDuplicates follows JavaScript: the last member of a
// key wins, and an undefined one removes an earlier one.
func TestDecodePacketDuplicates(t *testing.T) {
	// {type: 2, nsp: "/", data: ["a", <bin 1>], data: ["b"]}
	msg, _ := hex.DecodeString("84a47479706502a36e7370a12fa46461746192a161c40101a46461746191a162")
	p, err := DecodePacket(msg, Limits{})
	if err != nil || string(p.Data) != `["b"]` || p.Attachments != nil {
		t.Fatalf("%s %d %v", p.Data, len(p.Attachments), err)
	}
	// {type: 2, nsp: "/", id: 3, id: undefined, data: ["a"]}
	msg, _ = hex.DecodeString("85a47479706502a36e7370a12fa2696403a26964d40000a46461746191a161")
	if p, err = DecodePacket(msg, Limits{}); err != nil || p.HasID {
		t.Fatalf("%+v %v", p, err)
	}
}

// TestDecodePacketAliases checks that attachments alias the message and
// that a text packet from the same args gives the same data.
func TestDecodePacketAliases(t *testing.T) {
	msg, _ := AppendMsgpack(nil, []byte(`{"type":2,"nsp":"/","data":["a",{"_placeholder":true,"num":0}]}`), [][]byte{{1, 2, 3}}, Limits{})
	p, err := DecodePacket(msg, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Attachments) != 1 || !bytes.Equal(p.Attachments[0], []byte{1, 2, 3}) {
		t.Fatalf("%x", p.Attachments)
	}
	p.Attachments[0][0] = 9
	if !bytes.Contains(msg, []byte{9, 2, 3}) {
		t.Fatal("attachment does not alias the message")
	}
	text := socketio.AppendPacket(nil, &socketio.Packet{Type: socketio.BinaryEvent, Data: p.Data, Attachments: p.Attachments})
	var d socketio.Decoder
	if _, _, err := d.Decode(text, false); err != nil {
		t.Fatalf("%s: %v", text, err)
	}
}
