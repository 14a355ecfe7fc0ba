package redisadapter

import (
	"bytes"
	"errors"
	"testing"

	"github.com/sockwasm/sockwasm/protocol/socketio"
)

// isOwnError reports whether err matches one of the package's sentinels.
func isOwnError(err error) bool {
	for _, e := range []error{ErrInvalidMsgpack, ErrInvalidJSON, ErrTooDeep, ErrTooManyAttachments,
		ErrBadPlaceholder, ErrMapKey, ErrInvalidMessage, ErrUnknownType} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// checkJSON checks decoded JSON: valid, within the depth limit, its
// placeholders numbered 0..len(atts)-1, and no bigger than a small
// multiple of the message it comes from.
func checkJSON(t *testing.T, data []byte, atts [][]byte, msg []byte) {
	t.Helper()
	if data == nil {
		return
	}
	if n, err := socketio.CountPlaceholders(data, DefaultMaxDepth, len(atts)); err != nil || n < len(atts) {
		t.Fatalf("%s: %d placeholders, %d attachments: %v", data, n, len(atts), err)
	}
	if len(data) > 6*len(msg)+40*len(atts)+8 {
		t.Fatalf("%d bytes of JSON from %d of message", len(data), len(msg))
	}
	for _, a := range atts {
		if len(a) > 0 && !bytes.Contains(msg, a) {
			t.Fatal("attachment not from the message")
		}
	}
}

func broadcastSeeds(f *testing.F) {
	for _, c := range loadCaptures(f) {
		f.Add(c.Msg)
	}
	for _, h := range []string{"93a17583a474797065a4646174619401a162c0d40000a36e7370a12f80", "93c0810280", "9391c400"} {
		f.Add(mustHex(h))
	}
}

func mustHex(s string) []byte {
	b := make([]byte, len(s)/2)
	for i := range b {
		b[i] = unhex(s[2*i])<<4 | unhex(s[2*i+1])
	}
	return b
}

func unhex(c byte) byte {
	if c >= 'a' {
		return c - 'a' + 10
	}
	return c - '0'
}

// FuzzDecodeBroadcast decodes arbitrary messages: no panic, only the
// package's errors, bounded output, and a decoded broadcast encodes and
// decodes back to the same message.
func FuzzDecodeBroadcast(f *testing.F) {
	broadcastSeeds(f)
	f.Fuzz(func(t *testing.T, msg []byte) {
		b, err := DecodeBroadcast(msg, Limits{})
		if err != nil {
			if !isOwnError(err) {
				t.Fatalf("foreign error %v", err)
			}
			return
		}
		checkJSON(t, b.Packet.Data, b.Packet.Attachments, msg)
		enc1, err := AppendBroadcast(nil, &b)
		if err != nil {
			t.Fatalf("%+v: %v", b, err)
		}
		b2, err := DecodeBroadcast(enc1, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		enc2, err := AppendBroadcast(nil, &b2)
		if err != nil || !bytes.Equal(enc1, enc2) {
			t.Fatalf("unstable: %x\n%x %v", enc1, enc2, err)
		}
	})
}

// FuzzDecodeRequest decodes arbitrary request messages, JSON or msgpack,
// with the same checks.
func FuzzDecodeRequest(f *testing.F) {
	broadcastSeeds(f)
	for _, s := range []string{
		`{"uid":"u","requestId":"i","type":2,"opts":null,"sid":"s","room":7}`,
		`{"type":6,"data":["e",1.5,{"a":[null]}],"requestId":"x"}`,
		`{"type":7,"uid":"u","requestId":"r","packet":{"type":2,"data":["a"]},"opts":{"flags":{"timeout":1e3}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		req, err := DecodeRequest(msg, Limits{})
		if err != nil {
			if !isOwnError(err) {
				t.Fatalf("foreign error %v", err)
			}
			return
		}
		switch r := req.(type) {
		case *BroadcastRequest:
			checkJSON(t, r.Packet.Data, r.Packet.Attachments, msg)
		case *ServerSideEmitRequest:
			checkJSON(t, r.Data, nil, msg)
		}
		enc1, err := AppendRequest(nil, req)
		if err != nil {
			t.Fatalf("%#v: %v", req, err)
		}
		req2, err := DecodeRequest(enc1, Limits{})
		if err != nil {
			t.Fatalf("%q: %v", enc1, err)
		}
		enc2, err := AppendRequest(nil, req2)
		if err != nil || !bytes.Equal(enc1, enc2) {
			t.Fatalf("unstable: %q\n%q %v", enc1, enc2, err)
		}
	})
}

// FuzzDecodeResponse does the same for response messages.
func FuzzDecodeResponse(f *testing.F) {
	broadcastSeeds(f)
	f.Add([]byte(`{"requestId":"i","sockets":[{"id":"a","handshake":{"x":[1]},"rooms":["a"],"data":null}]}`))
	f.Fuzz(func(t *testing.T, msg []byte) {
		resp, err := DecodeResponse(msg, Limits{})
		if err != nil {
			if !isOwnError(err) {
				t.Fatalf("foreign error %v", err)
			}
			return
		}
		if r, ok := resp.(*BroadcastAckResponse); ok {
			checkJSON(t, r.Packet, r.Attachments, msg)
		}
		enc1, err := AppendResponse(nil, resp)
		if err != nil {
			t.Fatalf("%#v: %v", resp, err)
		}
		resp2, err := DecodeResponse(enc1, Limits{})
		if err != nil {
			t.Fatalf("%q: %v", enc1, err)
		}
		enc2, err := AppendResponse(nil, resp2)
		if err != nil || !bytes.Equal(enc1, enc2) {
			t.Fatalf("unstable: %q\n%q %v", enc1, enc2, err)
		}
	})
}

// FuzzDecodeClusterMessage does the same for sharded adapter messages.
func FuzzDecodeClusterMessage(f *testing.F) {
	broadcastSeeds(f)
	f.Fuzz(func(t *testing.T, msg []byte) {
		m, err := DecodeClusterMessage(msg, Limits{})
		if err != nil {
			if !isOwnError(err) {
				t.Fatalf("foreign error %v", err)
			}
			return
		}
		checkJSON(t, m.Packet.Data, m.Packet.Attachments, msg)
		enc1, err := AppendClusterMessage(nil, &m)
		if err != nil {
			t.Fatalf("%#v: %v", m, err)
		}
		m2, err := DecodeClusterMessage(enc1, Limits{})
		if err != nil {
			t.Fatalf("%q: %v", enc1, err)
		}
		enc2, err := AppendClusterMessage(nil, &m2)
		if err != nil || !bytes.Equal(enc1, enc2) {
			t.Fatalf("unstable: %q\n%q %v", enc1, enc2, err)
		}
	})
}
