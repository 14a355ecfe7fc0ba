package track

import (
	"context"
	"testing"
	"time"
)

func TestGroupWaitsForLateGoroutines(t *testing.T) {
	var g Group
	if err := g.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	g.Go(func() {
		<-release
		g.Go(func() {}) // added while Wait is waiting
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := g.Wait(ctx); err != context.DeadlineExceeded {
		t.Fatalf("Wait with a goroutine blocked = %v", err)
	}
	close(release)
	if err := g.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := g.Len(); n != 0 {
		t.Fatalf("Len = %d after Wait", n)
	}
}
