package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// withPprof adds the profiler's pages and leaves the operator's endpoints
// to the handler it wraps.
func TestWithPprof(t *testing.T) {
	ops := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ops "+r.URL.Path)
	})
	srv := httptest.NewServer(withPprof(ops))
	defer srv.Close()
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/debug/pprof/"); code != 200 || !strings.Contains(body, "goroutine") {
		t.Fatalf("/debug/pprof/: %d %.200q", code, body)
	}
	if code, body := get("/debug/pprof/goroutine?debug=1"); code != 200 || !strings.Contains(body, "goroutine profile") {
		t.Fatalf("goroutine profile: %d %.200q", code, body)
	}
	if code, body := get("/metrics"); code != 200 || body != "ops /metrics" {
		t.Fatalf("/metrics: %d %q", code, body)
	}
}
