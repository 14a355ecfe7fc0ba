package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

var nan = math.NaN()

const runUsage = `usage: sockwasm-bench run [flags]

Runs the benchmark: every scenario against every server, each server started
fresh for each measurement (a cell), and prints one table per scenario.

Servers:
  sockwasm     bin/sockwasm serve with plugins/chat.wasm (the Go SDK chat) on "/"
  sockwasm-as  the same with plugins/chat-as.wasm (AssemblyScript SDK), when built
  sockwasm-c   the same with test/bench/chat.c built by clang, when clang is present
  node         test/bench/node-server.mjs: socket.io 4.8 with the same events
               (its npm packages installed in test/bench by npm ci)
  bare         sockwasm-bench bare: coder/websocket and minimal framing, no
               Socket.IO layer, no plugins; WebSocket only (no polling-echo)

A missing server is skipped with a note. Each scenario runs -rounds rounds;
each round runs every server once, in the opposite order to the round
before (A B, B A, …). The pinned pass puts the server on CPU -server-cpu
and the generator on -gen-cpu (taskset), the unpinned pass lets both use
every CPU; the generator always runs with GOMAXPROCS=1. Around each
measured window the runner reads the server's CPU time (utime + stime of
/proc/PID/stat, every thread) and resident set (VmRSS of /proc/PID/status;
for connect, -settle after the ramp, with the connections open).

Tables: per server the median of the rounds and, in brackets, the range;
then sockwasm-variant / node and / bare: ratios of those medians, from the
same run. "gen busy" is the generator's CPU time over the window: near 1.0
the generator, not the server, set the pace. The "bad" column adds up, over
the rounds, everything that failed verification (lost, duplicated,
misdirected or wrong acks and deliveries, failed connections); any makes the
exit status 1.

Servers are killed (SIGKILL) after each cell: shutdown is not measured.

Flags:
`

// runOptions are the run subcommand's flags.
type runOptions struct {
	root, servers, scenarios, passes, unpinned string
	rounds                                     int
	quick                                      bool
	json                                       string
	warmup, duration, settle                   time.Duration
	serverCPU, genCPU                          string
	sockwasm, node, clang                      string
}

// serverDef is a server the runner can start.
type serverDef struct {
	name     string
	label    string
	polling  bool
	compress bool   // can compress (scenarioDef.compress)
	plugin   string // sockwasm variants: the .wasm
}

// cell is one measurement: one scenario, one server, one round, one pass.
type cell struct {
	Pass      string   `json:"pass"`
	Scenario  string   `json:"scenario"`
	Server    string   `json:"server"`
	Round     int      `json:"round"`
	Result    *result  `json:"result,omitempty"`
	ServerCPU num      `json:"server_cpu_s"`
	RSSBefore num      `json:"rss_before_kib"`
	RSSAfter  num      `json:"rss_after_kib"`
	HWM       num      `json:"rss_peak_kib"`
	Wall      float64  `json:"wall_s"`
	Error     string   `json:"error,omitempty"`
	ServerLog []string `json:"server_log,omitempty"`
}

type runner struct {
	o       runOptions
	self    string
	tmp     string
	servers []serverDef
	notes   []string
	nofile  uint64
	cells   []*cell
}

