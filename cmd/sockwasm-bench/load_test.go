package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestLoadAgainstBare drives the bare server with every scenario the bare
// server answers, for a fraction of a second each, and checks that the
// generator verified everything and counted what it should.
func TestLoadAgainstBare(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", newBareServer(25*time.Second))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, tc := range []struct {
		name string
		o    loadOptions
		want func(r *result) bool
	}{
		{"echo", loadOptions{Scenario: "echo", Clients: 4, InFlight: 2},
			func(r *result) bool { return r.AcksWindow > 0 && r.Acked == r.Sent && r.Latency != nil }},
		{"echo 4KiB", loadOptions{Scenario: "echo", Clients: 2, InFlight: 1, Size: 4096},
			func(r *result) bool { return r.AcksWindow > 0 && r.Acked == r.Sent }},
		{"binary", loadOptions{Scenario: "binary", Clients: 3, InFlight: 2},
			func(r *result) bool { return r.AcksWindow > 0 && r.Acked == r.Sent }},
		{"broadcast closed", loadOptions{Scenario: "broadcast", Clients: 5, InFlight: 4},
			func(r *result) bool { return r.Deliveries > 0 && r.Delivered == r.Expected && r.Acked == r.Sent }},
		{"broadcast rate", loadOptions{Scenario: "broadcast", Clients: 5, InFlight: 1, Rate: 50},
			func(r *result) bool { return r.Sent >= 5 && r.Sent <= 20 && r.Delivered == 5*r.Sent }},
		// Three source addresses: the system's choice, 127.0.0.2, 127.0.0.3.
		{"connect", loadOptions{Scenario: "connect", Clients: 25, InFlight: 1, PerSource: 10},
			func(r *result) bool { return r.Connected == 25 && r.Sources == 3 && r.ConnPerSec > 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			o.URL, o.Path, o.Transport, o.Room, o.Sources = srv.URL, "/socket.io/", "websocket", "bench", "auto"
			o.Warmup, o.Duration, o.Drain, o.DialConcurrency = 50*time.Millisecond, 200*time.Millisecond, 5*time.Second, 4
			if o.PerSource == 0 {
				o.PerSource = 25000
			}
			if err := o.check(); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			r, err := runLoad(context.Background(), &o, newSyncer(false, strings.NewReader(""), &out))
			if err != nil {
				t.Fatal(err)
			}
			if !r.OK || !tc.want(r) {
				t.Fatalf("result %+v", r)
			}
		})
	}

	// The bare server has no long-polling: every connection fails, and says so.
	o := loadOptions{URL: srv.URL, Path: "/socket.io/", Scenario: "echo", Transport: "polling", Clients: 2, InFlight: 1,
		Room: "bench", Sources: "", PerSource: 10, Warmup: time.Millisecond, Duration: time.Millisecond, DialConcurrency: 2}
	if err := o.check(); err != nil {
		t.Fatal(err)
	}
	r, err := runLoad(context.Background(), &o, newSyncer(false, strings.NewReader(""), &bytes.Buffer{}))
	if err != nil || r.OK || r.Errors != 2 || !strings.Contains(r.ErrorSamples[0], "400") {
		t.Fatalf("polling against bare: %+v %v", r, err)
	}
}

// TestSyncMarkers checks the runner's handshake: a marker, then a line back.
func TestSyncMarkers(t *testing.T) {
	var out bytes.Buffer
	s := newSyncer(true, strings.NewReader("\n\n"), &out)
	if err := s.mark("start"); err != nil {
		t.Fatal(err)
	}
	if err := s.mark("end"); err != nil {
		t.Fatal(err)
	}
	if out.String() != "@start\n@end\n" {
		t.Fatalf("markers %q", out.String())
	}
	if err := s.mark("more"); err == nil {
		t.Fatal("no answer, no error")
	}
}
