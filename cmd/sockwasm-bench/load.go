package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// loadOptions are the load subcommand's flags.
type loadOptions struct {
	URL             string
	Path            string
	Scenario        string // connect, echo, binary, broadcast
	Transport       string // websocket, polling (echo only)
	Clients         int
	InFlight        int
	Size            int
	Rate            float64
	Room            string
	Warmup          time.Duration
	Duration        time.Duration
	Drain           time.Duration
	DialConcurrency int
	Sources         string
	PerSource       int
	Hold            time.Duration
	Sync            bool
	Compress        bool
}

// defaultSize is each scenario's payload size when -size is 0.
var defaultSize = map[string]int{"echo": 64, "binary": 8192, "broadcast": 64}

const loadUsage = `usage: sockwasm-bench load [flags]

Drives any Socket.IO v4 server (Engine.IO 4) on namespace "/" with lean raw
clients and prints one JSON line: the scenario, its parameters, counts,
rates, latency percentiles (ms) and what failed verification. The exit
status is 0 when every check passed, 3 when one failed, 1 when the run
could not be made.

Scenarios (the server must answer the chat plugin's events; see README.md):
  connect    open -clients connections (WebSocket, CONNECT to "/"), -dial-concurrency
             at a time; conn/s over the ramp. They then stay open for -hold (or, with
             -sync, until the runner has sampled the server), answering pings.
  echo       -clients clients, each keeping -inflight "echo" events with an ack in
             flight (closed loop); the argument is a -size byte string that names
             the client and the message, and every ack must carry exactly it.
             -transport polling uses Engine.IO long-polling only (no upgrade).
  binary     echo with one -size byte binary attachment (WebSocket); the ack must
             carry the placeholder and the same bytes.
  broadcast  one sender and -clients receivers, all joined to -room; the sender
             emits "say" {room, text} (text: sequence number, send time, padding
             to -size) and the server sends "said" {room, from, text} to the room
             but the sender. Closed loop with at most -inflight messages not yet
             delivered to every receiver, or -rate messages per second. Every
             delivery is checked: none lost, none duplicated, none to the sender,
             the right room, sender and text; latency from the send time.

Each scenario but connect runs -warmup, then the measured -duration, then
stops sending and waits up to -drain for what is outstanding; only
acks/deliveries that arrive in the measured window count towards rates and
latencies, but every message of the run is verified.

Past -per-source connections (25000: the ephemeral port range allows about
28k per source address and server port) the connections use 127.0.0.2,
127.0.0.3… as source addresses when the server is on an IPv4 loopback
address (-sources auto), or the addresses listed in -sources.

Flags:
`