func runMain(args []string, stdout, stderr io.Writer) int {
	var o runOptions
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, runUsage)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.root, "root", ".", "the sockwasm repository (bin/, plugins/, sdk/c, test/bench)")
	fs.StringVar(&o.servers, "servers", "sockwasm,sockwasm-as,sockwasm-c,node,bare", "servers, comma-separated")
	fs.StringVar(&o.scenarios, "scenarios", "all", "scenarios or groups, comma-separated: "+scenarioNames(scenarios(false))+"; connect, echo, broadcast, polling-echo, binary, compress")
	fs.StringVar(&o.passes, "passes", "pinned,unpinned", "pinned and/or unpinned")
	fs.StringVar(&o.unpinned, "unpinned-scenarios", "echo-64B-x4,broadcast-closed16", `the scenarios of the unpinned pass ("all": the same as pinned)`)
	fs.IntVar(&o.rounds, "rounds", 2, "rounds (each server once per round, the order alternating)")
	fs.BoolVar(&o.quick, "quick", false, "a smoke pass: small counts, 1 s windows, 1 round, pinned only (unless -rounds / -passes say otherwise)")
	fs.StringVar(&o.json, "json", "", "also write every cell's figures to this file")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "traffic before each measured window")
	fs.DurationVar(&o.duration, "duration", 3*time.Second, "each measured window")
	fs.DurationVar(&o.settle, "settle", 3*time.Second, "connect: wait after the ramp before reading the server's RSS")
	fs.StringVar(&o.serverCPU, "server-cpu", "0", "pinned pass: taskset CPU list of the server")
	fs.StringVar(&o.genCPU, "gen-cpu", "1", "pinned pass: taskset CPU list of the generator")
	fs.StringVar(&o.sockwasm, "sockwasm", "", "the sockwasm binary (default ROOT/bin/sockwasm)")
	fs.StringVar(&o.node, "node", "node", "the node binary")
	fs.StringVar(&o.clang, "clang", "clang", "the clang binary (C plugin)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 1
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.quick {
		if !set["rounds"] {
			o.rounds = 1
		}
		if !set["passes"] {
			o.passes = "pinned"
		}
		if !set["warmup"] {
			o.warmup = 500 * time.Millisecond
		}
		if !set["duration"] {
			o.duration = time.Second
		}
		if !set["settle"] {
			o.settle = 300 * time.Millisecond
		}
	}
	if o.rounds < 1 {
		fmt.Fprintln(stderr, "sockwasm-bench run: -rounds must be at least 1")
		return 1
	}
	r, err := newRunner(o, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "sockwasm-bench run: %v\n", err)
		return 1
	}
	defer os.RemoveAll(r.tmp)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		fmt.Fprintf(stderr, "\nsockwasm-bench run: %v, stopping\n", s)
		killChildren()
		os.RemoveAll(r.tmp)
		os.Exit(130)
	}()
	status, err := r.run(stdout)
	if err != nil {
		fmt.Fprintf(stderr, "sockwasm-bench run: %v\n", err)
		return 1
	}
	return status
}

func newRunner(o runOptions, stdout io.Writer) (*runner, error) {
	root, err := filepath.Abs(o.root)
	if err != nil {
		return nil, err
	}
	o.root = root
	if o.sockwasm == "" {
		o.sockwasm = filepath.Join(root, "bin", "sockwasm")
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "sockwasm-bench-")
	if err != nil {
		return nil, err
	}
	r := &runner{o: o, self: self, tmp: tmp, nofile: raiseNoFile()}
	for _, name := range strings.Split(o.servers, ",") {
		name = strings.TrimSpace(name)
		sv, note, err := r.prepare(name)
		if err != nil {
			os.RemoveAll(tmp)
			return nil, err
		}
		if note != "" {
			r.notes = append(r.notes, note)
			fmt.Fprintf(stdout, "note: %s\n", note)
			continue
		}
		r.servers = append(r.servers, sv)
	}
	if len(r.servers) == 0 {
		os.RemoveAll(tmp)
		return nil, errors.New("no server to measure")
	}
	return r, nil
}

