package main

import (
	"io"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/sockwasm/sockwasm/host/config"
)

// liveLog is the log output of the binary: its format ([log] format) and
// level ([log] level) follow the configuration, reloads included
// (server.WithLiveLog). The level is zerolog's global level: one server
// per process, and a disabled level costs nothing.
type liveLog struct {
	out io.Writer
	w   atomic.Pointer[io.Writer]
}

// newLiveLog returns the output for out with c applied, and its logger.
func newLiveLog(out io.Writer, c config.Log) (*liveLog, zerolog.Logger) {
	l := &liveLog{out: out}
	l.set(c)
	return l, zerolog.New(l).Level(zerolog.TraceLevel).With().Timestamp().Logger()
}

// set applies c: the format to the lines written from now on, the level
// to the events logged from now on.
func (l *liveLog) set(c config.Log) {
	w := l.out
	if c.Format == "console" {
		w = zerolog.ConsoleWriter{Out: l.out, TimeFormat: time.TimeOnly, NoColor: !isTerminal(l.out)}
	}
	l.w.Store(&w)
	lvl, err := zerolog.ParseLevel(c.Level)
	if err != nil {
		lvl = zerolog.InfoLevel
	}
	zerolog.SetGlobalLevel(lvl)
}

// Write writes one log line in the current format.
func (l *liveLog) Write(p []byte) (int, error) { return (*l.w.Load()).Write(p) }
