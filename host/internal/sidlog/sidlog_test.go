package sidlog

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	base := zerolog.New(&buf).Level(zerolog.InfoLevel)
	l := New(&base, "abc")
	l.Debug().Msg("hidden")
	l.Info().Str("k", "v").Msg("shown")
	l.Warn().Msg("warned")
	out := buf.String()
	if strings.Contains(out, "hidden") {
		t.Fatalf("a disabled level logged: %s", out)
	}
	for _, want := range []string{`{"level":"info","sid":"abc","k":"v","message":"shown"}`, `{"level":"warn","sid":"abc","message":"warned"}`} {
		if !strings.Contains(out, want) {
			t.Fatalf("missing %s in:\n%s", want, out)
		}
	}
	if n := testing.AllocsPerRun(100, func() { l.Debug().Str("x", "y").Msg("m") }); n != 0 {
		t.Fatalf("a disabled event allocates %v times", n)
	}
}
