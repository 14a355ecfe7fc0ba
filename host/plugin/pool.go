package plugin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/tetratelabs/wazero/sys"

	"github.com/sockwasm/sockwasm/host/internal/logsafe"
	"github.com/sockwasm/sockwasm/sdk/abi"
)

// pool holds a version's instances, at most PoolSize alive, and the slots
// that bound the calls running at once (MaxConcurrency). A refiller
// goroutine keeps spareInstances of them idle, so that a call finds one
// ready instead of waiting for an instantiation, and replaces those
// discarded after a fault.
//
// Instances are created only by build (the first, then the spares before
// the version serves) and by the refiller, each under
// Limits.instantiateTimeout. The refiller holds a slot while it
// instantiates: _initialize is guest code, and with the calls it runs on
// at most MaxConcurrency cores, however often the plugin's instances
// fault. A call takes a slot, then an idle instance, waiting at most
// CallTimeout for both; when none is idle it waits for one without its
// slot, so that the refiller can take it.
type pool struct {
	v     *version
	idle  chan *instance // cap PoolSize
	slots chan struct{}  // cap MaxConcurrency: a token per running call
	live  atomic.Int64   // instances idle or busy
	want  chan struct{}  // cap 1: wakes the refiller

	ctx     context.Context // canceled by stop: ends an instantiation under way
	cancel  context.CancelFunc
	done    chan struct{} // closed when the refiller has returned
	started bool
}

// spareInstances is how many idle instances the refiller keeps ready
// (PoolSize allowing): as calls take them, it makes more, so the pool
// grows with the concurrency the plugin sees.
const spareInstances = 2

// needsMore reports whether the refiller should make an instance.
func (pl *pool) needsMore() bool {
	return pl.live.Load() < int64(cap(pl.idle)) && len(pl.idle) < spareInstances
}

// init prepares the pool with the version's first instance.
func (pl *pool) init(v *version, first *instance) {
	pl.v = v
	pl.idle = make(chan *instance, v.lim.PoolSize)
	pl.slots = make(chan struct{}, v.lim.MaxConcurrency)
	pl.want = make(chan struct{}, 1)
	pl.ctx, pl.cancel = context.WithCancel(context.Background())
	pl.done = make(chan struct{})
	pl.idle <- first
}

// start makes the spare instances, then starts the refiller. An instance
// that fails now is left to the refiller.
func (pl *pool) start() {
	for pl.needsMore() {
		inst, err := pl.v.instantiate(pl.ctx)
		if err != nil {
			break
		}
		pl.idle <- inst
	}
	pl.started = true
	go pl.refill()
}

// stop ends the refiller and closes the idle instances. The version's
// calls have all returned.
func (pl *pool) stop() {
	if pl.cancel == nil { // never initialized
		return
	}
	pl.cancel()
	if pl.started {
		<-pl.done
	}
	for {
		select {
		case inst := <-pl.idle:
			pl.close(inst)
		default:
			return
		}
	}
}

func (pl *pool) wake() {
	select {
	case pl.want <- struct{}{}:
	default:
	}
}

// maxRefillPause bounds the pause between failed instantiations: a module
// whose _initialize fails or loops every time costs the host at most one
// instantiation deadline every maxRefillPause.
const maxRefillPause = 10 * time.Second

// refill keeps spareInstances idle (PoolSize allowing), replacing those
// taken or discarded after a fault. Failing instantiations are retried
// with a growing pause and logged once per streak.
func (pl *pool) refill() {
	defer close(pl.done)
	var backoff time.Duration
	for {
		for pl.needsMore() {
			select {
			case pl.slots <- struct{}{}:
			case <-pl.ctx.Done():
				return
			}
			inst, err := pl.v.instantiate(pl.ctx)
			<-pl.slots
			if pl.ctx.Err() != nil {
				if inst != nil {
					pl.close(inst)
				}
				return
			}
			if err != nil {
				if backoff == 0 {
					pl.v.log.Warn().Err(err).Msg("creating an instance failed; retrying")
				}
				backoff = min(max(2*backoff, 10*time.Millisecond), maxRefillPause)
				select {
				case <-time.After(backoff):
				case <-pl.ctx.Done():
					return
				}
				continue
			}
			backoff = 0
			select {
			case pl.idle <- inst:
			default:
				pl.close(inst)
			}
		}
		select {
		case <-pl.want:
		case <-pl.ctx.Done():
			return
		}
	}
}

