package redis

import (
	"strings"
	"testing"
)

// While Redis is slow or away, messages for the other nodes wait in a
// queue bounded in number and in bytes; beyond either, they are dropped
// (counted, for the log), and what was queued keeps its order.
func TestPublishQueueBounded(t *testing.T) {
	var q publishQueue
	q.init(100, 3)
	for i, ok := range []bool{true, true, true, false} {
		if got := q.push(publication{channel: "c", payload: []byte{byte(i)}}); got != ok {
			t.Fatalf("push %d = %v, want %v", i, got, ok)
		}
	}
	if n := q.takeDropped(); n != 1 {
		t.Fatalf("dropped %d, want 1", n)
	}
	q.drop(3)
	if !q.push(publication{payload: []byte(strings.Repeat("x", 60))}) {
		t.Fatal("60 bytes refused under a 100-byte bound")
	}
	if q.push(publication{payload: []byte(strings.Repeat("y", 41))}) {
		t.Fatal("101 bytes queued under a 100-byte bound")
	}
	if !q.push(publication{payload: []byte(strings.Repeat("z", 40))}) {
		t.Fatal("exactly 100 bytes refused")
	}
	got := q.peek(10)
	if len(got) != 2 || got[0].payload[0] != 'x' || got[1].payload[0] != 'z' {
		t.Fatalf("queued %d messages, in the wrong order", len(got))
	}
	q.close()
	if q.push(publication{payload: []byte("a")}) {
		t.Fatal("a closed queue took a message")
	}
}
