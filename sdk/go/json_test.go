package sockwasm

import (
	"encoding/binary"
	"encoding/json"
	"testing"
)

func TestValueAccessors(t *testing.T) {
	args := Value(` [ {"room":"r\"1","n":-12,"ok":true,"nested":{"a":[1,{"b":"}"}]},"x":null}, "h\u00e9\n\ud83d\ude00", 3.5 ,[]] `)
	if n := args.Len(); n != 4 {
		t.Fatalf("Len = %d", n)
	}
	obj := args.Index(0)
	if s, ok := obj.Get("room").AsString(); !ok || s != `r"1` {
		t.Errorf("room = %q %v", s, ok)
	}
	if n, ok := obj.Get("n").AsInt(); !ok || n != -12 {
		t.Errorf("n = %d %v", n, ok)
	}
	if b, ok := obj.Get("ok").AsBool(); !ok || !b {
		t.Errorf("ok = %v %v", b, ok)
	}
	if s, ok := obj.Get("nested").Get("a").Index(1).Get("b").AsString(); !ok || s != "}" {
		t.Errorf("nested = %q", s)
	}
	if !obj.Get("x").IsNull() || obj.Get("missing").Exists() {
		t.Error("null / missing")
	}
	if s, ok := args.Index(1).AsString(); !ok || s != "hé\n😀" {
		t.Errorf("escaped = %q", s)
	}
	if f, ok := args.Index(2).AsFloat(); !ok || f != 3.5 {
		t.Errorf("float = %v", f)
	}
	if _, ok := args.Index(2).AsInt(); ok {
		t.Error("3.5 as int")
	}
	if args.Index(3).Kind() != KindArray || args.Index(3).Len() != 0 || args.Index(4).Exists() {
		t.Error("empty array / out of range")
	}
	if Value(`[]`).Len() != 0 || Value(`{"a":1}`).Index(0).Exists() {
		t.Error("edge cases")
	}
	if _, ok := Value(`5`).AsString(); ok {
		t.Error("5 as string")
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"b\s`, "ctl\x00\x1f\n\t\r", "é😀", "bad\xffutf8", "<&>"} {
		got := AppendString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q → %s: %v", s, got, err)
		}
		want, _ := json.Marshal(s)
		var w string
		json.Unmarshal(want, &w)
		if back != w {
			t.Errorf("%q → %s → %q, want %q", s, got, back, w)
		}
		if v, ok := Value(got).AsString(); !ok || v != w {
			t.Errorf("AsString(%s) = %q", got, v)
		}
	}
	if got := string(AppendStrings(nil, []string{"a", "b"})); got != `["a","b"]` {
		t.Errorf("AppendStrings = %s", got)
	}
}

func TestParseFrame(t *testing.T) {
	f := []byte{1, kindDisconnect, 1, 0}
	f = binary.LittleEndian.AppendUint32(f, 2)
	f = binary.LittleEndian.AppendUint64(f, 77)
	f = binary.LittleEndian.AppendUint32(f, 1)
	f = binary.LittleEndian.AppendUint32(f, 0)
	for _, s := range []string{"/chat", "sid", "ev", "[1]", "{}", "ctx", "bye"} {
		f = binary.LittleEndian.AppendUint32(f, uint32(len(s)))
		f = append(f, s...)
	}
	f = binary.LittleEndian.AppendUint32(f, 1)
	f = binary.LittleEndian.AppendUint32(f, 2)
	f = append(f, "r1"...)
	var in input
	if !parseFrame(f, &in) {
		t.Fatal("parse failed")
	}
	if in.kind != kindDisconnect || in.flags != flagHasAck || in.natts != 2 || in.ackID != 77 || in.status != 1 ||
		string(in.namespace) != "/chat" || string(in.socketID) != "sid" || string(in.name) != "ev" ||
		string(in.args) != "[1]" || string(in.auth) != "{}" || string(in.context) != "ctx" ||
		string(in.reason) != "bye" || len(in.rooms) != 1 || string(in.rooms[0]) != "r1" {
		t.Fatalf("parsed %+v", in)
	}
	for i := range len(f) {
		if parseFrame(f[:i], &in) {
			t.Fatalf("truncated frame of %d bytes accepted", i)
		}
	}
}
