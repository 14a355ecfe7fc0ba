package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/sockwasm/sockwasm/host/config"
	"github.com/sockwasm/sockwasm/host/server"
	"github.com/sockwasm/sockwasm/host/sioclient"
)

const testUsage = `usage: sockwasm test [--config server.toml] [--timeout 5s] SCRIPT...

Serves the configuration on a free loopback port (watch off, no [metrics]
listener) and plays each script against it with Socket.IO clients: a
plugin's test in any language, with only the sockwasm binary. One step per
line; blank lines and lines starting with # are skipped:

  connect C NSP [AUTH]          client C joins namespace NSP (auth: JSON)
  refused C NSP [AUTH] => ERR   the connection is refused; ERR matches
                                {"message": …, "data": …}
  emit C EVENT [ARGS]           C emits EVENT with ARGS (a JSON array, default [])
  call C EVENT [ARGS] => ACK    C emits with an ack; the ack's arguments match ACK
  expect C EVENT [ARGS]         C receives EVENT (events of other names are
                                skipped); its arguments match ARGS
  close C                       C disconnects

A JSON value matches an expected one when equal, except that an expected
object's keys need only be present among the actual ones, and the string
"*" matches anything. Exit status 1 when a step fails.
`

// testScripts is the `test` verb.
func testScripts(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sockwasm test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, testUsage) }
	cfgFile := fs.String("config", "server.toml", "configuration file")
	timeout := fs.Duration("timeout", 5*time.Second, "how long a step waits for the server")
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) == 0 {
		fmt.Fprint(stderr, testUsage)
		return 2
	}
	cfg, err := config.Load(*cfgFile)
	if err != nil {
		fmt.Fprintf(stderr, "sockwasm test: invalid configuration:\n%v\n", err)
		return 1
	}
	cfg.Watch = false
	cfg.Metrics.Listen = ""
	log := zerolog.New(zerolog.ConsoleWriter{Out: stderr, NoColor: true, TimeFormat: time.TimeOnly}).
		Level(zerolog.WarnLevel).With().Timestamp().Logger()
	srv, err := server.New(context.Background(), cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "sockwasm test: %v\n", err)
		return 1
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(stderr, "sockwasm test: %v\n", err)
		return 1
	}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	base := "http://" + ln.Addr().String()
	failed := 0
	for _, f := range files {
		r := &scriptRun{base: base, path: cfg.Path, timeout: *timeout, clients: map[string]*sioclient.Client{}, out: stdout}
		failed += r.play(f)
		r.closeAll()
	}
	if failed > 0 {
		fmt.Fprintf(stdout, "FAIL: %d step(s) failed\n", failed)
		return 1
	}
	fmt.Fprintln(stdout, "PASS")
	return 0
}

// scriptRun plays one script.
type scriptRun struct {
	base, path string
	timeout    time.Duration
	clients    map[string]*sioclient.Client
	out        io.Writer
}

func (r *scriptRun) closeAll() {
	for _, c := range r.clients {
		_ = c.Close()
	}
}

// play runs the steps of file and returns how many failed. A failed step
// ends the script: later steps would only report its consequences.
func (r *scriptRun) play(file string) int {
	f, err := os.Open(file)
	if err != nil {
		fmt.Fprintf(r.out, "FAIL %s: %v\n", file, err)
		return 1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := r.step(line); err != nil {
			fmt.Fprintf(r.out, "FAIL %s:%d: %s\n     %v\n", file, n, line, err)
			return 1
		}
		fmt.Fprintf(r.out, "ok   %s:%d: %s\n", file, n, line)
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(r.out, "FAIL %s: %v\n", file, err)
		return 1
	}
	return 0
}

// words splits off the first n space-separated words of s and returns
// them with the rest, trimmed.
func words(s string, n int) ([]string, string) {
	var out []string
	for range n {
		s = strings.TrimSpace(s)
		w, rest, _ := strings.Cut(s, " ")
		if w == "" {
			break
		}
		out = append(out, w)
		s = rest
	}
	return out, strings.TrimSpace(s)
}

// jsonOr checks that s is JSON (def when empty).
func jsonOr(s, def, what string) (string, error) {
	if s == "" {
		return def, nil
	}
	if !json.Valid([]byte(s)) {
		return "", fmt.Errorf("%s %s is not JSON", what, s)
	}
	return s, nil
}

func (r *scriptRun) step(line string) error {
	w, rest := words(line, 3)
	if len(w) < 2 {
		return errors.New("want a verb and a client name")
	}
	verb, name := w[0], w[1]
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	if verb == "close" {
		c, ok := r.clients[name]
		if !ok {
			return fmt.Errorf("no client %q", name)
		}
		delete(r.clients, name)
		return c.Close()
	}
	if len(w) < 3 {
		return fmt.Errorf("%s wants a client and a %s", verb, map[bool]string{true: "namespace", false: "event"}[verb == "connect" || verb == "refused"])
	}
	target := w[2]
	body, want, hasWant := strings.Cut(rest, "=>")
	body, want = strings.TrimSpace(body), strings.TrimSpace(want)
	switch verb {
	case "connect", "refused":
		auth, err := jsonOr(body, "", "auth")
		if err != nil {
			return err
		}
		if _, dup := r.clients[name]; dup {
			return fmt.Errorf("client %q is connected already", name)
		}
		c, err := sioclient.Dial(ctx, r.base, r.path, target, auth)
		var ce *sioclient.ConnectError
		if verb == "connect" {
			if err != nil {
				return err
			}
			r.clients[name] = c
			return nil
		}
		if err == nil {
			_ = c.Close()
			return errors.New("connected; want a refusal")
		}
		if !errors.As(err, &ce) {
			return err
		}
		got := map[string]any{"message": ce.Message}
		if ce.Data != "" {
			got["data"] = json.RawMessage(ce.Data)
		}
		b, _ := json.Marshal(got)
		if hasWant {
			return match(want, string(b))
		}
		return nil
	}
	c, ok := r.clients[name]
	if !ok {
		return fmt.Errorf("no client %q (connect it first)", name)
	}
	args, err := jsonOr(body, "[]", "arguments")
	if err != nil {
		return err
	}
	switch verb {
	case "emit":
		return c.Emit(ctx, target, args)
	case "call":
		if !hasWant {
			return errors.New(`call wants "=> ACK"`)
		}
		m, err := c.EmitWithAck(ctx, target, args)
		if err != nil {
			return err
		}
		return match(want, m.Args)
	case "expect":
		m, err := c.Wait(ctx, target)
		if err != nil {
			return fmt.Errorf("no %q event: %w", target, err)
		}
		if body == "" {
			return nil
		}
		return match(body, m.Args)
	}
	return fmt.Errorf("unknown step %q (connect, refused, emit, call, expect, close)", verb)
}

// match compares actual JSON with the expected pattern.
func match(want, got string) error {
	var w, g any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		return fmt.Errorf("expected %s is not JSON", want)
	}
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		return fmt.Errorf("got %s, not JSON", got)
	}
	if !matches(w, g) {
		return fmt.Errorf("got  %s\n     want %s", got, want)
	}
	return nil
}

func matches(w, g any) bool {
	if s, ok := w.(string); ok && s == "*" {
		return true
	}
	switch w := w.(type) {
	case map[string]any:
		gm, ok := g.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range w {
			gv, present := gm[k]
			if !present || !matches(v, gv) {
				return false
			}
		}
		return true
	case []any:
		ga, ok := g.([]any)
		if !ok || len(ga) != len(w) {
			return false
		}
		for i := range w {
			if !matches(w[i], ga[i]) {
				return false
			}
		}
		return true
	}
	return w == g
}
