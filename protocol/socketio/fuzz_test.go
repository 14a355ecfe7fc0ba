package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"
)

// FuzzDecoder feeds a text packet then its attachments, split into
// messages at the given points, and checks decoding never panics and that
// complete packets re-encode to the same text.
func FuzzDecoder(f *testing.F) {
	for _, s := range []string{
		"0", `0/custom,{"token":"abc"}`, "1/a,", `2["message",1,"2",{"3":[true]}]`, `2/a,12["x"]`,
		`3456[1,"2",{"3":[false]}]`, `52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`,
		`4{"message":"x"}`, `42{}`, `2abc["a"]`, "4abc",
	} {
		f.Add([]byte(s), []byte{1, 2, 3, 4}, uint8(2))
	}
	f.Fuzz(func(t *testing.T, text, bin []byte, split uint8) {
		var d Decoder
		in := append([]byte(nil), text...)
		p, ok, err := d.Decode(in, false)
		if err != nil {
			if !isOwnError(err) {
				t.Fatalf("foreign error %v", err)
			}
			return
		}
		// Attachments: bin split into chunks of split+1 bytes.
		n := int(split) + 1
		for !ok && d.Pending() > 0 {
			c := bin
			if len(c) > n {
				c = c[:n]
			}
			bin = bin[len(c):]
			p, ok, err = d.Decode(c, true)
			if err != nil {
				t.Fatal(err)
			}
		}
		if !ok {
			t.Fatal("decoder neither complete nor pending")
		}
		out := AppendPacket(nil, &p)
		if p.Type.IsBinary() {
			if _, err := CountPlaceholders(p.Data, DefaultMaxDepth, len(p.Attachments)); err != nil {
				t.Fatal(err)
			}
		}
		q, err := Parse(out, Limits{})
		if err != nil {
			t.Fatalf("re-encoded %q -> %q: %v", text, out, err)
		}
		if q.Type != p.Type || q.Namespace != p.Namespace || q.ID != p.ID || q.HasID != p.HasID || !bytes.Equal(q.Data, p.Data) {
			t.Fatalf("round trip %q -> %q: %+v != %+v", text, out, q, p)
		}
		if p.Type == Event || p.Type == BinaryEvent {
			data := append([]byte(nil), p.Data...)
			name, args, err := SplitEvent(data)
			if err != nil {
				t.Fatal(err)
			}
			if err := Validate(args, DefaultMaxDepth+1); err != nil {
				t.Fatalf("args %q: %v", args, err)
			}
			// The decoder's recorded split agrees with a fresh one.
			name2, args2, err := p.SplitEvent()
			if err != nil || name2 != name || !bytes.Equal(args2, args) {
				t.Fatalf("Packet.SplitEvent = %q, %q, %v; SplitEvent = %q, %q", name2, args2, err, name, args)
			}
			back, err := AppendEventData(nil, name, args)
			if err != nil {
				t.Fatal(err)
			}
			n1, _ := EventName(back)
			if string(AppendString(nil, n1)) != string(AppendString(nil, name)) {
				t.Fatalf("name %q != %q", n1, name)
			}
		}
	})
}

func isOwnError(err error) bool {
	for _, e := range []error{ErrEmptyPacket, ErrUnknownType, ErrBadAttachments, ErrTooManyAttachments,
		ErrBadAckID, ErrInvalidJSON, ErrTooDeep, ErrNotArray, ErrEventName, ErrReservedEvent,
		ErrConnectPayload, ErrUnexpectedPayload, ErrBadPlaceholder, ErrUnexpectedBinary, ErrUnexpectedText} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// FuzzValidate checks Validate agrees with encoding/json (within the depth
// limit) and never panics.
func FuzzValidate(f *testing.F) {
	for _, s := range []string{`[1,"a",{"b":null}]`, `{"a":`, `"\ud83d"`, `-0.1e5`, `[[[[]]]]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := Validate(data, 1000)
		if errors.Is(err, ErrTooDeep) {
			return
		}
		// encoding/json accepts invalid UTF-8 in strings; Validate does not.
		if want := json.Valid(data) && utf8.Valid(data); (err == nil) != want {
			t.Fatalf("Validate(%q) = %v, want valid %v", data, err, want)
		}
	})
}

// FuzzEventRoundTrip encodes an event from a name and JSON args and
// decodes it back.
func FuzzEventRoundTrip(f *testing.F) {
	f.Add("message", []byte(`[1,"2",{"3":[true]}]`), "/", uint64(0), true)
	f.Add("é\"\x00", []byte(`[]`), "/admin", uint64(99), false)
	f.Fuzz(func(t *testing.T, name string, args []byte, nsp string, id uint64, hasID bool) {
		if Validate(args, 32) != nil || args[0] != '[' || reserved(name) {
			return
		}
		if nsp == "" || nsp[0] != '/' || bytes.IndexByte([]byte(nsp), ',') >= 0 {
			nsp = "/"
		}
		buf := AppendHeader(nil, Header{Type: Event, Namespace: nsp, ID: id, HasID: hasID})
		buf, err := AppendEventData(buf, name, args)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Parse(buf, Limits{})
		if err != nil {
			t.Fatalf("%q: %v", buf, err)
		}
		if p.Namespace != nsp || p.HasID != hasID || (hasID && p.ID != id) {
			t.Fatalf("%q: %+v", buf, p)
		}
		gotName, gotArgs, err := SplitEvent(p.Data)
		if err != nil {
			t.Fatal(err)
		}
		if want := string(AppendString(nil, name)); string(AppendString(nil, gotName)) != want {
			t.Fatalf("name %q != %q", gotName, name)
		}
		want := args
		if c, _ := firstByte(args[1:]); c == ']' {
			want = []byte("[]")
		}
		if !bytes.Equal(gotArgs, want) {
			t.Fatalf("args %q != %q", gotArgs, want)
		}
	})
}