// prepare checks what a server needs (building the C plugin); a note
// instead of a server says why it is skipped.
func (r *runner) prepare(name string) (serverDef, string, error) {
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }
	sw := func(label, plugin string) (serverDef, string, error) {
		if !exists(r.o.sockwasm) {
			return serverDef{}, fmt.Sprintf("%s skipped: %s is missing (make build)", name, r.o.sockwasm), nil
		}
		return serverDef{name: name, label: label, polling: true, compress: true, plugin: plugin}, "", nil
	}
	switch name {
	case "sockwasm":
		p := filepath.Join(r.o.root, "plugins", "chat.wasm")
		if !exists(p) {
			return serverDef{}, "sockwasm skipped: plugins/chat.wasm is missing (make plugins)", nil
		}
		return sw("sockwasm (Go SDK chat)", p)
	case "sockwasm-as":
		p := filepath.Join(r.o.root, "plugins", "chat-as.wasm")
		if !exists(p) {
			return serverDef{}, "sockwasm-as skipped: plugins/chat-as.wasm is missing (make plugins)", nil
		}
		return sw("sockwasm (AssemblyScript chat)", p)
	case "sockwasm-c":
		clang, err := exec.LookPath(r.o.clang)
		if err != nil {
			return serverDef{}, "sockwasm-c skipped: no clang on PATH (apt-get install clang lld)", nil
		}
		out := filepath.Join(r.tmp, "chat-c.wasm")
		cmd := exec.Command(clang, "--target=wasm32", "-nostdlib", "-Wl,--no-entry", "-O2",
			"-I", filepath.Join(r.o.root, "sdk", "c"), "-o", out, filepath.Join(r.o.root, "test", "bench", "chat.c"))
		if b, err := cmd.CombinedOutput(); err != nil {
			return serverDef{}, fmt.Sprintf("sockwasm-c skipped: clang failed: %v\n%s", err, b), nil
		}
		return sw("sockwasm (C chat, test/bench/chat.c)", out)
	case "node":
		if _, err := exec.LookPath(r.o.node); err != nil {
			return serverDef{}, "node skipped: no node on PATH", nil
		}
		if !exists(filepath.Join(r.o.root, "test", "bench", "node_modules", "socket.io")) {
			return serverDef{}, "node skipped: run `npm ci` in test/bench (make bench does)", nil
		}
		return serverDef{name: name, label: "Node.js socket.io " + r.pkgVersion("socket.io"), polling: true, compress: true}, "", nil
	case "bare":
		return serverDef{name: name, label: "bare coder/websocket (transport only)"}, "", nil
	}
	return serverDef{}, "", fmt.Errorf("unknown server %q (want sockwasm, sockwasm-as, sockwasm-c, node, bare)", name)
}

func (r *runner) pkgVersion(pkg string) string {
	b, err := os.ReadFile(filepath.Join(r.o.root, "test", "bench", "node_modules", pkg, "package.json"))
	if err != nil {
		return "?"
	}
	var p struct{ Version string }
	_ = json.Unmarshal(b, &p)
	return p.Version
}

// pinnable says why the pinned pass cannot run, or "".
func (r *runner) pinnable() string {
	if _, err := exec.LookPath("taskset"); err != nil {
		return "no taskset on PATH (util-linux)"
	}
	if runtime.NumCPU() < 2 {
		return fmt.Sprintf("%d CPU available", runtime.NumCPU())
	}
	return ""
}

