package plugin

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/sockwasm/sockwasm/host/internal/logsafe"
)

// maxLogLine bounds one log line of a guest; longer text is cut.
const maxLogLine = 4096

// logLimiter bounds the lines a plugin puts in the host log: a token
// bucket of Limits.LogLinesPerSecond lines a second (as many in a burst).
// Lines over it are dropped and counted, and one line a second says how
// many were.
type logLimiter struct {
	log  *zerolog.Logger
	what string // what is dropped, for the summary line

	mu      sync.Mutex
	rate    int
	tokens  float64
	last    time.Time
	pending uint64      // dropped since the last summary
	summary *time.Timer // armed while lines are being dropped
	stopped bool

	dropped atomic.Uint64 // all dropped lines, for Stats
}

func (l *logLimiter) init(log *zerolog.Logger, rate int, what string) {
	l.log, l.rate, l.tokens, l.what = log, rate, float64(rate), what
}

// allow takes a token for one line, at rate lines a second (the caller's
// current limit).
func (l *logLimiter) allow(rate int) bool {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if rate > 0 {
		l.rate = rate
	}
	if !l.last.IsZero() {
		l.tokens = min(float64(l.rate), l.tokens+now.Sub(l.last).Seconds()*float64(l.rate))
	}
	l.last = now
	if l.tokens >= 1 {
		l.tokens--
		return true
	}
	l.pending++
	l.dropped.Add(1)
	if l.summary == nil && !l.stopped {
		l.summary = time.AfterFunc(time.Second, l.summarize)
	}
	return false
}

// summarize writes how many lines were dropped in the last second.
func (l *logLimiter) summarize() {
	l.mu.Lock()
	n, rate := l.pending, l.rate
	l.pending = 0
	l.summary = nil
	stopped := l.stopped
	l.mu.Unlock()
	if n > 0 && !stopped {
		l.log.Warn().Uint64("dropped", n).Int("per_second", rate).Msg(l.what + " over the rate limit dropped")
	}
}

// stop cancels a pending summary.
func (l *logLimiter) stop() {
	l.mu.Lock()
	l.stopped = true
	if l.summary != nil {
		l.summary.Stop()
	}
	l.mu.Unlock()
}

// guestLog writes one line a guest logged (log import, stdout, stderr)
// during call c (nil outside a call: _initialize) of version v. The text is
// escaped (no control characters reach the console), cut at maxLogLine,
// counted against the call's MaxLogBytesPerCall and the plugin's
// LogLinesPerSecond.
func (v *version) guestLog(c *call, level zerolog.Level, stream string, msg []byte) {
	p := v.p
	if c != nil {
		left := v.lim.MaxLogBytesPerCall - c.logBytes
		if len(msg) > left {
			c.logDropped += len(msg) - max(left, 0)
			msg = msg[:max(left, 0)]
		}
		if len(msg) == 0 {
			return
		}
		c.logBytes += len(msg)
	}
	if level < v.log.GetLevel() && level < zerolog.ErrorLevel {
		return // below the log level; error lines still name an INIT's reason
	}
	text := logsafe.Text(msg, maxLogLine)
	if c != nil && level >= zerolog.ErrorLevel {
		c.lastError = text
	}
	if !p.logs.allow(v.lim.LogLinesPerSecond) {
		return
	}
	ev := v.log.WithLevel(level)
	if ev == nil {
		return
	}
	if stream != "" {
		ev = ev.Str("stream", stream)
	}
	if c != nil {
		if c.sock != nil || c.eng != nil {
			ev = ev.Str("sid", c.id())
		} else {
			ev = ev.Stringer("kind", c.kind) // INIT, TIMER
		}
	}
	ev.Msg(text)
}

// endLog ends a call's logging: log text over its byte budget, and host
// calls refused after the first (which was logged when it happened), are
// said in one line.
func (c *call) endLog() {
	if c.logDropped == 0 && c.refused == 0 {
		return
	}
	v := c.v
	if c.logDropped > 0 {
		v.p.logs.dropped.Add(1)
	}
	if !v.p.warns.allow(v.lim.LogLinesPerSecond) {
		return
	}
	ev := v.log.Warn().Stringer("kind", c.kind)
	if c.logDropped > 0 {
		ev = ev.Int("log_bytes_dropped", c.logDropped).Int("max_log_bytes_per_call", v.lim.MaxLogBytesPerCall)
	}
	if c.refused > 0 {
		ev = ev.Int("more_refused_host_calls", c.refused)
	}
	ev.Msg("plugin call went over its budget")
}

// lineWriter turns a guest's stdout or stderr into log lines; it belongs
// to one instance (set once it exists: _initialize writes before), whose
// current call it charges.
type lineWriter struct {
	v      *version
	inst   *instance
	stream string
	mu     sync.Mutex
	buf    []byte
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(b)
	for len(b) > 0 {
		i := indexByte(b, '\n')
		if i < 0 {
			room := maxLogLine - len(w.buf)
			if len(b) < room {
				w.buf = append(w.buf, b...)
				break
			}
			w.buf = append(w.buf, b[:room]...)
			w.emit()
			b = b[room:]
			continue
		}
		w.buf = append(w.buf, b[:min(i, maxLogLine-len(w.buf))]...)
		w.emit()
		b = b[i+1:]
	}
	return n, nil
}

func (w *lineWriter) emit() {
	var c *call
	if w.inst != nil {
		c = w.inst.cur
	}
	w.v.guestLog(c, zerolog.InfoLevel, w.stream, w.buf)
	w.buf = w.buf[:0]
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}
