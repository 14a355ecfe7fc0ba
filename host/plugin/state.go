package plugin

import (
	"context"
	"fmt"
	"time"
)

// stage is what an INIT call did to the plugin's state, held back until
// the version is accepted: the timers it set (their ids reserved), the
// running timers it canceled, and its key-value writes (an overlay the
// INIT call reads through). apply and startTimers make it real; a refused
// version drops it, so a refused INIT leaves no timer and no write behind
// (in a shared store too: nothing of it reaches the store but the timer
// ids it reserved).
type stage struct {
	timers  []uint32 // reserved ids
	cancels []uint32
	kv      map[string]stagedKV
	kvBytes int // keys plus values in kv, bounded like the store
}

// stagedKV is a staged key-value write; deleted marks a deletion.
type stagedKV struct {
	e       kvEntry
	deleted bool
}

// apply writes the stage's key-value writes and cancels the timers it
// canceled, before the version becomes current: its first calls see the
// state its INIT made. Each write replaces what the store holds then (a
// shared store may have changed since INIT read it). A write the store
// refuses (full, or unreachable) is dropped and logged. A nil stage does
// nothing.
func (st *stage) apply(p *Plugin) {
	if st == nil {
		return
	}
	ctx := context.Background()
	for _, id := range st.cancels {
		if code := p.timers.Cancel(ctx, id); code != 0 && code != ErrNotFound {
			p.log.Warn().Uint32("timer", id).Int32("code", code).Msg("INIT's timer_cancel dropped: the timers did not answer")
		}
	}
	for k, w := range st.kv {
		now := time.Now().UnixNano()
		var code int32
		switch {
		case w.deleted || (w.e.exp != 0 && w.e.exp <= now):
			_, code = p.kv.Delete(ctx, k)
		case w.e.exp != 0:
			code = p.kv.Set(ctx, k, w.e.val, time.Duration(w.e.exp-now))
		default:
			code = p.kv.Set(ctx, k, w.e.val, 0)
		}
		switch code {
		case 0:
		case ErrLimit:
			p.log.Warn().Str("key", k).Msg("INIT's key-value write dropped: the store is full")
		default:
			p.log.Warn().Str("key", k).Int32("code", code).Msg("INIT's key-value write dropped: the store did not answer")
		}
	}
}

// startTimers starts the stage's timers, once the version is current: they
// fire into it.
func (st *stage) startTimers(p *Plugin) {
	if st == nil {
		return
	}
	for _, id := range st.timers {
		if code := p.timers.Start(context.Background(), id); code != 0 {
			p.log.Warn().Uint32("timer", id).Int32("code", code).Msg("INIT's timer dropped: the timers refused it")
		}
	}
}

// drop releases what a refused INIT staged.
func (st *stage) drop(p *Plugin) {
	if st == nil {
		return
	}
	for _, id := range st.timers {
		p.timers.Drop(id)
	}
}

// runInit makes the INIT call of a new version, with its config as args,
// staging what it does to the plugin's state.
func (v *version) runInit() (*stage, error) {
	c := v.p.newCall(KindInit)
	defer freeCall(c)
	st := &stage{}
	c.stage = st
	c.frame = encodeFrame(c.frame, c.kind, &frameFields{args: v.config})
	f := v.invoke(c)
	if f == nil {
		return st, nil
	}
	st.drop(v.p)
	reason := "the plugin's log has the reason"
	if c.lastError != "" {
		reason = fmt.Sprintf("it logged %q", c.lastError)
	}
	return nil, fmt.Errorf("INIT call failed (%s), the version is refused: %s", f.reason, reason)
}
