package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/sockwasm/sockwasm/host/config"
)

// debugEnv names the components to log at debug level whatever [log]
// says: SOCKWASM_DEBUG=engine,plugin, or * for all, as DEBUG=engine*
// does for the reference server.
const debugEnv = "SOCKWASM_DEBUG"

// liveLog is the log output of the binary: its format ([log] format), its
// level ([log] level) and the level of each component (the lines that
// carry "component":NAME) follow the configuration, reloads included
// (server.WithLiveLog). zerolog's global level is the lowest of them, so a
// level no component uses costs nothing; lines of a component below its
// own level are dropped here.
type liveLog struct {
	out    io.Writer
	w      atomic.Pointer[io.Writer]
	levels atomic.Pointer[levels]
}

// levels are the levels in force: base for lines without a component (or
// one not listed), and the components' own, when any differs from base.
type levels struct {
	base       zerolog.Level
	components map[string]zerolog.Level
}

// newLiveLog returns the output for out with c applied, and its logger.
func newLiveLog(out io.Writer, c config.Log) (*liveLog, zerolog.Logger) {
	l := &liveLog{out: out}
	l.set(c)
	return l, zerolog.New(l).Level(zerolog.TraceLevel).With().Timestamp().Logger()
}

// parseLevel reads a configured level (validated; info otherwise).
func parseLevel(s string) zerolog.Level {
	lvl, err := zerolog.ParseLevel(s)
	if err != nil || s == "" {
		return zerolog.InfoLevel
	}
	return lvl
}

// set applies c, and SOCKWASM_DEBUG over it: the format to the lines
// written from now on, the levels to the events logged from now on.
func (l *liveLog) set(c config.Log) {
	w := l.out
	if c.Format == "console" {
		w = zerolog.ConsoleWriter{Out: l.out, TimeFormat: time.TimeOnly, NoColor: !isTerminal(l.out)}
	}
	l.w.Store(&w)
	lv := &levels{base: parseLevel(c.Level)}
	debug := map[string]bool{}
	for _, name := range strings.Split(os.Getenv(debugEnv), ",") {
		debug[strings.TrimSpace(name)] = true
	}
	lowest := lv.base
	for _, comp := range config.LogComponents {
		cl := lv.base
		if s := c.ComponentLevel(comp); s != "" {
			cl = parseLevel(s)
		}
		if debug[comp] || debug["*"] {
			cl = min(cl, zerolog.DebugLevel)
		}
		if cl != lv.base {
			if lv.components == nil {
				lv.components = map[string]zerolog.Level{}
			}
			lv.components[comp] = cl
		}
		lowest = min(lowest, cl)
	}
	l.levels.Store(lv)
	zerolog.SetGlobalLevel(lowest)
}

// unknownDebug returns the names in SOCKWASM_DEBUG that are not
// components.
func unknownDebug() []string {
	var out []string
	for _, name := range strings.Split(os.Getenv(debugEnv), ",") {
		name = strings.TrimSpace(name)
		known := name == "" || name == "*"
		for _, comp := range config.LogComponents {
			known = known || name == comp
		}
		if !known {
			out = append(out, name)
		}
	}
	return out
}

var componentKey = []byte(`"component":"`)

// WriteLevel writes one log line in the current format, unless its
// component logs above its level.
func (l *liveLog) WriteLevel(level zerolog.Level, p []byte) (int, error) {
	lv := l.levels.Load()
	min := lv.base
	if lv.components != nil {
		if i := bytes.Index(p, componentKey); i >= 0 {
			rest := p[i+len(componentKey):]
			if j := bytes.IndexByte(rest, '"'); j >= 0 {
				if cl, ok := lv.components[string(rest[:j])]; ok {
					min = cl
				}
			}
		}
	}
	if level < min && level != zerolog.NoLevel {
		return len(p), nil
	}
	return l.Write(p)
}

// Write writes one log line in the current format.
func (l *liveLog) Write(p []byte) (int, error) { return (*l.w.Load()).Write(p) }