func (r *runner) run(stdout io.Writer) (int, error) {
	all, err := selectScenarios(scenarios(r.o.quick), r.o.scenarios)
	if err != nil {
		return 1, err
	}
	unpinned := all
	if r.o.unpinned != "all" {
		sel, err := selectScenarios(scenarios(r.o.quick), r.o.unpinned)
		if err != nil {
			return 1, fmt.Errorf("-unpinned-scenarios: %w", err)
		}
		unpinned = slices.DeleteFunc(sel, func(s scenarioDef) bool {
			return !slices.ContainsFunc(all, func(a scenarioDef) bool { return a.name == s.name })
		})
	}
	var passes []string
	for _, p := range strings.Split(r.o.passes, ",") {
		switch p = strings.TrimSpace(p); p {
		case "pinned":
			if why := r.pinnable(); why != "" {
				r.note(stdout, "pinned pass skipped: "+why)
				continue
			}
			passes = append(passes, p)
		case "unpinned":
			passes = append(passes, p)
		default:
			return 1, fmt.Errorf("-passes: %q is neither pinned nor unpinned", p)
		}
	}
	r.header(stdout)
	if err := r.warmCache(stdout); err != nil {
		return 1, err
	}
	start := time.Now()
	type table struct {
		pass string
		sc   scenarioDef
	}
	var tables []table
	for _, pass := range passes {
		list := all
		if pass == "unpinned" {
			list = unpinned
		}
		for _, sc := range list {
			if need := uint64(sc.conns) + 256; need > r.nofile {
				r.note(stdout, fmt.Sprintf("%s (%s) skipped: %d connections need about %d open files in the server and in the generator; RLIMIT_NOFILE here is %d (raise the hard limit: ulimit -Hn, LimitNOFILE)",
					sc.name, pass, sc.conns, need, r.nofile))
				continue
			}
			tables = append(tables, table{pass, sc})
			for round := 1; round <= r.o.rounds; round++ {
				order := slices.Clone(r.servers)
				if round%2 == 0 {
					slices.Reverse(order)
				}
				for _, sv := range order {
					if (sc.polling && !sv.polling) || (sc.compress && !sv.compress) {
						continue
					}
					c := r.cell(pass, sc, sv, round)
					r.cells = append(r.cells, c)
					fmt.Fprintln(stdout, progressLine(c))
				}
			}
		}
	}
	fmt.Fprintf(stdout, "\n%d cells in %s; load average now %s\n", len(r.cells), time.Since(start).Round(time.Second), loadAvg())
	bad := 0
	for _, t := range tables {
		bad += r.table(stdout, t.pass, t.sc)
	}
	if len(r.notes) > 0 {
		fmt.Fprintln(stdout, "\nNotes:")
		for _, n := range r.notes {
			fmt.Fprintf(stdout, "- %s\n", n)
		}
	}
	if r.o.json != "" {
		if err := r.writeJSON(); err != nil {
			return 1, err
		}
	}
	if bad > 0 {
		fmt.Fprintf(stdout, "\n%d cells failed or did not verify (see the bad column and the notes)\n", bad)
		return 1, nil
	}
	return 0, nil
}

func (r *runner) note(stdout io.Writer, s string) {
	r.notes = append(r.notes, s)
	fmt.Fprintf(stdout, "note: %s\n", s)
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

func (r *runner) header(w io.Writer) {
	out := func(argv ...string) string {
		b, err := exec.Command(argv[0], argv[1:]...).Output()
		if err != nil {
			return "?"
		}
		return strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
	}
	ws := "?"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/coder/websocket" {
				ws = d.Version
			}
		}
	}
	fmt.Fprintf(w, "# sockwasm-bench run, %s\n\n", time.Now().Format(time.RFC3339))
	fmt.Fprintf(w, "%d CPUs (%s), load average %s; %s; generator %s, coder/websocket %s",
		runtime.NumCPU(), cpuModel(), loadAvg(), out(r.o.sockwasm, "version"), runtime.Version(), ws)
	for _, sv := range r.servers {
		if sv.name == "node" {
			fmt.Fprintf(w, "; node %s, socket.io %s", out(r.o.node, "--version"), r.pkgVersion("socket.io"))
		}
	}
	fmt.Fprintf(w, "\nservers: ")
	for i, sv := range r.servers {
		if i > 0 {
			fmt.Fprint(w, ", ")
		}
		fmt.Fprintf(w, "%s = %s", sv.name, sv.label)
	}
	mode := ""
	if r.o.quick {
		mode = " (quick: small counts, NOT representative)"
	}
	fmt.Fprintf(w, "\nrounds: %d; warm-up %v, window %v; passes: %s%s\n\n", r.o.rounds, r.o.warmup, r.o.duration, r.o.passes, mode)
}

