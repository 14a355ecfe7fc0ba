package redisadapter

import (
	"encoding/hex"
	"runtime"
	"strings"
	"testing"
)

// TestDecodeAllocations measures what hostile messages make the decoders
// allocate: at most a small multiple of their size (the worst cases are
// lists of 1-byte elements, which take a 16-byte string header each).
func TestDecodeAllocations(t *testing.T) {
	const n = 60000
	list := func(elem string) string {
		return "dc" + hex.EncodeToString([]byte{n >> 8, n & 0xff}) + strings.Repeat(elem, n)
	}
	broadcast := func(rooms string) []byte {
		b, _ := hex.DecodeString("93a17581a4747970650281a5726f6f6d73" + rooms)
		return b
	}
	response := func(sockets string) []byte {
		b, _ := hex.DecodeString("82a9726571756573744964a172a7736f636b657473" + sockets)
		return b
	}
	for _, c := range []struct {
		name string
		msg  []byte
		run  func([]byte) error
	}{
		{"empty rooms", broadcast(list("a0")), decodeBroadcast},
		{"numeric rooms", broadcast(list("7f")), decodeBroadcast},
		{"float rooms", broadcast("dc2000" + strings.Repeat("cb3fb999999999999a", 0x2000)), decodeBroadcast},
		{"socket ids", response(list("a0")), decodeResponse},
		{"socket maps", response(list("80")), decodeResponse},
		{"long count", broadcast("ddffffffff"), decodeBroadcast},
		{"data nulls", append(mustHex("93a17582a47479706502a464617461"), mustHex(list("c0")+"80")...), decodeBroadcast},
	} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		err := c.run(c.msg)
		runtime.ReadMemStats(&after)
		t.Logf("%s: %d bytes: %.1f× allocated (%v)", c.name, len(c.msg), float64(after.TotalAlloc-before.TotalAlloc)/float64(len(c.msg)), err)
		factor := 24
		if raceEnabled {
			factor = 40
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > uint64(factor*len(c.msg)+4096) {
			t.Errorf("%s: %d bytes allocated for a message of %d", c.name, got, len(c.msg))
		}
	}
}

func decodeBroadcast(msg []byte) error { _, err := DecodeBroadcast(msg, Limits{}); return err }
func decodeResponse(msg []byte) error  { _, err := DecodeResponse(msg, Limits{}); return err }
