package plugin

import (
	"context"
	"sync"
	"time"

	"github.com/tetratelabs/wazero/api"
)

// Bounds of timers.
const (
	// minTimerInterval is the shortest period of a repeating timer.
	minTimerInterval = 10 * time.Millisecond
	// maxTimerContext bounds the context blob of a timer.
	maxTimerContext = 64 << 10
)

// timerSet holds a plugin's timers. They belong to the plugin handle, so
// they survive reloads and fire into the version current at that time.
// Each firing runs on the goroutine of its time.AfterFunc; stop cancels
// every timer and waits for the firings in progress.
type timerSet struct {
	p       *Plugin
	max     int
	mu      sync.Mutex
	next    uint32
	m       map[uint32]*pluginTimer
	stopped bool
	running sync.WaitGroup
}

type pluginTimer struct {
	id       uint32
	every    time.Duration // 0: one-shot
	ctx      []byte
	t        *time.Timer
	canceled bool // under timerSet.mu
}

func (s *timerSet) init(p *Plugin, max int) {
	s.p, s.max = p, max
	s.m = make(map[uint32]*pluginTimer)
}

// set starts a timer firing after d, then every d when repeat. It returns
// the timer id (1…2³¹−1) or an ABI error code.
func (s *timerSet) set(d time.Duration, repeat bool, ctx []byte) int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return ErrFailed
	}
	if len(s.m) >= s.max {
		return ErrLimit
	}
	for {
		s.next++
		if s.next >= 1<<31 {
			s.next = 1
		}
		if _, used := s.m[s.next]; !used {
			break
		}
	}
	t := &pluginTimer{id: s.next, ctx: ctx}
	if repeat {
		t.every = d
	}
	s.m[t.id] = t
	t.t = time.AfterFunc(d, func() { s.fire(t) })
	return int32(t.id)
}

// cancel stops timer id; false when there is no such pending timer.
func (s *timerSet) cancel(id uint32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.m[id]
	if t == nil {
		return false
	}
	t.canceled = true
	t.t.Stop()
	delete(s.m, id)
	return true
}

// len returns the number of pending timers.
func (s *timerSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

func (s *timerSet) fire(t *pluginTimer) {
	s.mu.Lock()
	if t.canceled || s.stopped {
		s.mu.Unlock()
		return
	}
	if t.every == 0 {
		delete(s.m, t.id)
	}
	s.running.Add(1)
	s.mu.Unlock()
	defer s.running.Done()
	s.p.timerCall(t.id, t.ctx)
	if t.every > 0 {
		s.mu.Lock()
		if !t.canceled && !s.stopped {
			t.t.Reset(t.every) // the next period starts when this call ends
		}
		s.mu.Unlock()
	}
}

// stop cancels every timer and waits for the firings in progress.
func (s *timerSet) stop() {
	s.mu.Lock()
	s.stopped = true
	for id, t := range s.m {
		t.canceled = true
		t.t.Stop()
		delete(s.m, id)
	}
	s.mu.Unlock()
	s.running.Wait()
}

// timerCall makes the TIMER call of timer id.
func (p *Plugin) timerCall(id uint32, ctx []byte) {
	c := p.newCall(KindTimer)
	defer freeCall(c)
	c.frame = encodeFrame(c.frame, c.kind, &frameFields{ackID: uint64(id), context: ctx})
	p.invoke(c)
}

// hostTimerSet is timer_set(delay_ms, repeat, ctx_ptr, ctx_len) -> id.
func hostTimerSet(ctx context.Context, m api.Module, stack []uint64) {
	inst := callInstance(ctx)
	if inst == nil {
		ret(stack, ErrNotAllowed)
		return
	}
	ms := int32(uint32(stack[0]))
	repeat := uint32(stack[1]) != 0
	d := time.Duration(ms) * time.Millisecond
	if ms <= 0 || (repeat && d < minTimerInterval) {
		ret(stack, ErrInvalid)
		return
	}
	if uint32(stack[3]) > maxTimerContext {
		ret(stack, ErrLimit)
		return
	}
	blob, ok := copyIn(m, stack[2], stack[3])
	if !ok {
		ret(stack, ErrMemory)
		return
	}
	ret(stack, inst.v.p.timers.set(d, repeat, blob))
}

// hostTimerCancel is timer_cancel(id) -> 0 | ERR_NOT_FOUND.
func hostTimerCancel(ctx context.Context, m api.Module, stack []uint64) {
	inst := callInstance(ctx)
	if inst == nil {
		ret(stack, ErrNotAllowed)
		return
	}
	if !inst.v.p.timers.cancel(uint32(stack[0])) {
		ret(stack, ErrNotFound)
		return
	}
	ret(stack, 0)
}
