// Package sidlog gives each session a logger that names it, at no cost
// per session: a zerolog sub-logger made with With() holds a context
// buffer of its own (about 0.5 KiB), which two of them per connection
// turned into a tenth of the memory an idle connection holds. A Logger is
// the server's logger and the session id; the id is added to an event
// only when the event is enabled.
package sidlog

import "github.com/rs/zerolog"

// Logger logs with a "sid" field through a shared base logger.
type Logger struct {
	base *zerolog.Logger
	sid  string
}

// New returns a Logger for session sid that writes through base, which
// must outlive it.
func New(base *zerolog.Logger, sid string) Logger { return Logger{base: base, sid: sid} }

// Debug starts a debug event (nil, and free, when the level is off).
func (l Logger) Debug() *zerolog.Event { return l.base.Debug().Str("sid", l.sid) }

// Info starts an info event.
func (l Logger) Info() *zerolog.Event { return l.base.Info().Str("sid", l.sid) }

// Warn starts a warning event.
func (l Logger) Warn() *zerolog.Event { return l.base.Warn().Str("sid", l.sid) }
