package server

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/sockwasm/sockwasm/host/config"
)

// echoBenchClients is how many WebSocket clients the echo benchmark
// runs, each with one acked event in flight at a time.
const echoBenchClients = 8

// scrapeEvery is how often the benchmark's scraper reads /metrics, ten
// times more often than a Prometheus' usual 1 s at the fastest.
const scrapeEvery = 100 * time.Millisecond

// BenchmarkEchoMetrics measures acked echo events end to end — real
// WebSocket clients on loopback, the Engine.IO and Socket.IO servers, the
// router, testdata/hot's "echo" handler (a Go guest), the ack back —
// with the [metrics] listener off, and on with a scraper reading
// /metrics every 100 ms. The counters behind /metrics are always kept,
// so "off" is a server whose listener no one scrapes; the counters' own
// cost shows in an A/B against a build without them (docs/PERFORMANCE.md).
// With -count N, go test runs "off" N times, then "on" N times: run the
// test binary alternately for an A/B, or BenchmarkEchoMetricsInterleaved.
// ns/op is per event, echoBenchClients clients sending at once;
// cpu-ns/event the CPU time the process (clients, server, scraper) spent
// per event.
func BenchmarkEchoMetrics(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "metrics=off"
		if on {
			name = "metrics=on"
		}
		b.Run(name, func(b *testing.B) { benchEcho(b, on) })
	}
}

func benchEcho(b *testing.B, metrics bool) {
	r := newEchoRig(b, metrics)
	var stop func() int64
	if metrics {
		stop = r.scrape(b)
	}
	b.ResetTimer()
	cpu := processCPU()
	r.run(b, b.N)
	if cpu >= 0 {
		cpu = processCPU() - cpu
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if cpu >= 0 {
		// CPU time per event, clients, server and scraper together: on a
		// shared machine it moves less than the wall time with what other
		// processes do.
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/event")
	}
	if metrics && stop() == 0 && b.Elapsed() > 2*scrapeEvery {
		b.Error("no scrape while the clients ran")
	}
}

// BenchmarkEchoMetricsInterleaved is BenchmarkEchoMetrics with both
// servers running in one process and their turns alternating: rounds of
// echoChunk events on the server without a listener, then on the one
// whose /metrics is scraped every 100 ms (the scraper runs only during
// its turns), the order swapped every round, so that what other
// processes do to the machine falls on both alike. It reports each
// side's wall and CPU time per event over all rounds and their ratios
// (on/off); run it with -benchtime 1x.
func BenchmarkEchoMetricsInterleaved(b *testing.B) {
	const rounds, echoChunk = 10, 40_000
	off, on := newEchoRig(b, false), newEchoRig(b, true)
	for b.Loop() {
		var wall, cpu [2]time.Duration // off, on
		for i := range rounds {
			for k := range 2 {
				side := (i + k) % 2
				r := off
				var stop func() int64
				if side == 1 {
					r, stop = on, on.scrape(b)
				}
				t0, c0 := time.Now(), processCPU()
				r.run(b, echoChunk)
				wall[side] += time.Since(t0)
				cpu[side] += processCPU() - c0
				if stop != nil && stop() == 0 {
					b.Error("no scrape during a turn")
				}
			}
		}
		n := float64(rounds * echoChunk)
		b.ReportMetric(float64(wall[0].Nanoseconds())/n, "off-ns/event")
		b.ReportMetric(float64(wall[1].Nanoseconds())/n, "on-ns/event")
		b.ReportMetric(float64(wall[1])/float64(wall[0]), "on/off-wall")
		if processCPU() >= 0 {
			b.ReportMetric(float64(cpu[0].Nanoseconds())/n, "off-cpu-ns/event")
			b.ReportMetric(float64(cpu[1].Nanoseconds())/n, "on-cpu-ns/event")
			b.ReportMetric(float64(cpu[1])/float64(cpu[0]), "on/off-cpu")
		}
	}
}

// echoRig is a server of startBenchServer with echoBenchClients
// clients connected and warmed up.
type echoRig struct {
	ops     string // the metrics base URL, "" when off
	clients []*benchClient
}

func newEchoRig(b *testing.B, metrics bool) *echoRig {
	b.Helper()
	_, addr, ops := startBenchServer(b, metrics)
	r := &echoRig{ops: ops, clients: make([]*benchClient, echoBenchClients)}
	for i := range r.clients {
		r.clients[i] = dialBench(b, addr)
	}
	// Warm up: every client's first events (the pool's instances, the
	// connections' buffers) are not timed.
	for _, c := range r.clients {
		for range 20 {
			if err := c.echo(); err != nil {
				b.Fatal(err)
			}
		}
	}
	return r
}

// run has the clients echo n events in all, each one at a time.
func (r *echoRig) run(b *testing.B, n int) {
	var left atomic.Int64
	left.Store(int64(n))
	var wg sync.WaitGroup
	for _, c := range r.clients {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				if err := c.echo(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// scrape reads the rig's /metrics every scrapeEvery until the returned
// function is called, which returns the number of scrapes.
func (r *echoRig) scrape(b *testing.B) (stop func() int64) {
	done := make(chan struct{})
	var scrapes atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(scrapeEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			resp, err := http.Get(r.ops + "/metrics")
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("/metrics: %s", resp.Status)
				return
			}
			scrapes.Add(1)
		}
	})
	return func() int64 {
		close(done)
		wg.Wait()
		return scrapes.Load()
	}
}

// startBenchServer serves testdata/hot on "/" on a loopback port, with
// the [metrics] handler on a second port when metrics is set; it returns
// the server, its address and the metrics base URL ("" when off).
func startBenchServer(b *testing.B, metrics bool) (srv *Server, addr, ops string) {
	b.Helper()
	dir := b.TempDir()
	plugins := filepath.Join(dir, "plugins")
	if err := os.Mkdir(plugins, 0o755); err != nil {
		b.Fatal(err)
	}
	wasm, err := os.ReadFile(hotV1)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(plugins, "hot.wasm"), wasm, 0o644); err != nil {
		b.Fatal(err)
	}
	toml := "plugins_dir = \"plugins\"\ncache_dir = \"" + cacheDir + "\"\nwatch = false\n" + hotTOML
	file := filepath.Join(dir, "server.toml")
	if err := os.WriteFile(file, []byte(toml), 0o644); err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Load(file)
	if err != nil {
		b.Fatal(err)
	}
	srv, err = New(context.Background(), cfg, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	var opsSrv *http.Server
	if metrics {
		mln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		opsSrv = &http.Server{Handler: srv.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = opsSrv.Serve(mln) }()
		ops = "http://" + mln.Addr().String()
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if opsSrv != nil {
			_ = opsSrv.Close()
		}
		if err := srv.Shutdown(ctx); err != nil {
			b.Errorf("shutdown: %v", err)
		}
		<-served
	})
	return srv, ln.Addr().String(), ops
}