// Errors of calls that found no instance.
var (
	// errBusy fails a call that found every slot taken until its deadline.
	errBusy = errors.New("every call slot busy (max_concurrency)")
	// errNoInstance fails a call that found no instance ready in time.
	errNoInstance = errors.New("no instance ready")
	// errClosed fails calls on a closed plugin.
	errClosed = errors.New("plugin closed")
)

// get takes a slot and an idle instance, waiting up to timeout for both.
func (pl *pool) get(timeout time.Duration) (*instance, error) {
	if pl.v.closed.Load() {
		return nil, errClosed
	}
	var t *time.Timer
	expired := func() <-chan time.Time {
		if t == nil {
			t = time.NewTimer(timeout)
		}
		return t.C
	}
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	select {
	case pl.slots <- struct{}{}:
	default:
		select {
		case pl.slots <- struct{}{}:
		case <-expired():
			return nil, errBusy
		}
	}
	select {
	case inst := <-pl.idle:
		if len(pl.idle) < spareInstances {
			pl.wake()
		}
		return inst, nil
	default:
	}
	// None idle: wait for one without the slot, which the refiller may
	// need to make it, then take a slot again.
	<-pl.slots
	pl.wake()
	var inst *instance
	select {
	case inst = <-pl.idle:
		pl.wake()
	case <-expired():
		return nil, errNoInstance
	}
	select {
	case pl.slots <- struct{}{}:
		return inst, nil
	case <-expired():
		pl.putIdle(inst)
		return nil, errBusy
	}
}

// putIdle returns an instance taken without running it.
func (pl *pool) putIdle(inst *instance) {
	select {
	case pl.idle <- inst:
	default:
		pl.close(inst)
	}
}

// put returns a healthy instance and its slot.
func (pl *pool) put(inst *instance) {
	pl.putIdle(inst)
	<-pl.slots
}

// discard closes a faulted instance, frees its slot and wakes the
// refiller to replace it.
func (pl *pool) discard(inst *instance) {
	pl.close(inst)
	<-pl.slots
	pl.wake()
}

func (pl *pool) close(inst *instance) {
	inst.timer.Stop()
	inst.cancel()
	_ = inst.mod.Close(context.Background())
	pl.live.Add(-1)
}

// instantiate creates an instance under Limits.instantiateTimeout; ctx
// cancels it sooner.
func (v *version) instantiate(ctx context.Context) (*instance, error) {
	out := &lineWriter{v: v, stream: "stdout"}
	errw := &lineWriter{v: v, stream: "stderr"}
	ctx, cancel := context.WithTimeout(ctx, v.lim.instantiateTimeout())
	defer cancel()
	mod, err := v.rt.InstantiateModule(ctx, v.compiled, v.modCfg.WithStdout(out).WithStderr(errw))
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			err = fmt.Errorf("instantiation (_initialize) took longer than %s: %w", v.lim.instantiateTimeout(), err)
		}
		return nil, err
	}
	v.p.instances.Add(1)
	v.pool.live.Add(1)
	inst := &instance{v: v, mod: mod, handle: mod.ExportedFunction(ExportHandle)}
	out.inst, errw.inst = inst, inst
	inst.ctx, inst.cancel = context.WithCancel(context.WithValue(context.Background(), instKey{}, inst))
	inst.timer = time.AfterFunc(time.Hour, func() {
		inst.expired.Store(true)
		inst.cancel()
	})
	inst.timer.Stop()
	return inst, nil
}

// fault describes why a guest call failed.
type fault struct {
	reason string
	err    error
}

// invoke runs one guest call on the current version. It returns nil on
// success, or the fault.
func (p *Plugin) invoke(c *call) *fault {
	v := p.acquire()
	if v == nil {
		p.calls.Add(1)
		p.countCall(c.kind)
		return p.fail(c, &p.log, &fault{reason: "closed", err: errClosed})
	}
	defer v.release()
	return v.invoke(c)
}

