package nodetest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	// ReadyTimeout bounds the wait for a script's ready line.
	ReadyTimeout = 20 * time.Second
	// CallTimeout bounds the wait for the answer to a command.
	CallTimeout = 10 * time.Second
	// stopTimeout bounds Stop's wait for a graceful exit.
	stopTimeout = 5 * time.Second
	// maxLine is the longest stdout line read (a big fetchSockets answer).
	maxLine = 64 << 20
)

// errExited is wrapped in the failure of a command to a script that has
// exited.
var errExited = errors.New("nodetest: script exited")

// CommandError is a command's error answer, {"id":…,"error":…}.
type CommandError struct {
	// Cmd is the command's name.
	Cmd string
	// Message is the error text.
	Message string
	// Partial is what the command had gathered when it failed (the acks
	// received before a timeout), raw JSON, or nil.
	Partial json.RawMessage
}

// Error implements error.
func (e *CommandError) Error() string {
	return fmt.Sprintf("nodetest: %s: %s", e.Cmd, e.Message)
}

// Proc is a running script. Its methods may be called from several
// goroutines, but those taking a testing.TB fail the test with t.Fatal,
// which only the test's goroutine may do.
type Proc struct {
	script string
	cmd    *exec.Cmd
	stderr *syncBuffer
	noise  *syncBuffer // stdout lines that are not JSON

	wmu   sync.Mutex // serializes writes to stdin
	stdin io.WriteCloser

	nextID atomic.Int64

	mu      sync.Mutex
	pending map[int64]chan answer
	events  []json.RawMessage
	notify  chan struct{} // closed and replaced when an event arrives
	ready   json.RawMessage
	readyCh chan struct{} // closed on the ready line

	exited  chan struct{} // closed once stdout is drained and the process waited for
	waitErr error         // set before exited is closed
}

// answer is a command's answer.
type answer struct {
	Result json.RawMessage `json:"result"`
	Error  *string         `json:"error"`
}

// Start runs node on test/cluster/<script> (the repository root is found
// by walking up from the working directory to go.mod) with the current
// environment plus env, and returns once the script has printed its ready
// line, within ReadyTimeout. The process is killed and waited for in
// t.Cleanup; its stderr and any non-JSON stdout go to the test log if the
// test failed. Without node on PATH or without test/cluster/node_modules,
// Start skips the test, or fails it when CI is "true".
func Start(t testing.TB, script string, env map[string]string) *Proc {
	t.Helper()
	dir, err := clusterDir()
	if err != nil {
		t.Fatalf("nodetest: %v", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable(t, fmt.Sprintf("node not found on PATH: %v", err))
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@socket.io", "redis-adapter", "package.json")); err != nil {
		unavailable(t, fmt.Sprintf("npm packages missing in %s: run `npm ci` there (or make deps)", dir))
	}
	path := filepath.Join(dir, script)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("nodetest: %v", err)
	}

	cmd := exec.Command(node, path)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cmd.Env = append(cmd.Env, k+"="+env[k])
	}
	cmd.SysProcAttr = sysProcAttr()
	p := &Proc{
		script:  script,
		cmd:     cmd,
		stderr:  &syncBuffer{},
		noise:   &syncBuffer{},
		pending: make(map[int64]chan answer),
		notify:  make(chan struct{}),
		readyCh: make(chan struct{}),
		exited:  make(chan struct{}),
	}
	cmd.Stderr = p.stderr
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatalf("nodetest: %v", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("nodetest: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("nodetest: starting %s: %v", script, err)
	}
	// The reader is the process's owner: it reads stdout to the end, then
	// waits for the process. Cleanup kills the process and waits for it.
	go p.read(stdout)
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			p.logOutput(t)
		}
	})

	timer := time.NewTimer(ReadyTimeout)
	defer timer.Stop()
	select {
	case <-p.readyCh:
		return p
	case <-p.exited:
		t.Fatalf("nodetest: %s exited before ready: %v", script, p.exitErr())
	case <-timer.C:
		t.Fatalf("nodetest: %s not ready within %v", script, ReadyTimeout)
	}
	return nil
}

// unavailable skips the test, or fails it under CI=true.
func unavailable(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("nodetest: %s", why)
	}
	t.Skipf("nodetest: %s", why)
}

