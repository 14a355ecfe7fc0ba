package redisadapter

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

// capture is one message published by a Node.js server or emitter, from
// testdata/capture.jsonl. That file was produced by testdata/capture.js
// (node capture.js > capture.jsonl, with @socket.io/redis-adapter 8.3.0,
// @socket.io/redis-emitter 5.1.0, socket.io 4.8.1, socket.io-adapter
// 2.5.9 and notepack.io 3.0.1 installed next to it): real adapters with
// fake Redis clients that record what is published.
type capture struct {
	Name    string
	Channel string
	Msg     []byte
}

func loadCaptures(t testing.TB) []capture {
	t.Helper()
	f, err := os.Open("testdata/capture.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []capture
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var c struct{ Name, Channel, Hex string }
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		msg, err := hex.DecodeString(c.Hex)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, capture{c.Name, c.Channel, msg})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) < 40 {
		t.Fatalf("only %d captures", len(out))
	}
	return out
}

// TestNodeCapture decodes every captured message and encodes it back:
// the bytes must be Node.js's, except for the emitter's broadcasts, whose
// opts members come in another order ({rooms, flags, except}).
func TestNodeCapture(t *testing.T) {
	for _, c := range loadCaptures(t) {
		t.Run(c.Name, func(t *testing.T) {
			var out []byte
			var err error
			switch {
			case strings.HasPrefix(c.Name, "sh"):
				m, err := DecodeClusterMessage(c.Msg, Limits{})
				if err != nil {
					t.Fatal(err)
				}
				if out, err = AppendClusterMessage(nil, &m); err != nil {
					t.Fatal(err)
				}
			case strings.Contains(c.Channel, "-request#"):
				req, err := DecodeRequest(c.Msg, Limits{})
				if err != nil {
					t.Fatal(err)
				}
				if out, err = AppendRequest(nil, req); err != nil {
					t.Fatal(err)
				}
			case strings.Contains(c.Channel, "-response#"):
				resp, err := DecodeResponse(c.Msg, Limits{})
				if err != nil {
					t.Fatal(err)
				}
				if out, err = AppendResponse(nil, resp); err != nil {
					t.Fatal(err)
				}
			default:
				b, err := DecodeBroadcast(c.Msg, Limits{})
				if err != nil {
					t.Fatal(err)
				}
				if out, err = AppendBroadcast(nil, &b); err != nil {
					t.Fatal(err)
				}
				if b.UID == EmitterUID {
					b2, err := DecodeBroadcast(out, Limits{})
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(b, b2) {
						t.Fatalf("emitter broadcast changed:\n%+v\n%+v", b, b2)
					}
					return
				}
				if got := PublishChannel("", b.Packet.Nsp, b.Opts.Rooms); got != c.Channel {
					t.Errorf("channel %q, Node.js %q", got, c.Channel)
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, c.Msg) {
				t.Fatalf("re-encoded\n%x\n%q\nNode.js\n%x\n%q", out, out, c.Msg, c.Msg)
			}
		})
	}
}