// BenchmarkMetricsScrape measures one GET /metrics of the server of
// BenchmarkEchoMetrics with its clients connected and counters moving,
// gzip-compressed as Prometheus asks for it: the CPU a scrape costs (the
// Go and process collectors included).
func BenchmarkMetricsScrape(b *testing.B) {
	srv, addr, _ := startBenchServer(b, false)
	for range echoBenchClients {
		c := dialBench(b, addr)
		for range 10 {
			if err := c.echo(); err != nil {
				b.Fatal(err)
			}
		}
	}
	h := srv.MetricsHandler()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("/metrics: %d", rec.Code)
		}
	}
}

// benchClient is a Socket.IO client on "/" over WebSocket that sends one
// acked "echo" at a time and reads until its ack.
type benchClient struct {
	c    *websocket.Conn
	next uint64
	msg  []byte
}

func dialBench(b *testing.B, addr string) *benchClient {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+addr+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.CloseNow() })
	bc := &benchClient{c: c}
	if _, m, err := c.Read(ctx); err != nil || !strings.HasPrefix(string(m), `0{"sid":`) {
		b.Fatalf("open packet %q: %v", m, err)
	}
	if err := c.Write(ctx, websocket.MessageText, []byte("40")); err != nil {
		b.Fatal(err)
	}
	if _, m, err := c.Read(ctx); err != nil || !strings.HasPrefix(string(m), `40{"sid":`) {
		b.Fatalf("connect %q: %v", m, err)
	}
	return bc
}

// echo sends `42ID["echo",{"text":"hello world","n":ID}]` and reads
// until `43ID…`, answering pings on the way.
func (bc *benchClient) echo() error {
	ctx := context.Background()
	bc.next++
	id := strconv.AppendUint(nil, bc.next, 10)
	bc.msg = append(append(append(append(append(bc.msg[:0], "42"...), id...), `["echo",{"text":"hello world","n":`...), id...), "}]"...)
	if err := bc.c.Write(ctx, websocket.MessageText, bc.msg); err != nil {
		return err
	}
	want := append([]byte("43"), id...)
	for {
		_, m, err := bc.c.Read(ctx)
		if err != nil {
			return err
		}
		switch {
		case string(m) == "2":
			if err := bc.c.Write(ctx, websocket.MessageText, []byte("3")); err != nil {
				return err
			}
		case len(m) > len(want) && string(m[:len(want)]) == string(want) && m[len(want)] == '[':
			return nil
		}
	}
}