func loadMain(args []string, stdout, stderr io.Writer) int {
	var o loadOptions
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, loadUsage)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.URL, "url", "http://127.0.0.1:3000", "server base URL")
	fs.StringVar(&o.Path, "path", "/socket.io/", "Engine.IO endpoint path")
	fs.StringVar(&o.Scenario, "scenario", "echo", "connect, echo, binary or broadcast")
	fs.StringVar(&o.Transport, "transport", "websocket", "websocket, or polling (echo only)")
	fs.IntVar(&o.Clients, "clients", 100, "connections (connect), clients (echo, binary) or receivers (broadcast)")
	fs.IntVar(&o.InFlight, "inflight", 1, "events in flight per client (echo, binary); broadcast: messages not yet delivered to every receiver")
	fs.IntVar(&o.Size, "size", 0, "payload bytes: echo string (64), binary attachment (8192), broadcast text (64); 0: the default")
	fs.Float64Var(&o.Rate, "rate", 0, "broadcast: messages per second, open loop (0: closed loop with -inflight)")
	fs.StringVar(&o.Room, "room", "bench", "broadcast: the room (plain characters, no JSON escapes)")
	fs.DurationVar(&o.Warmup, "warmup", time.Second, "traffic before the measured window")
	fs.DurationVar(&o.Duration, "duration", 5*time.Second, "the measured window")
	fs.DurationVar(&o.Drain, "drain", 10*time.Second, "how long to wait for outstanding acks and deliveries after the window")
	fs.IntVar(&o.DialConcurrency, "dial-concurrency", 64, "connections being opened at once")
	fs.StringVar(&o.Sources, "sources", "auto", `local source addresses: "auto", "" (the system's choice) or a comma-separated list`)
	fs.IntVar(&o.PerSource, "per-source", 25000, "connections per source address")
	fs.DurationVar(&o.Hold, "hold", 0, "connect: how long the connections stay open after the ramp")
	fs.BoolVar(&o.Compress, "compress", false, "offer compression as browsers do: permessage-deflate on WebSocket (required: a server that does not accept it fails the run), Accept-Encoding: gzip on polling GETs (at least one response must come compressed)")
	fs.BoolVar(&o.Sync, "sync", false, `print "@start" and "@end" around the measured window and wait for a line on stdin after each (used by the runner to sample the server)`)
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 1
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sockwasm-bench load: unexpected argument %q\n", fs.Arg(0))
		return 1
	}
	if err := o.check(); err != nil {
		fmt.Fprintf(stderr, "sockwasm-bench load: %v\n", err)
		return 1
	}
	res, err := runLoad(context.Background(), &o, newSyncer(o.Sync, os.Stdin, stdout))
	if err != nil {
		fmt.Fprintf(stderr, "sockwasm-bench load: %v\n", err)
		return 1
	}
	b, _ := json.Marshal(res)
	fmt.Fprintf(stdout, "%s\n", b)
	if !res.OK {
		return 3
	}
	return 0
}

func (o *loadOptions) check() error {
	switch o.Scenario {
	case "connect", "echo", "binary", "broadcast":
	default:
		return fmt.Errorf("-scenario %q: want connect, echo, binary or broadcast", o.Scenario)
	}
	switch {
	case o.Transport != "websocket" && o.Transport != "polling":
		return fmt.Errorf("-transport %q: want websocket or polling", o.Transport)
	case o.Transport == "polling" && o.Scenario != "echo":
		return fmt.Errorf("-transport polling is for -scenario echo only")
	case o.Clients < 1:
		return fmt.Errorf("-clients must be at least 1")
	case o.InFlight < 1:
		return fmt.Errorf("-inflight must be at least 1")
	case o.Size < 0 || o.Size > 1<<20:
		return fmt.Errorf("-size must be 0…1048576")
	case o.Rate < 0:
		return fmt.Errorf("-rate must not be negative")
	case o.Duration <= 0 && o.Scenario != "connect":
		return fmt.Errorf("-duration must be positive")
	case o.DialConcurrency < 1:
		return fmt.Errorf("-dial-concurrency must be at least 1")
	case o.Room == "":
		return fmt.Errorf("-room must not be empty")
	}
	for _, c := range o.Room {
		if c < ' ' || c == '"' || c == '\\' || c > '~' {
			return fmt.Errorf("-room %q: plain ASCII without quotes or backslashes, please", o.Room)
		}
	}
	if o.Size == 0 {
		o.Size = defaultSize[o.Scenario]
	}
	if o.Scenario == "binary" && o.Size < 16 {
		return fmt.Errorf("-size must be at least 16 for binary (the attachment names client and message)")
	}
	return nil
}

