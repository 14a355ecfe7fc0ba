//go:build !wasip1

package sockwasm

import "testing"

func TestNamespaceBroadcastBuilder(t *testing.T) {
	b := Of("/chat").To("a").In("b").Except("c").Volatile().Compress(true)
	if b.nsp != "/chat" || len(b.rooms) != 2 || b.rooms[1] != "b" || len(b.except) != 1 ||
		b.flags != broadcastVolatile|broadcastCompress {
		t.Fatalf("builder = %+v", b)
	}
	if b.Compress(false).flags != broadcastVolatile {
		t.Fatalf("flags = %d", b.flags)
	}
	// Without a host every host function is ERR_NOT_ALLOWED.
	if err := b.Emit("x", []byte(`[]`), Bytes([]byte{1})); err != ErrNotAllowed {
		t.Fatalf("Emit = %v", err)
	}
}
