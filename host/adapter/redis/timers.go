package redis

import (
	"context"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sockwasm/sockwasm/host/plugin"
)

// Polling of the shared timers.
const (
	// pollInterval spaces a node's looks for the due timers of a plugin
	// when it knows of none due sooner: a timer set on another node fires
	// at most this late (plus a round trip).
	pollInterval = 25 * time.Millisecond
	// minBackoff and maxBackoff space the looks while Redis is away.
	minBackoff = 50 * time.Millisecond
	maxBackoff = time.Second
)

// sharedTimers are a plugin's timers in Redis (see Cluster.PluginState for
// the keys and the claiming). Its worker, started when the plugin is
// granted the timers (SetLimits) and stopped by Stop or the cluster's
// Close, claims due timers one at a time and makes their TIMER calls on
// its own goroutine: this node runs the plugin's TIMER calls one at a
// time, as the memory timers do.
type sharedTimers struct {
	c    *Cluster
	keys []string // contexts, periods, due times, id counter
	fire plugin.TimerFunc

	mu      sync.Mutex
	lim     plugin.StateLimits
	held    map[uint32]heldTimer // reserved by an INIT call, not started
	stopped bool
	quit    chan struct{} // closed by Stop
	wquit   chan struct{} // closed to stop the running worker (grant removed)
	done    chan struct{} // closed when the worker returns; nil while none runs
	wake    chan struct{} // cap 1: a timer was set here, look again now
}

// heldTimer is a timer reserved by an INIT call.
type heldTimer struct {
	at    time.Time // due
	every time.Duration
	ctx   []byte
}

func newSharedTimers(c *Cluster, name string, fire plugin.TimerFunc) *sharedTimers {
	return &sharedTimers{
		c:    c,
		keys: c.stateKeys(name, "timers", "timer-every", "timer-due", "timer-id"),
		fire: fire,
		held: make(map[uint32]heldTimer),
		quit: make(chan struct{}),
		wake: make(chan struct{}, 1),
	}
}

// limits returns the bounds and the number of ids held by INIT calls.
func (s *sharedTimers) limits() (plugin.StateLimits, int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lim, len(s.held), s.stopped
}

func (s *sharedTimers) run(ctx context.Context, script *goredis.Script, args ...any) ([]any, int32) {
	lim, _, _ := s.limits()
	return s.c.runScript(ctx, lim.CallTimeout, script, s.keys, args...)
}

// period is the period of a timer of delay d, 0 for a one-shot.
func period(d time.Duration, repeat bool) time.Duration {
	if repeat {
		return d
	}
	return 0
}

// set runs the set script: reserve takes an id only.
func (s *sharedTimers) set(ctx context.Context, d time.Duration, repeat bool, blob []byte, reserve bool) (uint32, int32) {
	lim, held, stopped := s.limits()
	if stopped {
		return 0, plugin.ErrFailed
	}
	r := "0"
	if reserve {
		r = "1"
	}
	reply, code := s.c.runScript(ctx, lim.CallTimeout, timerSetScript, s.keys,
		millis(d), millis(period(d, repeat)), blob, lim.MaxTimers, held, r)
	if code != 0 {
		return 0, code
	}
	if len(reply) < 2 {
		return 0, plugin.ErrFailed
	}
	return uint32(replyInt(reply[1])), 0
}

// Set implements plugin.TimerStore.
func (s *sharedTimers) Set(ctx context.Context, d time.Duration, repeat bool, blob []byte) (uint32, int32) {
	id, code := s.set(ctx, d, repeat, blob, false)
	if code == 0 {
		s.poke()
	}
	return id, code
}

// Reserve implements plugin.TimerStore: the id is taken from the
// cluster's counter (the only write a refused INIT leaves), the timer is
// kept here until Start.
func (s *sharedTimers) Reserve(ctx context.Context, d time.Duration, repeat bool, blob []byte) (uint32, int32) {
	at := time.Now().Add(d)
	id, code := s.set(ctx, d, repeat, blob, true)
	if code != 0 {
		return 0, code
	}
	s.mu.Lock()
	s.held[id] = heldTimer{at: at, every: period(d, repeat), ctx: blob}
	s.mu.Unlock()
	return id, 0
}

// Start implements plugin.TimerStore.
func (s *sharedTimers) Start(ctx context.Context, id uint32) int32 {
	s.mu.Lock()
	h, ok := s.held[id]
	delete(s.held, id)
	s.mu.Unlock()
	if !ok {
		return plugin.ErrNotFound
	}
	lim, _, _ := s.limits()
	_, code := s.c.runScript(ctx, lim.CallTimeout, timerStartScript, s.keys,
		id, millis(time.Until(h.at)), millis(h.every), h.ctx, lim.MaxTimers)
	if code == 0 {
		s.poke()
	}
	return code
}