// invoke runs one guest call on v: a slot and an instance, the guest under
// the deadline, the time counted, the instance back to the pool (or
// discarded after a fault), then the call's log summary.
func (v *version) invoke(c *call) *fault {
	p := v.p
	p.calls.Add(1)
	p.countCall(c.kind)
	c.v = v
	inst, err := v.pool.get(v.lim.CallTimeout)
	if err != nil {
		reason := "busy"
		switch {
		case errors.Is(err, errNoInstance):
			reason = "no instance"
		case errors.Is(err, errClosed):
			reason = "closed"
		}
		return p.fail(c, &v.log, &fault{reason: reason, err: err})
	}
	inst.cur = c
	inst.stack[0] = uint64(c.kind)
	inst.stack[1] = uint64(len(c.frame))
	start := time.Now()
	inst.timer.Reset(v.lim.CallTimeout)
	err = inst.handle.CallWithStack(inst.ctx, inst.stack[:])
	inTime := inst.timer.Stop()
	took := time.Since(start)
	p.busy.Add(int64(took))
	p.latency.Observe(took.Seconds())
	inst.cur = nil
	c.endLog()
	if err != nil {
		expired := inst.expired.Load()
		v.pool.discard(inst)
		f := classify(err)
		if expired {
			f.reason = "deadline exceeded"
		}
		return p.fail(c, &v.log, f)
	}
	rc := int32(uint32(inst.stack[0]))
	if inTime {
		v.pool.put(inst)
	} else { // the deadline fired as the call returned: its context is dead
		v.pool.discard(inst)
	}
	if rc != 0 {
		return p.fail(c, &v.log, &fault{reason: fmt.Sprintf("handler returned %d", rc)})
	}
	return nil
}

// fail counts a fault and logs it, at most LogLinesPerSecond faults a
// second (the plugin's warnings limiter).
func (p *Plugin) fail(c *call, log *zerolog.Logger, f *fault) *fault {
	p.faults.Add(1)
	p.faultsBy[faultKindOf(f.reason)].Add(1)
	ev := log.Debug()
	if !errors.Is(f.err, errClosed) && p.warns.allow(p.limits().LogLinesPerSecond) {
		ev = log.Warn()
	}
	if ev == nil {
		return f
	}
	ev = ev.Stringer("kind", c.kind).Str("reason", f.reason)
	if c.sock != nil {
		ev = ev.Str("sid", c.sock.ID()).Str("nsp", c.sock.Namespace())
	}
	if c.kind == KindEvent {
		ev = ev.Str("event", logsafe.String(c.event, 128))
	}
	if f.err != nil {
		// A trap's error holds a stack trace of function names: bounded.
		ev = ev.Str("error", logsafe.String(f.err.Error(), 2048))
	}
	ev.Msg("plugin call failed")
	return f
}

func classify(err error) *fault {
	var ee *sys.ExitError
	if errors.As(err, &ee) {
		switch ee.ExitCode() {
		case sys.ExitCodeDeadlineExceeded:
			return &fault{reason: "deadline exceeded", err: err}
		case sys.ExitCodeContextCanceled:
			return &fault{reason: "canceled", err: err}
		}
		return &fault{reason: fmt.Sprintf("exit %d", ee.ExitCode()), err: err}
	}
	return &fault{reason: "trap", err: err}
}

// Fault kinds, as Stats counts them.
const (
	FaultDeadline = iota // the call ran past its deadline
	FaultTrap            // the guest trapped (out of memory included)
	FaultResult          // the handler returned non-zero
	FaultBusy            // no call slot or no instance in time
	FaultClosed          // the plugin was closed
	FaultOther           // canceled, exited
	numFaultKinds
)

// FaultKindNames are the names of the fault kinds, by index.
var FaultKindNames = [numFaultKinds]string{"deadline", "trap", "result", "busy", "closed", "other"}

// faultKindOf sorts a fault's reason into a kind.
func faultKindOf(reason string) int {
	switch {
	case reason == "deadline exceeded":
		return FaultDeadline
	case reason == "trap":
		return FaultTrap
	case strings.HasPrefix(reason, "handler returned"):
		return FaultResult
	case reason == "busy" || reason == "no instance":
		return FaultBusy
	case reason == "closed":
		return FaultClosed
	}
	return FaultOther
}

// countCall counts a call of kind k.
func (p *Plugin) countCall(k abi.Kind) {
	if int(k) < len(p.callsBy) {
		p.callsBy[k].Add(1)
	}
}