// warmCache starts each sockwasm variant once, unmeasured, so that the
// plugins are compiled into the shared cache before the first cell.
func (r *runner) warmCache(w io.Writer) error {
	for _, sv := range r.servers {
		if sv.plugin == "" {
			continue
		}
		fmt.Fprintf(w, "compiling %s for %s…\n", filepath.Base(sv.plugin), sv.name)
		srv, _, err := r.startServer(sv, false, false)
		if err != nil {
			return err
		}
		srv.kill()
	}
	return nil
}

// startServer starts a fresh server on a free port and waits until it
// listens; compress turns on its WebSocket compression.
func (r *runner) startServer(sv serverDef, pinned, compress bool) (*child, int, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ { // another process may take the port meanwhile
		port, err := freePort()
		if err != nil {
			return nil, 0, err
		}
		var argv []string
		env := os.Environ()
		dir := r.o.root
		switch {
		case sv.plugin != "":
			cfg, err := r.sockwasmConfig(sv, port, compress)
			if err != nil {
				return nil, 0, err
			}
			argv = []string{r.o.sockwasm, "serve", "--config", cfg}
		case sv.name == "node":
			argv = []string{r.o.node, filepath.Join(r.o.root, "test", "bench", "node-server.mjs")}
			env = append(env, "PORT="+strconv.Itoa(port), "HOST=127.0.0.1")
			if compress {
				env = append(env, "PER_MESSAGE_DEFLATE=1")
			}
		case sv.name == "bare":
			argv = []string{r.self, "bare", "-listen", "127.0.0.1:" + strconv.Itoa(port)}
		}
		if pinned {
			argv = append([]string{"taskset", "-c", r.o.serverCPU}, argv...)
		}
		// node exits when its stdin closes: give it one that stays open
		// while it runs (and closes should the runner die).
		stdin, stdinW, err := os.Pipe()
		if err != nil {
			return nil, 0, err
		}
		c, err := startChild(sv.name, argv, env, dir, stdin)
		stdin.Close()
		if err != nil {
			stdinW.Close()
			return nil, 0, err
		}
		go func() { <-c.done; stdinW.Close() }()
		if lastErr = c.waitListening(port, 3*time.Minute); lastErr == nil {
			return c, port, nil
		}
		c.kill()
		if !strings.Contains(lastErr.Error(), "in use") {
			break
		}
	}
	return nil, 0, lastErr
}

// sockwasmConfig writes a server.toml serving the variant's plugin on "/",
// with permessage-deflate when compress is set.
func (r *runner) sockwasmConfig(sv serverDef, port int, compress bool) (string, error) {
	dir := filepath.Join(r.tmp, sv.name)
	plugins := filepath.Join(dir, "plugins")
	name := strings.TrimSuffix(filepath.Base(sv.plugin), ".wasm")
	if err := os.MkdirAll(plugins, 0o755); err != nil {
		return "", err
	}
	dst := filepath.Join(plugins, name+".wasm")
	if _, err := os.Stat(dst); err != nil {
		b, err := os.ReadFile(sv.plugin)
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			return "", err
		}
	}
	toml := fmt.Sprintf(`# written by sockwasm-bench run
listen = "127.0.0.1:%d"
plugins_dir = %q
cache_dir = %q
watch = false
shutdown_timeout = "1s"

[log]
level = "warn"

[[namespace]]
name = "/"
middleware = [%q]
handler = %q
`, port, plugins, filepath.Join(r.tmp, "cache"), name, name)
	if compress {
		toml += "\n[engine]\nper_message_deflate = true\n"
	}
	cfg := filepath.Join(dir, "server.toml")
	return cfg, os.WriteFile(cfg, []byte(toml), 0o644)
}

