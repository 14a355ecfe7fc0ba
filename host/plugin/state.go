package plugin

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/rs/zerolog"
	"github.com/tetratelabs/wazero/api"
)

// callInstance returns the instance running a guest call, or nil outside
// a call (e.g. during _initialize).
func callInstance(ctx context.Context) *instance {
	if inst, _ := ctx.Value(instKey{}).(*instance); inst != nil && inst.cur != nil {
		return inst
	}
	return nil
}

// initHook keeps the last error-level message a version logs during its
// INIT call, to name the reason when INIT refuses the version.
type initHook struct {
	active atomic.Bool
	last   atomic.Pointer[string]
}

// Run implements zerolog.Hook.
func (h *initHook) Run(e *zerolog.Event, level zerolog.Level, msg string) {
	if level >= zerolog.ErrorLevel && h.active.Load() {
		h.last.Store(&msg)
	}
}

// runInit makes the INIT call of a new version, with its config as args.
func (v *version) runInit(h *initHook) error {
	c := v.p.newCall(KindInit)
	defer freeCall(c)
	c.frame = encodeFrame(c.frame, c.kind, &frameFields{args: v.config})
	h.active.Store(true)
	f := v.invoke(c)
	h.active.Store(false)
	if f == nil {
		return nil
	}
	reason := "the plugin's log has the reason"
	if msg := h.last.Load(); msg != nil {
		reason = fmt.Sprintf("it logged %q", *msg)
	}
	return fmt.Errorf("INIT call failed (%s), the version is refused: %s", f.reason, reason)
}

// hostConfig is config(buf, limit) -> len: the plugin's config as JSON.
func hostConfig(ctx context.Context, m api.Module, stack []uint64) {
	inst := callInstance(ctx)
	if inst == nil {
		ret(stack, ErrNotAllowed)
		return
	}
	ret(stack, writeOut(m, stack[0], stack[1], inst.v.config))
}
