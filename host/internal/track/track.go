package track

import (
	"context"
	"sync"
)

// Group tracks goroutines. Unlike a sync.WaitGroup, goroutines may be
// added while someone waits: Wait returns once the count has dropped to
// zero. The zero Group is ready to use.
type Group struct {
	mu   sync.Mutex
	n    int
	idle chan struct{}
}

// Go runs f in a new goroutine counted by g.
func (g *Group) Go(f func()) {
	g.mu.Lock()
	if g.n == 0 {
		g.idle = make(chan struct{})
	}
	g.n++
	g.mu.Unlock()
	go func() {
		defer g.done()
		f()
	}()
}

func (g *Group) done() {
	g.mu.Lock()
	g.n--
	if g.n == 0 {
		close(g.idle)
	}
	g.mu.Unlock()
}

// Len returns the number of goroutines running.
func (g *Group) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.n
}

// Wait blocks until no goroutine of g runs, or ctx is done (then it
// returns ctx's error).
func (g *Group) Wait(ctx context.Context) error {
	g.mu.Lock()
	if g.n == 0 {
		g.mu.Unlock()
		return nil
	}
	idle := g.idle
	g.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