// result is the load subcommand's output: one JSON line.
type result struct {
	Scenario  string  `json:"scenario"`
	URL       string  `json:"url"`
	Transport string  `json:"transport"`
	Clients   int     `json:"clients"`
	InFlight  int     `json:"inflight,omitempty"`
	Size      int     `json:"size,omitempty"`
	Rate      float64 `json:"rate,omitempty"`
	Sources   int     `json:"sources"`            // source addresses used
	Compress  bool    `json:"compress,omitempty"` // -compress
	// Compressed counts the polling responses that came gzip-compressed.
	Compressed int64   `json:"compressed,omitempty"`
	Seconds    float64 `json:"seconds"`           // the measured window; connect: the ramp
	Setup      float64 `json:"setup_s,omitempty"` // connecting (and joining) before the traffic

	Connected  int     `json:"connected,omitempty"`
	ConnPerSec float64 `json:"conn_per_sec,omitempty"`

	Sent       int64   `json:"sent,omitempty"`        // events (echo) or messages (broadcast) of the whole run
	Acked      int64   `json:"acked,omitempty"`       // acks of the whole run (with a correct body)
	AcksWindow int64   `json:"acks_window,omitempty"` // acks that arrived in the window
	AcksPerSec float64 `json:"acks_per_sec,omitempty"`

	Deliveries       int64   `json:"deliveries,omitempty"` // broadcast: deliveries that arrived in the window
	DeliveriesPerSec float64 `json:"deliveries_per_sec,omitempty"`
	Expected         int64   `json:"expected,omitempty"`  // broadcast: sent × receivers
	Delivered        int64   `json:"delivered,omitempty"` // broadcast: distinct deliveries of the run

	Lost        int64 `json:"lost"`        // acks or deliveries that never came
	Duplicated  int64 `json:"duplicated"`  // acks or deliveries that came twice
	Misdirected int64 `json:"misdirected"` // broadcast: deliveries to the sender
	Bad         int64 `json:"bad"`         // acks or deliveries with a wrong body

	Latency *latency `json:"latency_ms,omitempty"`

	GenCPU  float64 `json:"gen_cpu_s"` // this process's CPU time in the window
	GenBusy float64 `json:"gen_busy"`  // GenCPU / window: near 1 (GOMAXPROCS=1), the generator was the bottleneck

	Errors       int64    `json:"errors"` // everything else: connection failures, unexpected packets, missing acks
	ErrorSamples []string `json:"error_samples,omitempty"`
	OK           bool     `json:"ok"`
}

// finish sets OK and the error fields.
func (r *result) finish(errs *errorLog) {
	errs.mu.Lock()
	r.Errors, r.ErrorSamples = errs.n, errs.samples
	errs.mu.Unlock()
	r.OK = r.Errors == 0 && r.Lost == 0 && r.Duplicated == 0 && r.Misdirected == 0 && r.Bad == 0
}

// errorLog counts errors and keeps the first few messages.
type errorLog struct {
	mu      sync.Mutex
	n       int64
	samples []string
}

func (e *errorLog) add(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.n++
	if len(e.samples) < 10 {
		e.samples = append(e.samples, fmt.Sprintf(format, args...))
	}
}

// syncer prints the runner's markers and waits for its answer.
type syncer struct {
	on  bool
	in  *bufio.Reader
	out io.Writer
	mu  sync.Mutex
}

func newSyncer(on bool, in io.Reader, out io.Writer) *syncer {
	return &syncer{on: on, in: bufio.NewReader(in), out: out}
}