// clusterDir returns <repo>/test/cluster, the repository being the first
// folder holding go.mod above the working directory.
func clusterDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "test", "cluster"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// read dispatches stdout lines until EOF, then waits for the process.
func (p *Proc) read(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	for sc.Scan() {
		p.dispatch(sc.Bytes())
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(p.noise, "reading stdout: %v\n", err)
		_, _ = io.Copy(io.Discard, stdout) // let the process finish
	}
	err := p.cmd.Wait()
	p.mu.Lock()
	p.waitErr = err
	p.mu.Unlock()
	close(p.exited)
}

func (p *Proc) dispatch(line []byte) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return
	}
	var head struct {
		ID    *int64 `json:"id"`
		Ready bool   `json:"ready"`
	}
	if line[0] != '{' || json.Unmarshal(line, &head) != nil {
		fmt.Fprintf(p.noise, "%s\n", line)
		return
	}
	raw := json.RawMessage(bytes.Clone(line))
	p.mu.Lock()
	defer p.mu.Unlock()
	if head.ID != nil {
		if ch, ok := p.pending[*head.ID]; ok {
			delete(p.pending, *head.ID)
			var a answer
			if err := json.Unmarshal(raw, &a); err != nil {
				msg := "undecodable answer: " + err.Error()
				a.Error = &msg
			}
			ch <- a // buffered
			return
		}
	}
	if head.Ready && p.ready == nil {
		p.ready = raw
		close(p.readyCh)
		return
	}
	p.events = append(p.events, raw)
	close(p.notify)
	p.notify = make(chan struct{})
}

// Port returns the port from the ready line ({"ready":true,"port":N}), 0
// for a script without one (emitter.mjs).
func (p *Proc) Port() int {
	var r struct {
		Port int `json:"port"`
	}
	_ = json.Unmarshal(p.Ready(), &r)
	return r.Port
}

// Ready returns the script's ready line, which for node.mjs also carries
// the adapters' uids: {"ready":true,"port":N,"uids":{"/":"AbC123"}}.
func (p *Proc) Ready() json.RawMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ready
}

// Call sends command cmd with args (merged into the command object beside
// "id" and "cmd") and returns its result, raw JSON. An error answer, no
// answer within CallTimeout, or the script's exit fails the test.
func (p *Proc) Call(t testing.TB, cmd string, args map[string]any) json.RawMessage {
	t.Helper()
	res, err := p.Try(t, cmd, args)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return res
}

// Try is Call for a command that may fail: an error answer is returned as
// a *CommandError (with the partial result if any). No answer within
// CallTimeout, or the script's exit, still fails the test.
func (p *Proc) Try(t testing.TB, cmd string, args map[string]any) (json.RawMessage, error) {
	t.Helper()
	res, err := p.call(cmd, args)
	if err != nil && !errors.As(err, new(*CommandError)) {
		t.Fatalf("%v", err)
	}
	return res, err
}

func (p *Proc) call(cmd string, args map[string]any) (json.RawMessage, error) {
	return p.Async(cmd, args).wait()
}

// Pending is a command sent by Async, its answer not yet read.
type Pending struct {
	p    *Proc
	id   int64
	cmd  string
	line []byte
	ch   chan answer
	err  error // sending failed
}

// Async sends command cmd like Call but returns at once, so that the test
// can act (answer a client's ack, say) while the script works; Wait gets
// the answer. Async does not fail the test: errors come out of Wait.
func (p *Proc) Async(cmd string, args map[string]any) *Pending {
	id := p.nextID.Add(1)
	msg := make(map[string]any, len(args)+2)
	for k, v := range args {
		msg[k] = v
	}
	msg["id"] = id
	msg["cmd"] = cmd
	pc := &Pending{p: p, id: id, cmd: cmd, ch: make(chan answer, 1)}
	line, err := json.Marshal(msg)
	if err != nil {
		pc.err = fmt.Errorf("nodetest: %s: encoding the command: %w", cmd, err)
		return pc
	}
	pc.line = line
	p.mu.Lock()
	p.pending[id] = pc.ch
	p.mu.Unlock()
	p.wmu.Lock()
	_, err = p.stdin.Write(append(line, '\n'))
	p.wmu.Unlock()
	if err != nil {
		p.mu.Lock()
		delete(p.pending, id)
		p.mu.Unlock()
		pc.err = fmt.Errorf("%w: %s: writing %s: %v", errExited, p.script, cmd, err)
	}
	return pc
}

