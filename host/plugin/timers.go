package plugin

import (
	"container/heap"
	"context"
	"sync"
	"time"

	"github.com/tetratelabs/wazero/api"
)

// Bounds of timers.
const (
	// MinTimerInterval is the shortest period of a repeating timer.
	MinTimerInterval = 10 * time.Millisecond
	// MaxTimerContext bounds the context blob of a timer.
	MaxTimerContext = 64 << 10
)

// timerSet holds a plugin's timers in memory (MemoryState). They belong
// to the plugin handle, so they survive reloads and fire into the version
// current at that time. One worker goroutine, started with the first
// timer, makes the TIMER calls of the plugin one at a time, in due order:
// however many timers a plugin sets, its timer calls take at most one of
// its call slots, and a plugin whose timers loop delays only its own
// timers. stop cancels every timer and waits for the worker.
type timerSet struct {
	fire TimerFunc
	max  int

	mu      sync.Mutex
	next    uint32
	m       map[uint32]*pluginTimer // pending timers, and ids a staged INIT holds
	due     timerHeap
	wake    chan struct{} // cap 1: the earliest due time changed
	stopped bool
	worker  bool          // the worker goroutine is running
	done    chan struct{} // closed when the worker returns
}

type pluginTimer struct {
	id    uint32
	every time.Duration // 0: one-shot
	ctx   []byte
	at    time.Time
	index int  // in the heap; -1 when not in it
	held  bool // an id taken by a staged INIT call, not yet started
}

func (s *timerSet) init(fire TimerFunc, max int) {
	s.fire, s.max = fire, max
	s.m = make(map[uint32]*pluginTimer)
	s.wake = make(chan struct{}, 1)
}

// setMax changes the bound of pending timers (a reload's new limits).
func (s *timerSet) setMax(max int) {
	s.mu.Lock()
	s.max = max
	s.mu.Unlock()
}

// reserve takes an id for a timer firing after d (every d when repeat)
// without starting it: a staged INIT's timer. It returns the timer, or
// the ABI error code.
func (s *timerSet) reserve(d time.Duration, repeat bool, ctx []byte) (*pluginTimer, int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil, ErrFailed
	}
	if len(s.m) >= s.max {
		return nil, ErrLimit
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
	t := &pluginTimer{id: s.next, ctx: ctx, index: -1, held: true, at: time.Now().Add(d)}
	if repeat {
		t.every = d
	}
	s.m[t.id] = t
	return t, 0
}

// set starts a timer firing after d, then every d when repeat. It returns
// the timer id (1…2³¹−1) or an ABI error code.
func (s *timerSet) set(d time.Duration, repeat bool, ctx []byte) int32 {
	t, code := s.reserve(d, repeat, ctx)
	if code != 0 {
		return code
	}
	s.start(t)
	return int32(t.id)
}

