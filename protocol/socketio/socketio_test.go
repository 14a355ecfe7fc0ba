package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Packet
		err  error
	}{
		{in: "0", want: Packet{Type: Connect, Namespace: "/"}},
		{in: `0{"token":"123"}`, want: Packet{Type: Connect, Namespace: "/", Data: []byte(`{"token":"123"}`)}},
		{in: `0/custom,{"token":"abc"}`, want: Packet{Type: Connect, Namespace: "/custom", Data: []byte(`{"token":"abc"}`)}},
		{in: "0/custom,", want: Packet{Type: Connect, Namespace: "/custom"}},
		{in: "1", want: Packet{Type: Disconnect, Namespace: "/"}},
		{in: "1/admin,", want: Packet{Type: Disconnect, Namespace: "/admin"}},
		{in: "1/admin", want: Packet{Type: Disconnect, Namespace: "/admin"}},
		{in: `2["hello",1]`, want: Packet{Type: Event, Namespace: "/", Data: []byte(`["hello",1]`)}},
		{in: `2/admin,456["project:delete",123]`, want: Packet{Type: Event, Namespace: "/admin", ID: 456, HasID: true, Data: []byte(`["project:delete",123]`)}},
		{in: `3/admin,456[]`, want: Packet{Type: Ack, Namespace: "/admin", ID: 456, HasID: true, Data: []byte(`[]`)}},
		{in: `4{"message":"Not authorized"}`, want: Packet{Type: ConnectError, Namespace: "/", Data: []byte(`{"message":"Not authorized"}`)}},
		{in: `51-["hello",{"_placeholder":true,"num":0}]`, want: Packet{Type: BinaryEvent, Namespace: "/", Data: []byte(`["hello",{"_placeholder":true,"num":0}]`)}},
		{in: `61-/admin,456[{"_placeholder":true,"num":0}]`, want: Packet{Type: BinaryAck, Namespace: "/admin", ID: 456, HasID: true, Data: []byte(`[{"_placeholder":true,"num":0}]`)}},
		{in: "", err: ErrEmptyPacket},
		{in: "abc", err: ErrUnknownType},
		{in: "7", err: ErrUnknownType},
		{in: `42{}`[1:], err: ErrNotArray},
		{in: `2{}`, err: ErrNotArray},
		{in: `2"x"`, err: ErrNotArray},
		{in: `2`, err: ErrNotArray},
		{in: `2abc["message"]`, err: ErrBadAckID},
		{in: `299999999999999999999999["a"]`, err: ErrBadAckID},
		{in: `2[1]`, err: ErrEventName},
		{in: `2[]`, err: ErrEventName},
		{in: `2["connect"]`, err: ErrReservedEvent},
		{in: `2["a",]`, err: ErrInvalidJSON},
		{in: `2["a"`, err: ErrInvalidJSON},
		{in: `2["a"]x`, err: ErrInvalidJSON},
		{in: `3{}`, err: ErrNotArray},
		{in: `0[]`, err: ErrConnectPayload},
		{in: `0"x"`, err: ErrConnectPayload},
		{in: `0{`, err: ErrInvalidJSON},
		{in: `1{}`, err: ErrUnexpectedPayload},
		{in: `5-["a"]`, err: ErrBadAttachments},
		{in: `51["a"]`, err: ErrBadAttachments},
		{in: `5x-["a"]`, err: ErrBadAttachments},
		{in: `511-["a"]`, err: ErrTooManyAttachments}, // socket.io-parser's bound is 10
		{in: `565-["a"]`, err: ErrTooManyAttachments},
		{in: `599999999999999999999999999-["a"]`, err: ErrTooManyAttachments},
		{in: `51-["a",{"_placeholder":true,"num":1}]`, err: ErrBadPlaceholder},
		{in: `51-["a",{"_placeholder":true}]`, err: ErrBadPlaceholder},
		{in: `51-["a",{"_placeholder":true,"num":-1}]`, err: ErrBadPlaceholder},
		{in: `2["a",` + strings.Repeat("[", 64) + strings.Repeat("]", 64) + `]`, err: ErrTooDeep},
		{in: `2["a",` + strings.Repeat("[", 63) + strings.Repeat("]", 63) + `]`, want: Packet{Type: Event, Namespace: "/", Data: []byte(`["a",` + strings.Repeat("[", 63) + strings.Repeat("]", 63) + `]`)}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := Parse([]byte(tt.in), Limits{})
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p, tt.want) {
				t.Fatalf("got %+v, want %+v", p, tt.want)
			}
		})
	}
}