// Drop implements plugin.TimerStore.
func (s *sharedTimers) Drop(id uint32) {
	s.mu.Lock()
	delete(s.held, id)
	s.mu.Unlock()
}

// Cancel implements plugin.TimerStore: from any node.
func (s *sharedTimers) Cancel(ctx context.Context, id uint32) int32 {
	_, code := s.run(ctx, timerCancelScript, id)
	return code
}

// Pending implements plugin.TimerStore.
func (s *sharedTimers) Pending(ctx context.Context, id uint32) (bool, int32) {
	reply, code := s.run(ctx, timerPendingScript, id)
	if code != 0 || len(reply) < 2 {
		return false, code
	}
	return replyInt(reply[1]) == 1, 0
}

// Len implements plugin.TimerStore.
func (s *sharedTimers) Len(ctx context.Context) int {
	reply, code := s.run(ctx, timerLenScript)
	if code != 0 || len(reply) < 2 {
		return -1
	}
	return int(replyInt(reply[1]))
}

// SetLimits implements plugin.TimerStore: limits that say the plugin is
// granted the timers start the worker; limits that say it no longer is
// (a reload removed the grant) stop it, once its TIMER call in progress
// has returned: the other nodes' workers, or a later grant, fire the
// timers then.
func (s *sharedTimers) SetLimits(l plugin.StateLimits) {
	s.mu.Lock()
	s.lim = l
	var wait chan struct{}
	switch {
	case l.WatchTimers && s.done == nil && !s.stopped:
		s.done, s.wquit = make(chan struct{}), make(chan struct{})
		go s.work(s.done, s.wquit)
	case !l.WatchTimers && s.done != nil:
		close(s.wquit)
		wait = s.done
		s.done, s.wquit = nil, nil
	}
	s.mu.Unlock()
	if wait != nil {
		<-wait
	}
}

// Stop implements plugin.TimerStore: this node stops firing the plugin's
// timers and waits for its TIMER call in progress, if any. The timers stay
// in Redis for the other nodes.
func (s *sharedTimers) Stop() {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.stopped = true
	close(s.quit)
	done := s.done
	clear(s.held)
	s.mu.Unlock()
	if done != nil {
		<-done
	}
}

// poke wakes the worker: a timer set here may be due before its next
// look.
func (s *sharedTimers) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// work is the worker: it claims the plugin's due timers and runs their
// TIMER calls, one at a time, until Stop or the cluster's Close.
func (s *sharedTimers) work(done, quit chan struct{}) {
	defer close(done)
	clock := time.NewTimer(time.Hour)
	defer clock.Stop()
	backoff := time.Duration(0)
	for {
		select {
		case <-s.quit:
			return
		case <-quit:
			return
		case <-s.c.ctx.Done():
			return
		default:
		}
		wait, ok := s.claim()
		switch {
		case !ok:
			backoff = min(max(2*backoff, minBackoff), maxBackoff)
			wait = backoff
		case wait == 0:
			backoff = 0
			continue
		default:
			backoff = 0
		}
		clock.Reset(wait)
		select { // Go 1.23 timers: Reset discards a stale firing
		case <-s.quit:
			return
		case <-quit:
			return
		case <-s.c.ctx.Done():
			return
		case <-s.wake:
		case <-clock.C:
		}
	}
}

// claim takes the earliest due timer, if any, and makes its TIMER call.
// It returns how long to wait before the next look (0: at once), and
// false when Redis did not answer. The claim is not canceled by Stop: a
// timer taken is a timer fired.
func (s *sharedTimers) claim() (time.Duration, bool) {
	lim, _, _ := s.limits()
	lease := 2*lim.CallTimeout + time.Second
	reply, code := s.c.runScript(context.Background(), lim.CallTimeout, timerClaimScript, s.keys, lease.Milliseconds())
	if code != 0 || len(reply) < 2 {
		return 0, false
	}
	if replyInt(reply[0]) == 0 {
		next := replyInt(reply[1])
		if next < 0 || time.Duration(next)*time.Millisecond > pollInterval {
			return pollInterval, true
		}
		return time.Duration(next) * time.Millisecond, true
	}
	if len(reply) < 5 {
		return 0, false
	}
	id, ctx, every, claim := uint32(replyInt(reply[1])), replyBytes(reply[2]), replyInt(reply[3]), replyInt(reply[4])
	s.fire(id, ctx)
	if every > 0 {
		// On failure the lease brings the timer back, a lease late.
		s.c.runScript(context.Background(), lim.CallTimeout, timerRescheduleScript, s.keys, id, claim, every)
	}
	return 0, true
}
