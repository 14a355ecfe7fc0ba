package plugin

import (
	"sync"
	"testing"
)

// Other nodes decide how many server-side events arrive: a plugin's queue
// of SERVER_EVENT and SERVER_ACK calls holds maxServerCalls behind the
// running one and refuses the rest; what it holds runs one at a time, in
// order; stop drops what is queued and waits for the running call.
func TestServerQueueBounded(t *testing.T) {
	var q serverQueue
	release := make(chan struct{})
	started := make(chan struct{})
	var mu sync.Mutex
	var ran []int
	if !q.post(func() { close(started); <-release }) {
		t.Fatal("the first call was refused")
	}
	<-started
	for i := range maxServerCalls {
		if !q.post(func() { mu.Lock(); ran = append(ran, i); mu.Unlock() }) {
			t.Fatalf("call %d refused below the bound", i)
		}
	}
	if q.post(func() { t.Error("a call over the bound ran") }) {
		t.Fatal("a call over the bound was queued")
	}
	close(release)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			q.mu.Lock()
			idle := !q.running
			q.mu.Unlock()
			if idle {
				return
			}
		}
	}()
	<-done
	if len(ran) != maxServerCalls {
		t.Fatalf("%d calls ran, want %d", len(ran), maxServerCalls)
	}
	for i, v := range ran {
		if v != i {
			t.Fatalf("call %d ran as number %d", v, i)
		}
	}

	// stop: the running call finishes, the queued ones never run.
	block := make(chan struct{})
	started2 := make(chan struct{})
	q.post(func() { close(started2); <-block })
	<-started2
	q.post(func() { t.Error("a queued call ran after stop") })
	stopped := make(chan struct{})
	go func() { q.stop(); close(stopped) }()
	for closed := false; !closed; {
		q.mu.Lock()
		closed = q.closed
		q.mu.Unlock()
	}
	close(block)
	<-stopped
	if q.post(func() {}) {
		t.Fatal("a stopped queue took a call")
	}
}