func TestSyntaxErrorAs(t *testing.T) {
	_, err := Parse([]byte(`2["a",tru]`), Limits{})
	var se *SyntaxError
	if !errors.As(err, &se) || se.Offset != 5 {
		t.Fatalf("err = %v (%#v)", err, se)
	}
}

func TestDecoderBinary(t *testing.T) {
	var d Decoder
	if _, ok, err := d.Decode([]byte(`452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`[1:]), false); ok || err != nil {
		t.Fatal(ok, err)
	}
	if d.Pending() != 2 {
		t.Fatal(d.Pending())
	}
	if _, ok, err := d.Decode([]byte{1, 2, 3}, true); ok || err != nil {
		t.Fatal(ok, err)
	}
	p, ok, err := d.Decode([]byte{4, 5, 6}, true)
	if !ok || err != nil {
		t.Fatal(ok, err)
	}
	if p.Type != BinaryEvent || len(p.Attachments) != 2 || !bytes.Equal(p.Attachments[1], []byte{4, 5, 6}) {
		t.Fatalf("%+v", p)
	}
	if _, _, err := d.Decode([]byte{1}, true); !errors.Is(err, ErrUnexpectedBinary) {
		t.Fatal(err)
	}
	d.Decode([]byte(`51-["a",{"_placeholder":true,"num":0}]`), false)
	if _, _, err := d.Decode([]byte(`2["a"]`), false); !errors.Is(err, ErrUnexpectedText) {
		t.Fatal(err)
	}
	// Zero attachments complete at once.
	p, ok, err = d.Decode([]byte(`50-["a"]`), false)
	if !ok || err != nil || p.Type != BinaryEvent {
		t.Fatal(p, ok, err)
	}
}

func TestSplitEvent(t *testing.T) {
	tests := []struct{ in, name, args string }{
		{`["message",1,"2",{"3":[true]}]`, "message", `[1,"2",{"3":[true]}]`},
		{`["message"]`, "message", `[]`},
		{` [ "a\"b\u00e9\ud83d\ude00" , 1 ] `, "a\"bé😀", `[ 1 ] `},
		{`["x" ]`, "x", `[]`},
	}
	for _, tt := range tests {
		name, args, err := SplitEvent([]byte(tt.in))
		if err != nil || name != tt.name || string(args) != tt.args {
			t.Errorf("SplitEvent(%s) = %q, %s, %v", tt.in, name, args, err)
		}
		if err := Validate(args, 64); err != nil {
			t.Errorf("args %s: %v", args, err)
		}
	}
	for in, want := range map[string]error{`{}`: ErrNotArray, `[1]`: ErrEventName, `[]`: ErrEventName} {
		if _, _, err := SplitEvent([]byte(in)); !errors.Is(err, want) {
			t.Errorf("SplitEvent(%s) err = %v", in, err)
		}
	}
}