// start schedules a reserved timer.
func (s *timerSet) start(t *pluginTimer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped || s.m[t.id] != t {
		return
	}
	t.held = false
	heap.Push(&s.due, t)
	if !s.worker {
		s.worker = true
		s.done = make(chan struct{})
		go s.run(s.done)
	}
	if t.index == 0 {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// drop forgets a reserved timer that never started.
func (s *timerSet) drop(t *pluginTimer) {
	s.mu.Lock()
	if s.m[t.id] == t && t.held {
		delete(s.m, t.id)
	}
	s.mu.Unlock()
}

// cancel stops timer id; false when there is no such pending timer.
func (s *timerSet) cancel(id uint32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.m[id]
	if t == nil || t.held {
		return false
	}
	delete(s.m, id)
	if t.index >= 0 {
		heap.Remove(&s.due, t.index)
	}
	return true
}

// pending reports whether id is a pending timer.
func (s *timerSet) pending(id uint32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.m[id]
	return t != nil && !t.held
}

// len returns the number of pending timers.
func (s *timerSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// run is the worker: it makes the TIMER call of each timer when due, one
// at a time, until stop.
func (s *timerSet) run(done chan struct{}) {
	defer close(done)
	clock := time.NewTimer(time.Hour)
	defer clock.Stop()
	for {
		s.mu.Lock()
		if s.stopped {
			s.mu.Unlock()
			return
		}
		wait := time.Hour
		if len(s.due) > 0 {
			t := s.due[0]
			if wait = time.Until(t.at); wait <= 0 {
				heap.Pop(&s.due)
				if t.every == 0 {
					delete(s.m, t.id)
				}
				s.mu.Unlock()
				s.fire(t.id, t.ctx)
				if t.every > 0 {
					s.mu.Lock()
					if s.m[t.id] == t && !s.stopped {
						t.at = time.Now().Add(t.every) // the next period starts when this call ends
						heap.Push(&s.due, t)
					}
					s.mu.Unlock()
				}
				continue
			}
		}
		s.mu.Unlock()
		clock.Reset(wait)
		select { // Go 1.23 timers: Reset discards a stale firing
		case <-clock.C:
		case <-s.wake:
		}
	}
}

// stop cancels every timer and waits for the worker, which may be in a
// TIMER call (bounded by the call's deadline).
func (s *timerSet) stop() {
	s.mu.Lock()
	s.stopped = true
	clear(s.m)
	s.due = nil
	done := s.done
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	if done != nil {
		<-done
	}
}

// Set implements TimerStore.
func (s *timerSet) Set(_ context.Context, d time.Duration, repeat bool, blob []byte) (uint32, int32) {
	code := s.set(d, repeat, blob)
	if code < 0 {
		return 0, code
	}
	return uint32(code), 0
}

// Reserve implements TimerStore.
func (s *timerSet) Reserve(_ context.Context, d time.Duration, repeat bool, blob []byte) (uint32, int32) {
	t, code := s.reserve(d, repeat, blob)
	if code != 0 {
		return 0, code
	}
	return t.id, 0
}

// Start implements TimerStore.
func (s *timerSet) Start(_ context.Context, id uint32) int32 {
	s.mu.Lock()
	t := s.m[id]
	s.mu.Unlock()
	if t == nil || !t.held {
		return ErrNotFound
	}
	s.start(t)
	return 0
}

// Drop implements TimerStore.
func (s *timerSet) Drop(id uint32) {
	s.mu.Lock()
	t := s.m[id]
	s.mu.Unlock()
	if t != nil {
		s.drop(t)
	}
}

// Cancel implements TimerStore.
func (s *timerSet) Cancel(_ context.Context, id uint32) int32 {
	if !s.cancel(id) {
		return ErrNotFound
	}
	return 0
}

// Pending implements TimerStore.
func (s *timerSet) Pending(_ context.Context, id uint32) (bool, int32) { return s.pending(id), 0 }

// Len implements TimerStore.
func (s *timerSet) Len(context.Context) int { return s.len() }

// SetLimits implements TimerStore.
func (s *timerSet) SetLimits(l StateLimits) { s.setMax(l.MaxTimers) }

// Stop implements TimerStore: every timer is canceled.
func (s *timerSet) Stop() { s.stop() }

// timerHeap orders pending timers by due time.
type timerHeap []*pluginTimer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *timerHeap) Push(x any) {
	t := x.(*pluginTimer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	t.index = -1
	*h = old[:len(old)-1]
	return t
}

// timerCall makes the TIMER call of timer id.
func (p *Plugin) timerCall(id uint32, ctx []byte) {
	c := p.newCall(KindTimer)
	defer freeCall(c)
	c.frame = encodeFrame(c.frame, c.kind, &frameFields{ackID: uint64(id), context: ctx})
	p.invoke(c)
}

// hostTimerSet is timer_set(delay_ms, repeat, ctx_ptr, ctx_len) -> id. In
// an INIT call the timer is staged: it starts when the version is
// accepted.
func hostTimerSet(ctx context.Context, m api.Module, stack []uint64) {
	c := currentCall(ctx)
	ms := int32(uint32(stack[0]))
	repeat := uint32(stack[1]) != 0
	d := time.Duration(ms) * time.Millisecond
	if ms <= 0 || (repeat && d < MinTimerInterval) {
		ret(stack, ErrInvalid)
		return
	}
	blob, code := copyBounded(c, m, stack[2], stack[3], MaxTimerContext, "timer context over 64 KiB")
	if code != 0 {
		ret(stack, code)
		return
	}
	var id uint32
	if c.stage == nil {
		id, code = c.p.timers.Set(ctx, d, repeat, blob)
	} else if id, code = c.p.timers.Reserve(ctx, d, repeat, blob); code == 0 {
		c.stage.timers = append(c.stage.timers, id)
	}
	if code != 0 {
		ret(stack, c.timerCode(code))
		return
	}
	ret(stack, int32(id))
}

// timerCode names the reason behind an error of the timers (for the
// refusal log) and returns it.
func (c *call) timerCode(code int32) int32 {
	switch code {
	case ErrLimit:
		c.why = "pending timers at max_timers"
	case ErrTimeout:
		c.why = "the shared timers did not answer within half the call's deadline"
	case ErrUnavailable:
		c.why = "the shared timers (redis) cannot be reached"
	}
	return code
}

// hostTimerCancel is timer_cancel(id) -> 0 | ERR_NOT_FOUND. In an INIT
// call, canceling a running timer is staged too.
func hostTimerCancel(ctx context.Context, m api.Module, stack []uint64) {
	c := currentCall(ctx)
	id := uint32(stack[0])
	timers := c.p.timers
	st := c.stage
	if st == nil {
		ret(stack, c.timerCode(timers.Cancel(ctx, id)))
		return
	}
	for i, held := range st.timers {
		if held == id {
			timers.Drop(id)
			st.timers = append(st.timers[:i], st.timers[i+1:]...)
			ret(stack, 0)
			return
		}
	}
	pending, code := timers.Pending(ctx, id)
	switch {
	case code != 0:
		ret(stack, c.timerCode(code))
	case !pending:
		ret(stack, ErrNotFound)
	default:
		st.cancels = append(st.cancels, id)
		ret(stack, 0)
	}
}
