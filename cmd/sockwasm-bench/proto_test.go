package main

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseAck(t *testing.T) {
	for _, tc := range []struct {
		in   string
		ok   bool
		id   uint64
		args string
		atts int
	}{
		{`4312["x"]`, true, 12, `["x"]`, 0},
		{`430[]`, true, 0, `[]`, 0},
		{`461-7[{"_placeholder":true,"num":0}]`, true, 7, `[{"_placeholder":true,"num":0}]`, 1},
		{`43["x"]`, false, 0, "", 0},                  // no id
		{`42["said"]`, false, 0, "", 0},               // an event
		{`43/chat,1["x"]`, false, 0, "", 0},           // a namespace
		{`461["x"]`, false, 0, "", 0},                 // no '-'
		{`4312`, false, 0, "", 0},                     // no args
		{`2`, false, 0, "", 0},                        // a ping
		{`4399999999999999999999[]`, false, 0, "", 0}, // too long an id
	} {
		a, ok := parseAck([]byte(tc.in))
		if ok != tc.ok || (ok && (a.id != tc.id || string(a.args) != tc.args || a.attachments != tc.atts)) {
			t.Errorf("parseAck(%s) = %+v %v", tc.in, a, ok)
		}
	}
}

func TestEchoPackets(t *testing.T) {
	p := appendEcho(nil, 3, 41, 64)
	tok := string(appendToken(nil, 3, 41, 64))
	if len(tok) != 64 || !strings.HasPrefix(tok, "c3s41.") || strings.ContainsAny(tok, "\"\\") {
		t.Fatalf("token %q", tok)
	}
	if other := string(appendToken(nil, 3, 42, 64)); other[6:] == tok[6:] {
		t.Fatalf("two messages padded alike: %q", other)
	}
	if long := appendToken(nil, 1, 2, 40000); len(long) != 40000 { // longer than padText
		t.Fatalf("token of %d bytes", len(long))
	}
	want := `4241["echo","` + tok + `"]`
	if string(p) != want {
		t.Fatalf("echo %s", p)
	}
	args := appendEchoArgs(nil, 3, 41, 64)
	if string(args) != `[`+want[len(`4241["echo",`):] {
		t.Fatalf("args %s, want the echo's args %s", args, `[`+want[len(`4241["echo",`):])
	}
	if tok := appendToken(nil, 123456, 7890123, 4); string(tok) != "c123456s7890123." {
		t.Fatalf("short size: %s", tok)
	}
	if b := appendBinaryEcho(nil, 9); string(b) != `451-9["echo",{"_placeholder":true,"num":0}]` {
		t.Fatalf("binary %s", b)
	}
	a, b := make([]byte, 64), make([]byte, 64)
	fillAttachment(a, 1, 2)
	fillAttachment(b, 1, 3)
	if bytes.Equal(a, b) {
		t.Fatal("attachments of two messages are equal")
	}
}

func TestSayText(t *testing.T) {
	b := appendSay(nil, 5, "bench", 5, 123456789, 64)
	wantPrefix := `425["say",{"room":"bench","text":"5.123456789.`
	if !bytes.HasPrefix(b, []byte(wantPrefix)) || !bytes.HasSuffix(b, []byte(`x"}]`)) {
		t.Fatalf("say %s", b)
	}
	text := appendSayText(nil, 5, 123456789, 64)
	if len(text) != 64 {
		t.Fatalf("text is %d bytes", len(text))
	}
	seq, ns, ok := parseSayText(text, 64)
	if !ok || seq != 5 || ns != 123456789 {
		t.Fatalf("parse: %d %d %v", seq, ns, ok)
	}
	long := appendSayText(nil, 123456789, 1234567890123, 8) // longer than size: no padding
	if seq, ns, ok := parseSayText(long, 8); !ok || seq != 123456789 || ns != 1234567890123 {
		t.Fatalf("unpadded: %s → %d %d %v", long, seq, ns, ok)
	}
	for _, bad := range []string{"", "5", "5.", "5.12", "5.12.xxy", "a.1.", "5.12." + strings.Repeat("x", 10)} {
		if _, _, ok := parseSayText([]byte(bad), 64); ok {
			t.Errorf("parseSayText(%q) ok", bad)
		}
	}
	if _, _, ok := parseSayText(text[:63], 64); ok {
		t.Error("truncated text ok")
	}
}

func TestPayloadCodec(t *testing.T) {
	packets := [][]byte{[]byte("2"), []byte(`4212["echo","x"]`), []byte("6")}
	body := appendPayload(nil, packets...)
	if string(body) != "2\x1e4212[\"echo\",\"x\"]\x1e6" {
		t.Fatalf("payload %q", body)
	}
	var got []string
	err := splitPayload(body, func(p []byte, binary bool) error {
		got = append(got, fmt.Sprintf("%v:%s", binary, p))
		return nil
	})
	if err != nil || strings.Join(got, ",") != `false:2,false:4212["echo","x"],false:6` {
		t.Fatalf("split %v %v", got, err)
	}
	got = nil
	err = splitPayload([]byte("bAQID\x1e3"), func(p []byte, binary bool) error {
		got = append(got, fmt.Sprintf("%v:%x", binary, p))
		return nil
	})
	if err != nil || strings.Join(got, ",") != "true:010203,false:33" {
		t.Fatalf("binary split %v %v", got, err)
	}
	for _, bad := range []string{"2\x1e", "\x1e2", "2\x1e\x1e3", "b!!"} {
		if err := splitPayload([]byte(bad), func([]byte, bool) error { return nil }); err == nil {
			t.Errorf("splitPayload(%q) accepted", bad)
		}
	}
	stop := errors.New("stop")
	if err := splitPayload([]byte("1\x1e2"), func([]byte, bool) error { return stop }); err != stop {
		t.Fatalf("callback error %v", err)
	}
}

func TestParseConnectReply(t *testing.T) {
	if sid, err := parseConnectReply([]byte(`40{"sid":"abc"}`)); err != nil || sid != "abc" {
		t.Fatalf("%q %v", sid, err)
	}
	for _, bad := range []string{`40`, `40{}`, `44{"message":"unauthorized"}`, `0{"sid":"x"}`} {
		if _, err := parseConnectReply([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