func TestAppendEventData(t *testing.T) {
	tests := []struct{ name, args, want string }{
		{"message-back", `[1,"2",{"3":[true]}]`, `["message-back",1,"2",{"3":[true]}]`},
		{"a", ``, `["a"]`},
		{"a", `[]`, `["a"]`},
		{"a", ` [ ] `, `["a"]`},
		{"q\"\n\x01é", `[1]`, `["q\"\n\u0001é",1]`},
	}
	for _, tt := range tests {
		got, err := AppendEventData(nil, tt.name, []byte(tt.args))
		if err != nil || string(got) != tt.want {
			t.Errorf("AppendEventData(%q, %s) = %s, %v", tt.name, tt.args, got, err)
		}
	}
	if _, err := AppendEventData(nil, "a", []byte(`{}`)); !errors.Is(err, ErrNotArray) {
		t.Fatal(err)
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "abc", "\"\\/\b\f\n\r\t\x00\x1f", "é😀\u2028", "<>&"} {
		got := AppendString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil || back != s {
			t.Errorf("%q -> %s -> %q %v", s, got, back, err)
		}
	}
	// One U+FFFD per maximal ill-formed subsequence, as Node.js decodes.
	for in, want := range map[string]string{"\xe0\xa0x": "\ufffdx", "\xf0\x90\x80": "\ufffd", "\xc0\xaf": "\ufffd\ufffd", "\xed\xa0\x80": "\ufffd\ufffd\ufffd"} {
		if got := string(AppendString(nil, in)); got != `"`+want+`"` {
			t.Errorf("AppendString(%q) = %s", in, got)
		}
		if got := NodeString([]byte(in)); got != want {
			t.Errorf("NodeString(%q) = %q", in, got)
		}
	}
	if got := string(AppendString(nil, "a\xffb")); got != "\"a\ufffdb\"" {
		t.Fatal(got)
	}
}

func TestAppendHeader(t *testing.T) {
	tests := []struct {
		h    Header
		want string
	}{
		{Header{Type: Connect}, "0"},
		{Header{Type: Event, Namespace: "/"}, "2"},
		{Header{Type: Event, Namespace: "/admin", ID: 12, HasID: true}, "2/admin,12"},
		{Header{Type: BinaryAck, Namespace: "/", Attachments: 2, ID: 789, HasID: true}, "62-789"},
		{Header{Type: ConnectError, Namespace: "/random"}, "4/random,"},
	}
	for _, tt := range tests {
		if got := string(AppendHeader(nil, tt.h)); got != tt.want {
			t.Errorf("%+v: %s", tt.h, got)
		}
	}
}

func TestPlaceholders(t *testing.T) {
	v := []any{"a", []byte{1}, map[string]any{"b": []byte{2, 3}, "c": 1.0}}
	d, bufs := Deconstruct(v)
	if len(bufs) != 2 {
		t.Fatal(bufs)
	}
	raw, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	n, err := CountPlaceholders(raw, 64, 2)
	if err != nil || n != 2 {
		t.Fatal(n, err, string(raw))
	}
	if _, err := CountPlaceholders(raw, 64, 1); !errors.Is(err, ErrBadPlaceholder) {
		t.Fatal(err)
	}
	var back any
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	r, err := Reconstruct(back, bufs)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r, v) {
		t.Fatalf("%#v", r)
	}
	if _, err := Reconstruct(map[string]any{"_placeholder": true, "num": 5.0}, bufs); !errors.Is(err, ErrBadPlaceholder) {
		t.Fatal(err)
	}
	if got := string(AppendPlaceholder(nil, 3)); got != `{"_placeholder":true,"num":3}` {
		t.Fatal(got)
	}
}

func TestValidateMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{`1`, `-0.5e+3`, `01`, `1.`, `.1`, `"\u12"`, `"\x"`, `{"a":1,}`, `{"a" 1}`, `[1 2]`, `nul`, `true`, `""`, "\"\x01\"", `{"a":[{"b":null}]}`, ` [ ] `} {
		got := Validate([]byte(s), 64) == nil
		if want := json.Valid([]byte(s)); got != want {
			t.Errorf("Validate(%q) = %v, json.Valid = %v", s, got, want)
		}
	}
}