// Wait returns the answer to the command, waiting up to CallTimeout after
// the call to Wait, like Try: an error answer is a *CommandError; no answer
// in time, or the script's exit, fails the test.
func (pc *Pending) Wait(t testing.TB) (json.RawMessage, error) {
	t.Helper()
	res, err := pc.wait()
	if err != nil && !errors.As(err, new(*CommandError)) {
		t.Fatalf("%v", err)
	}
	return res, err
}

func (pc *Pending) wait() (json.RawMessage, error) {
	if pc.err != nil {
		return nil, pc.err
	}
	p := pc.p
	defer func() {
		p.mu.Lock()
		delete(p.pending, pc.id)
		p.mu.Unlock()
	}()
	timer := time.NewTimer(CallTimeout)
	defer timer.Stop()
	var a answer
	select {
	case a = <-pc.ch:
	case <-p.exited:
		select {
		case a = <-pc.ch: // answered just before exiting
		default:
			return nil, fmt.Errorf("%w: %s exited before answering %s: %v", errExited, p.script, pc.cmd, p.exitErr())
		}
	case <-timer.C:
		return nil, fmt.Errorf("nodetest: %s: no answer to %s within %v", p.script, pc.line, CallTimeout)
	}
	if a.Error != nil {
		return a.Result, &CommandError{Cmd: pc.cmd, Message: *a.Error, Partial: a.Result}
	}
	return a.Result, nil
}

// Events returns the events (stdout lines without an "id", after the ready
// line) printed so far and not yet taken by WaitEvent, oldest first.
func (p *Proc) Events() []json.RawMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]json.RawMessage(nil), p.events...)
}

// WaitEvent returns the oldest event not yet taken that match accepts,
// and takes it, waiting up to timeout for one to be printed. No such
// event in time, or the script's exit, fails the test.
func (p *Proc) WaitEvent(t testing.TB, match func(json.RawMessage) bool, timeout time.Duration) json.RawMessage {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	exited := false
	for {
		p.mu.Lock()
		for i, ev := range p.events {
			if match(ev) {
				p.events = append(p.events[:i:i], p.events[i+1:]...)
				p.mu.Unlock()
				return ev
			}
		}
		notify := p.notify
		p.mu.Unlock()
		if exited {
			t.Fatalf("nodetest: %s exited while waiting for an event: %v; events: %s", p.script, p.exitErr(), p.eventList())
		}
		select {
		case <-notify:
		case <-p.exited:
			exited = true // every event is in: scan once more
		case <-timer.C:
			t.Fatalf("nodetest: %s: no matching event within %v; events: %s", p.script, timeout, p.eventList())
		}
	}
}

func (p *Proc) eventList() string {
	var b bytes.Buffer
	for _, ev := range p.Events() {
		b.WriteString("\n\t")
		b.Write(ev)
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

// Field returns a WaitEvent matcher for events whose top-level field name
// equals want, compared as JSON values: Field("n", 1) matches {"n":1}.
func Field(name string, want any) func(json.RawMessage) bool {
	wantJSON, err := json.Marshal(want)
	var w any
	if err == nil {
		err = json.Unmarshal(wantJSON, &w)
	}
	if err != nil {
		panic(fmt.Sprintf("nodetest.Field(%q): %v", name, err))
	}
	return func(ev json.RawMessage) bool {
		var m map[string]any
		if json.Unmarshal(ev, &m) != nil {
			return false
		}
		v, ok := m[name]
		return ok && reflect.DeepEqual(v, w)
	}
}

// Stop closes the script's stdin, which makes it answer the commands it
// has read, close its server and Redis connections and exit, and waits for
// that (killing it after 5 s). It returns the exit error, if any. Stop and
// Kill may be called more than once.
func (p *Proc) Stop() error {
	p.wmu.Lock()
	_ = p.stdin.Close()
	p.wmu.Unlock()
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-p.exited:
	case <-timer.C:
		p.Kill()
	}
	return p.exitErr()
}

// Kill ends the script with SIGKILL, as a crash would, and waits for it.
func (p *Proc) Kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// Exited is closed once the script has exited.
func (p *Proc) Exited() <-chan struct{} {
	return p.exited
}

func (p *Proc) exitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waitErr
}

func (p *Proc) logOutput(t testing.TB) {
	t.Helper()
	if s := p.stderr.String(); s != "" {
		t.Logf("nodetest: %s stderr:\n%s", p.script, s)
	}
	if s := p.noise.String(); s != "" {
		t.Logf("nodetest: %s stdout (not JSON):\n%s", p.script, s)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