// cell runs one measurement.
func (r *runner) cell(pass string, sc scenarioDef, sv serverDef, round int) *cell {
	c := &cell{Pass: pass, Scenario: sc.name, Server: sv.name, Round: round,
		ServerCPU: num(nan), RSSBefore: num(nan), RSSAfter: num(nan), HWM: num(nan)}
	t0 := time.Now()
	defer func() { c.Wall = time.Since(t0).Seconds() }()
	pinned := pass == "pinned"
	srv, port, err := r.startServer(sv, pinned, sc.compress)
	if err != nil {
		c.Error = err.Error()
		return c
	}
	defer srv.kill()
	pid := srv.cmd.Process.Pid

	argv := []string{r.self, "load", "-url", "http://127.0.0.1:" + strconv.Itoa(port), "-sync",
		"-warmup", r.o.warmup.String(), "-duration", r.o.duration.String()}
	argv = append(argv, sc.args...)
	if pinned {
		argv = append([]string{"taskset", "-c", r.o.genCPU}, argv...)
	}
	budget := time.Minute + 2*(r.o.warmup+r.o.duration) + 20*time.Second + time.Duration(sc.conns)*5*time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	errTail := &tail{}
	cmd.Stderr = errTail
	stdin, err := cmd.StdinPipe()
	if err != nil {
		c.Error = err.Error()
		return c
	}
	stdoutPipe, err := cmd.StdoutPipe()
	if err != nil {
		c.Error = err.Error()
		return c
	}
	if err := cmd.Start(); err != nil {
		c.Error = err.Error()
		return c
	}
	gen := &child{name: "generator", cmd: cmd, done: make(chan struct{})}
	track(gen)
	defer untrack(gen)

	var cpu0 float64
	sc2 := bufio.NewScanner(stdoutPipe)
	sc2.Buffer(make([]byte, 64<<10), 4<<20)
	for sc2.Scan() {
		line := sc2.Text()
		switch {
		case line == "@start":
			cpu0 = procCPU(pid)
			rss, _ := procMem(pid)
			c.RSSBefore = num(rss)
			_, _ = io.WriteString(stdin, "\n")
		case line == "@end":
			c.ServerCPU = num(procCPU(pid) - cpu0)
			if sc.group == "connect" {
				time.Sleep(r.o.settle)
			}
			rss, hwm := procMem(pid)
			c.RSSAfter, c.HWM = num(rss), num(hwm)
			_, _ = io.WriteString(stdin, "\n")
		case strings.HasPrefix(line, "{"):
			var res result
			if err := json.Unmarshal([]byte(line), &res); err != nil {
				c.Error = "generator output: " + err.Error()
			} else {
				c.Result = &res
			}
		}
	}
	werr := cmd.Wait()
	if c.Result == nil && c.Error == "" {
		c.Error = fmt.Sprintf("generator: %v: %s", werr, strings.Join(errTail.last(5), " | "))
	}
	if ctx.Err() != nil {
		c.Error = fmt.Sprintf("generator killed after %v", budget)
	}
	if srv.exited() {
		c.Error = strings.TrimSpace(c.Error + fmt.Sprintf(" server exited during the cell (%v)", srv.err))
	}
	for _, l := range srv.out.last(5) {
		if !strings.HasPrefix(l, `{"ready":true`) {
			c.ServerLog = append(c.ServerLog, l)
		}
	}
	return c
}

func (r *runner) writeJSON() error {
	out := struct {
		Date    string   `json:"date"`
		CPUs    int      `json:"cpus"`
		CPU     string   `json:"cpu"`
		Load    string   `json:"loadavg_end"`
		Rounds  int      `json:"rounds"`
		Quick   bool     `json:"quick"`
		Warmup  string   `json:"warmup"`
		Window  string   `json:"window"`
		Servers []string `json:"servers"`
		Notes   []string `json:"notes,omitempty"`
		Cells   []*cell  `json:"cells"`
	}{time.Now().Format(time.RFC3339), runtime.NumCPU(), cpuModel(), loadAvg(), r.o.rounds, r.o.quick,
		r.o.warmup.String(), r.o.duration.String(), nil, r.notes, r.cells}
	for _, sv := range r.servers {
		out.Servers = append(out.Servers, sv.name)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(r.o.json, append(b, '\n'), 0o644)
}