// Invalid UTF-8 inside a JSON string is refused: JavaScript clients drop
// a connection that delivers it. Valid multi-byte text passes.
func TestValidateUTF8(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{`["say","caf\u00e9 café 日本 🎉"]`, true},
		{"[\"say\",{\"text\":\"bad \xff\xfe\"}]", false},
		{"[\"\xc3\"]", false},             // truncated sequence
		{"[\"\xed\xa0\x80\"]", false},     // encoded surrogate
		{"[\"\xf4\x90\x80\x80\"]", false}, // above U+10FFFF
	} {
		if err := Validate([]byte(tt.in), 64); (err == nil) != tt.ok {
			t.Errorf("Validate(%q) = %v, want ok %v", tt.in, err, tt.ok)
		}
	}
}

func TestValidateNoAlloc(t *testing.T) {
	data := []byte(`["message",1,"2",{"3":[true,null,-1.5e3]},"\u00e9"]`)
	if n := testing.AllocsPerRun(100, func() {
		if err := Validate(data, 64); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("Validate allocates %v", n)
	}
}

// Packet.SplitEvent gives what SplitEvent gives, from what the Decoder
// recorded, and falls back to SplitEvent when it has nothing recorded.
func TestPacketSplitEvent(t *testing.T) {
	long := strings.Repeat("n", recentMaxLen+1)
	var d Decoder
	for _, in := range []string{
		`2["a"]`, `2["a",1]`, `2[ "a" , 1 , {"b":[2]} ]`, `2[ "a" ]`, `2/x,3["a",1]`,
		`2["\u00e9\n",1]`, `2["` + long + `",[]]`, `2[""]`, `2["a",1]`, `2/x,["b"]`,
		`51-["up",{"_placeholder":true,"num":0}]`,
	} {
		p, ok, err := d.Decode([]byte(in), false)
		if err == nil && !ok {
			p, ok, err = d.Decode([]byte{1}, true)
		}
		if err != nil || !ok {
			t.Fatalf("%s: %v %v", in, ok, err)
		}
		wantName, wantArgs, err := SplitEvent(bytes.Clone(p.Data))
		if err != nil {
			t.Fatal(err)
		}
		name, args, err := p.SplitEvent()
		if err != nil || name != wantName || string(args) != string(wantArgs) {
			t.Errorf("%s: Packet.SplitEvent = %q, %s, %v; want %q, %s", in, name, args, err, wantName, wantArgs)
		}
	}
	// Not from a Decoder, or Data replaced: split anew.
	p, _ := Parse([]byte(`2["a",1]`), Limits{})
	if name, args, err := p.SplitEvent(); name != "a" || string(args) != "[1]" || err != nil {
		t.Errorf("parsed: %q %s %v", name, args, err)
	}
	p, _, _ = d.Decode([]byte(`2["a",1]`), false)
	p.Data = []byte(`["bb",2,3]`)
	if name, args, err := p.SplitEvent(); name != "bb" || string(args) != "[2,3]" || err != nil {
		t.Errorf("replaced: %q %s %v", name, args, err)
	}
}

// A Decoder decodes the events and acks a client repeats without
// allocating, in the main namespace and in a named one; a new namespace
// or name costs its string once, and the strings never alias the message.
func TestDecodeNoAlloc(t *testing.T) {
	var d Decoder
	for _, msg := range []string{`2["ping",1]`, `2/chat,5["say","hi"]`, `3/chat,5[true]`, `3[1]`} {
		buf := []byte(msg)
		allocs := testing.AllocsPerRun(100, func() {
			copy(buf, msg)
			p, ok, err := d.Decode(buf, false)
			if err != nil || !ok {
				t.Fatal(err)
			}
			if p.Type == Event {
				if _, _, err := p.SplitEvent(); err != nil {
					t.Fatal(err)
				}
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations", msg, allocs)
		}
	}
	buf := []byte(`2/chat,["say"]`)
	p, _, _ := d.Decode(buf, false)
	name, _, _ := p.SplitEvent()
	copy(buf, `2/xxxx,["xxx"]`)
	if p.Namespace != "/chat" || name != "say" {
		t.Fatalf("strings alias the message: %q %q", p.Namespace, name)
	}
}
