package main

import (
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/sockwasm/sockwasm/host/config"
)

// Each component logs at its own level ([log] engine = "debug", …),
// SOCKWASM_DEBUG turns components to debug over the file, and a new [log]
// (a reload) applies to the lines logged after it, format included.
func TestLiveLogComponents(t *testing.T) {
	t.Cleanup(func() { zerolog.SetGlobalLevel(zerolog.TraceLevel) })
	t.Setenv(debugEnv, "socket, nothere")
	var out syncBuffer
	l, log := newLiveLog(&out, config.Log{Level: "info", Format: "json", Engine: "debug", Plugin: "warn"})
	if got := unknownDebug(); len(got) != 1 || got[0] != "nothere" {
		t.Errorf("unknown components %v", got)
	}
	of := func(c string) zerolog.Logger { return log.With().Str("component", c).Logger() }
	eng, sock, plug := of("engine"), of("socket"), of("plugin")
	eng.Debug().Msg("engine-debug")
	eng.Trace().Msg("engine-trace")
	sock.Debug().Msg("socket-debug")
	plug.Info().Msg("plugin-info")
	plug.Warn().Msg("plugin-warn")
	log.Debug().Msg("base-debug")
	log.Info().Msg("base-info")
	got := out.String()
	for _, want := range []string{"engine-debug", "socket-debug", "plugin-warn", "base-info"} {
		if !strings.Contains(got, `"message":"`+want+`"`) {
			t.Errorf("%s missing from:\n%s", want, got)
		}
	}
	for _, not := range []string{"engine-trace", "plugin-info", "base-debug"} {
		if strings.Contains(got, not) {
			t.Errorf("%s logged:\n%s", not, got)
		}
	}

	t.Setenv(debugEnv, "")
	l.set(config.Log{Level: "info", Format: "console"})
	eng.Debug().Msg("engine-debug-2")
	plug.Info().Msg("plugin-info-2")
	got = out.String()
	if strings.Contains(got, "engine-debug-2") || !strings.Contains(got, "INF plugin-info-2 component=plugin") {
		t.Errorf("after the reload:\n%s", got)
	}
}
