package memreduce

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// Memory is released once per burst, only when the rate has dropped, and
// never while the process allocates fast or has allocated little.
func TestReleaseOncePerBurst(t *testing.T) {
	r := newReducer(Options{Interval: time.Second, QuietRate: 1000, MinAllocated: 10000}, 0)
	var now uint64
	step := func(alloc uint64) bool {
		now += alloc
		if r.sample(now) {
			r.released(now)
			return true
		}
		return false
	}
	for i := range 5 { // a burst: fast allocation, no release while it lasts
		if step(5000) {
			t.Fatalf("released during the burst (interval %d)", i)
		}
	}
	if !step(10) {
		t.Fatal("no release when the burst ended")
	}
	for i := range 5 {
		if step(10) {
			t.Fatalf("released again while quiet (interval %d)", i)
		}
	}
	step(5000) // a small burst, under MinAllocated in all
	for i := range 5 {
		if step(0) {
			t.Fatalf("released after a small burst (interval %d)", i)
		}
	}
	step(20000) // a second burst past MinAllocated
	if !step(0) {
		t.Fatal("no release after the second burst")
	}
	// Steady allocation just under the quiet rate, for long past
	// MinAllocated: never a burst, never a release.
	for i := range 100 {
		if step(900) {
			t.Fatalf("released during steady slow allocation (interval %d)", i)
		}
	}
	// Steady allocation between the quiet and the busy rate: the same.
	for i := range 100 {
		if step(2000) {
			t.Fatalf("released during steady allocation (interval %d)", i)
		}
	}
}

// Run calls Release when the counter it reads says so, and stops with its
// context.
func TestRun(t *testing.T) {
	var counter atomic.Uint64
	released := make(chan struct{}, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, Options{Interval: time.Millisecond, QuietRate: 1, MinAllocated: 100,
			Allocated: counter.Load, Release: func() { released <- struct{}{} }})
	}()
	// Allocate, then stay quiet; again until Run (which may not have
	// read its starting value yet) releases.
	deadline := time.After(10 * time.Second)
wait:
	for {
		counter.Add(1000)
		select {
		case <-released:
			break wait
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatal("no release")
		}
	}
	cancel()
	<-done
}

// The runtime's counter grows as the process allocates.
func TestHeapAllocated(t *testing.T) {
	a := heapAllocated()
	sink = make([]byte, 1<<20)
	if b := heapAllocated(); b < a+1<<20 {
		t.Fatalf("heapAllocated went from %d to %d over a 1 MiB allocation", a, b)
	}
}

var sink []byte
