package plugin

import (
	"fmt"
	"time"
)

// stage is what an INIT call did to the plugin's state, held back until
// the version is accepted: the timers it set (their ids reserved), the
// running timers it canceled, and its key-value writes (an overlay the
// INIT call reads through). apply and startTimers make it real; a refused
// version drops it, so a refused INIT leaves no timer and no write behind.
type stage struct {
	timers  []*pluginTimer
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
// state its INIT made. A nil stage does nothing.
func (st *stage) apply(p *Plugin) {
	if st == nil {
		return
	}
	for _, id := range st.cancels {
		p.timers.cancel(id)
	}
	now := time.Now().UnixNano()
	p.kv.mu.Lock()
	defer p.kv.mu.Unlock()
	for k, w := range st.kv {
		if w.deleted {
			if _, ok := p.kv.m[k]; ok {
				p.kv.remove(k)
			}
			continue
		}
		if code := p.kv.store(k, w.e, now); code != 0 {
			p.log.Warn().Str("key", k).Msg("INIT's key-value write dropped: the store is full")
		}
	}
}

// startTimers starts the stage's timers, once the version is current: they
// fire into it.
func (st *stage) startTimers(p *Plugin) {
	if st == nil {
		return
	}
	for _, t := range st.timers {
		p.timers.start(t)
	}
}

// drop releases what a refused INIT staged.
func (st *stage) drop(p *Plugin) {
	if st == nil {
		return
	}
	for _, t := range st.timers {
		p.timers.drop(t)
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
