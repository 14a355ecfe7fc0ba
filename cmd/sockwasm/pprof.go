package main

import (
	"net/http"
	"net/http/pprof"
)

// withPprof serves Go's profiler at /debug/pprof/ beside the operator's
// endpoints of h ([metrics] pprof = true). The handlers are mounted on a
// mux of their own: importing net/http/pprof registers them on
// http.DefaultServeMux too, which sockwasm never serves.
func withPprof(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/", h)
	return mux
}