// mark prints "@name" and, in sync mode, waits for a line.
func (s *syncer) mark(name string) error {
	if !s.on {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := fmt.Fprintf(s.out, "@%s\n", name); err != nil {
		return err
	}
	_, err := s.in.ReadString('\n')
	return err
}

// Phases of a run: traffic before the window, in it, then draining.
const (
	phaseWarmup int32 = iota
	phaseMeasure
	phaseDrain
	phaseClosed
)

// phaseCtl is the run's phase, read by every client goroutine.
type phaseCtl struct{ v atomic.Int32 }

func (p *phaseCtl) measuring() bool { return p.v.Load() == phaseMeasure }
func (p *phaseCtl) sending() bool   { return p.v.Load() < phaseDrain }
func (p *phaseCtl) closing() bool   { return p.v.Load() == phaseClosed }

var clockStart = time.Now()

// now is the monotonic time since the process started, in ns.
func now() int64 { return int64(time.Since(clockStart)) }

// cpuSelf is this process's user + system CPU time in seconds.
func cpuSelf() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

func runLoad(ctx context.Context, o *loadOptions, sy *syncer) (*result, error) {
	conns := o.Clients
	if o.Scenario == "broadcast" {
		conns++
	}
	d, err := newDialer(o.URL, o.Path, o.Sources, o.PerSource, conns, 2*o.Clients+16)
	if err != nil {
		return nil, err
	}
	d.compress = o.Compress
	r := &result{Scenario: o.Scenario, URL: o.URL, Transport: o.Transport, Clients: o.Clients, Size: o.Size,
		Sources: d.sources(conns), Compress: o.Compress}
	switch o.Scenario {
	case "connect":
		r.Size = 0
		err = runConnect(ctx, o, d, sy, r)
	case "echo", "binary":
		r.InFlight = o.InFlight
		err = runEcho(ctx, o, d, sy, r)
	case "broadcast":
		if o.Rate > 0 {
			r.Rate = o.Rate
		} else {
			r.InFlight = o.InFlight
		}
		err = runBroadcast(ctx, o, d, sy, r)
	}
	return r, err
}

// window runs the warm-up and the measured window around the traffic that
// is already flowing, with the runner's markers, and records the
// generator's CPU time; the phase is phaseDrain when it returns.
func window(o *loadOptions, sy *syncer, ph *phaseCtl, r *result) error {
	time.Sleep(o.Warmup)
	if err := sy.mark("start"); err != nil {
		ph.v.Store(phaseDrain)
		return err
	}
	cpu0, t0 := cpuSelf(), time.Now()
	ph.v.Store(phaseMeasure)
	time.Sleep(o.Duration)
	ph.v.Store(phaseDrain)
	wall := time.Since(t0).Seconds()
	r.Seconds = wall
	r.GenCPU = cpuSelf() - cpu0
	r.GenBusy = r.GenCPU / wall
	return sy.mark("end")
}

// waitZero waits until n is 0 or the timeout passes.
func waitZero(n *atomic.Int64, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for n.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
}

// dialAll opens n connections with the dialer's concurrency; open is
// called from the dialing goroutines and reports failures itself.
func dialAll(n, concurrency int, open func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, concurrency) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				open(i)
			}
		}()
	}
	wg.Wait()
}

// runConnect opens the connections, then keeps them until the runner (or
// -hold) is done; each answers pings meanwhile.
func runConnect(ctx context.Context, o *loadOptions, d *dialer, sy *syncer, r *result) error {
	var errs errorLog
	var ph phaseCtl
	conns := make([]*wsConn, o.Clients)
	var readers sync.WaitGroup
	if err := sy.mark("start"); err != nil {
		return err
	}
	cpu0, t0 := cpuSelf(), time.Now()
	dialAll(o.Clients, o.DialConcurrency, func(i int) {
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		c, err := d.dialWS(dctx, i)
		if err != nil {
			errs.add("connection %d: %v", i, err)
			return
		}
		conns[i] = c
		readers.Add(1)
		go func() {
			defer readers.Done()
			idle(ctx, c, &ph, &errs)
		}()
	})
	ramp := time.Since(t0).Seconds()
	r.GenCPU = cpuSelf() - cpu0
	r.GenBusy = r.GenCPU / ramp
	r.Seconds = ramp
	for _, c := range conns {
		if c != nil {
			r.Connected++
		}
	}
	r.ConnPerSec = float64(r.Connected) / ramp
	if err := sy.mark("end"); err != nil {
		return err
	}
	time.Sleep(o.Hold)
	ph.v.Store(phaseClosed)
	for _, c := range conns {
		if c != nil {
			c.c.CloseNow()
		}
	}
	readers.Wait()
	r.finish(&errs)
	return nil
}

// idle reads a connection that sends nothing, answering pings; anything
// else, or a close before the end, is an error.
func idle(ctx context.Context, c *wsConn, ph *phaseCtl, errs *errorLog) {
	for {
		_, p, err := c.read(ctx)
		if err != nil {
			if !ph.closing() {
				errs.add("connection %s closed: %v", c.sid, err)
			}
			return
		}
		switch {
		case len(p) == 1 && p[0] == eioPing:
			if err := c.write(ctx, []byte{eioPong}); err != nil && !ph.closing() {
				errs.add("pong: %v", err)
			}
		case len(p) == 1 && p[0] == eioNoop:
		default:
			errs.add("idle connection got %q", clip(p))
		}
	}
}
