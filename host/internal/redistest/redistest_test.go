package redistest_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sockwasm/sockwasm/host/internal/redistest"
)

func do(t *testing.T, r *redistest.Server, args ...string) (any, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return r.Do(ctx, args...)
}

func TestStartKillRestart(t *testing.T) {
	r := redistest.Start(t)
	if want := "redis://" + r.Addr() + "/0"; r.URL() != want {
		t.Errorf("URL = %q, want %q", r.URL(), want)
	}
	if !strings.HasPrefix(r.Addr(), "127.0.0.1:") {
		t.Errorf("Addr = %q, want 127.0.0.1:PORT", r.Addr())
	}
	if v, err := do(t, r, "PING"); err != nil || v != "PONG" {
		t.Fatalf("PING = %v, %v; want PONG", v, err)
	}
	if _, err := do(t, r, "SET", "k", "v"); err != nil {
		t.Fatal(err)
	}
	// No persistence.
	if v, err := do(t, r, "CONFIG", "GET", "save"); err != nil || !equal(v, []any{"save", ""}) {
		t.Errorf("CONFIG GET save = %v, %v", v, err)
	}
	if v, err := do(t, r, "CONFIG", "GET", "appendonly"); err != nil || !equal(v, []any{"appendonly", "no"}) {
		t.Errorf("CONFIG GET appendonly = %v, %v", v, err)
	}

	addr := r.Addr()
	r.Kill()
	if _, err := do(t, r, "PING"); err == nil {
		t.Fatal("PING answered after Kill")
	}
	r.Kill() // idempotent

	r.Restart(t)
	if r.Addr() != addr {
		t.Fatalf("Restart moved the server from %s to %s", addr, r.Addr())
	}
	if v, err := do(t, r, "PING"); err != nil || v != "PONG" {
		t.Fatalf("PING after Restart = %v, %v", v, err)
	}
	if v, err := do(t, r, "GET", "k"); err != nil || v != nil {
		t.Errorf("GET k after Restart = %v, %v; want an empty data set", v, err)
	}
	r.Restart(t) // restarts a running server too
	if v, err := do(t, r, "PING"); err != nil || v != "PONG" {
		t.Fatalf("PING after second Restart = %v, %v", v, err)
	}
}

func TestTwoServers(t *testing.T) {
	a, b := redistest.Start(t), redistest.Start(t)
	if a.Addr() == b.Addr() {
		t.Fatalf("two servers on %s", a.Addr())
	}
	if _, err := do(t, a, "SET", "k", "a"); err != nil {
		t.Fatal(err)
	}
	if v, err := do(t, b, "GET", "k"); err != nil || v != nil {
		t.Errorf("b: GET k = %v, %v; want nil", v, err)
	}
}

func TestDoReplies(t *testing.T) {
	r := redistest.Start(t)
	if v, err := do(t, r, "PUBSUB", "NUMSUB", "socket.io-request#/#"); err != nil || !equal(v, []any{"socket.io-request#/#", int64(0)}) {
		t.Errorf("PUBSUB NUMSUB = %#v, %v", v, err)
	}
	var rerr redistest.Error
	if _, err := do(t, r, "NOSUCHCOMMAND"); !errors.As(err, &rerr) || !strings.HasPrefix(string(rerr), "ERR") {
		t.Errorf("unknown command: err = %v, want a redistest.Error ERR …", err)
	}
	if v, err := do(t, r, "SET", "bin", "a\r\nb"); err != nil || v != "OK" {
		t.Fatalf("SET = %v, %v", v, err)
	}
	if v, err := do(t, r, "GET", "bin"); err != nil || v != "a\r\nb" {
		t.Errorf("GET bin = %q, %v", v, err)
	}
}

func equal(v any, want []any) bool {
	got, ok := v.([]any)
	if !ok || len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// recorder stands in for the test in TestMissingBinary, to watch Start
// fail or skip.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Skipf(format string, args ...any) {
	r.skip = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestMissingBinary(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, ci := range []string{"true", ""} {
		t.Setenv("CI", ci)
		rec := &recorder{TB: t}
		done := make(chan struct{})
		go func() {
			defer close(done)
			redistest.Start(rec)
		}()
		<-done
		switch {
		case ci == "true" && !strings.Contains(rec.fatal, "install"):
			t.Errorf("CI=true: Fatalf(%q), Skipf(%q); want a failure saying to install redis-server", rec.fatal, rec.skip)
		case ci == "" && (rec.skip == "" || rec.fatal != ""):
			t.Errorf("CI unset: Fatalf(%q), Skipf(%q); want a skip", rec.fatal, rec.skip)
		}
	}
}
