package memreduce

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Options tune Run. The zero value means the defaults.
type Options struct {
	// Interval is how often the allocation rate is sampled. Default 1s.
	Interval time.Duration
	// QuietRate is the allocation rate, in bytes per second, below which
	// the process counts as quiet. Default 1 MiB/s.
	QuietRate uint64
	// MinAllocated is how many bytes must have been allocated since the
	// last release before another is worth a collection. Default 16 MiB.
	MinAllocated uint64
	// Release collects and returns memory; nil means debug.FreeOSMemory.
	Release func()
	// Allocated reports the bytes allocated since the process started;
	// nil means the runtime's /gc/heap/allocs:bytes.
	Allocated func() uint64
}

func (o *Options) defaults() {
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.QuietRate == 0 {
		o.QuietRate = 1 << 20
	}
	if o.MinAllocated == 0 {
		o.MinAllocated = 16 << 20
	}
	if o.Release == nil {
		o.Release = debug.FreeOSMemory
	}
	if o.Allocated == nil {
		o.Allocated = heapAllocated
	}
}

// Run samples the allocation rate every o.Interval and releases memory
// once each time the process goes quiet after a busy spell in which it
// allocated at least o.MinAllocated bytes. It returns when ctx is done.
func Run(ctx context.Context, o Options) {
	o.defaults()
	t := time.NewTicker(o.Interval)
	defer t.Stop()
	r := newReducer(o, o.Allocated())
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if r.sample(o.Allocated()) {
			o.Release()
			r.released(o.Allocated())
		}
	}
}

// reducer decides, from one sample of the allocation counter per interval,
// when to release: at the first quiet interval after a busy one (four
// times the quiet rate or more), once MinAllocated bytes were allocated
// since the last release. A process that allocates steadily, slowly or
// fast, never counts as going quiet: the collector's own pacing serves it,
// and a release, which stops allocation while it returns pages, would only
// add latency.
type reducer struct {
	quiet    float64 // bytes per interval below which the process is quiet
	min      uint64
	prev     uint64 // the counter at the previous sample
	lastFree uint64 // the counter after the last release
	busy     bool   // an interval since the last release was busy
}

func newReducer(o Options, start uint64) *reducer {
	return &reducer{quiet: float64(o.QuietRate) * o.Interval.Seconds(), min: o.MinAllocated, prev: start, lastFree: start}
}

// sample takes the counter's value at the end of an interval and reports
// whether to release now.
func (r *reducer) sample(now uint64) bool {
	d := float64(now - r.prev)
	r.prev = now
	if d >= 4*r.quiet {
		r.busy = true
	}
	return d < r.quiet && r.busy && now-r.lastFree >= r.min
}

// released records the counter's value after a release.
func (r *reducer) released(now uint64) { r.prev, r.lastFree, r.busy = now, now, false }

var allocsSample = []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}

// heapAllocated reads the bytes allocated on the heap since the process
// started. Run is its only caller, on one goroutine.
func heapAllocated() uint64 {
	metrics.Read(allocsSample)
	if allocsSample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return allocsSample[0].Value.Uint64()
}
