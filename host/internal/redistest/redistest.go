package redistest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

const (
	// startAttempts is how many free ports Start tries when redis-server
	// cannot bind the one it was given (another process took it first).
	startAttempts = 5
	// readyTimeout bounds the wait for a started redis-server's PONG.
	readyTimeout = 10 * time.Second
	// rebindTimeout bounds Restart's retries while the old port is busy.
	rebindTimeout = 3 * time.Second
	// pollInterval spaces the PING attempts while redis-server starts:
	// nothing signals that it listens, so the port is polled.
	pollInterval = 5 * time.Millisecond
)

// errAddrInUse reports a redis-server that exited because its port was
// taken.
var errAddrInUse = errors.New("redistest: address already in use")

// Server is a redis-server started by Start. Its methods may be called
// from several goroutines; those taking a testing.TB only from the test's
// goroutine.
type Server struct {
	bin  string
	dir  string
	log  *syncBuffer // every run's output, shown when the test fails
	mu   sync.Mutex
	port int
	proc *process // nil when killed
}

// process is one run of redis-server.
type process struct {
	cmd  *exec.Cmd
	out  *syncBuffer   // this run's output
	done chan struct{} // closed once cmd.Wait has returned
	err  error         // cmd.Wait's result, set before done is closed
}

// Start runs redis-server on a free port of 127.0.0.1 until the end of the
// test, and returns once it answers PING. It runs with no persistence
// (--save "" --appendonly no) in its own temporary folder. The server is
// killed, and its process waited for, in t.Cleanup; its output goes to the
// test log if the test failed. Without redis-server on PATH, Start skips
// the test, or fails it when the environment variable CI is "true".
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redistest: redis-server not found on PATH: install it (apt-get install redis-server, or make deps): %v", err)
		}
		t.Skipf("redistest: redis-server not found on PATH (install redis-server to run this test): %v", err)
	}
	s := &Server{bin: bin, dir: t.TempDir(), log: &syncBuffer{}}
	t.Cleanup(func() {
		s.Kill()
		if t.Failed() {
			t.Logf("redistest: redis-server output:\n%s", s.log.String())
		}
	})
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("redistest: %v", err)
		}
		err = s.launch(port)
		if err == nil {
			return s
		}
		if !errors.Is(err, errAddrInUse) || attempt == startAttempts {
			t.Fatalf("redistest: starting redis-server (attempt %d): %v", attempt, err)
		}
	}
}

// Addr returns the server's address, 127.0.0.1:PORT.
func (s *Server) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port()))
}

// Port returns the server's port; it stays the same across Restart.
func (s *Server) Port() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.port
}

// URL returns the server's URL for clients, redis://127.0.0.1:PORT/0.
func (s *Server) URL() string {
	return "redis://" + s.Addr() + "/0"
}

// Kill ends redis-server with SIGKILL, as a crash would, and waits for the
// process. Clients see their connections reset. Kill does nothing when the
// server is not running.
func (s *Server) Kill() {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p != nil {
		p.kill()
	}
}

// Restart starts redis-server again on the same port, with an empty data
// set, and returns once it answers PING; a running server is killed
// first. It retries for a few seconds while the port is still taken.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Kill()
	port := s.Port()
	deadline := time.Now().Add(rebindTimeout)
	for {
		err := s.launch(port)
		if err == nil {
			return
		}
		if !errors.Is(err, errAddrInUse) || time.Now().After(deadline) {
			t.Fatalf("redistest: restarting redis-server on port %d: %v", port, err)
		}
		time.Sleep(50 * time.Millisecond) // nothing to wait on: the kernel frees the port
	}
}

// launch runs redis-server on port and waits for its PONG. It returns
// errAddrInUse if redis-server could not bind the port.
func (s *Server) launch(port int) error {
	out := &syncBuffer{tee: s.log}
	cmd := exec.Command(s.bin,
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", s.dir,
		"--daemonize", "no",
		"--logfile", "",
	)
	cmd.Dir = s.dir
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return err
	}
	p := &process{cmd: cmd, out: out, done: make(chan struct{})}
	// The process's owner: it ends when redis-server exits, which kill
	// forces and waits for.
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if err := waitReady(p, addr); err != nil {
		p.kill()
		return err
	}
	s.mu.Lock()
	s.port = port
	s.proc = p
	s.mu.Unlock()
	return nil
}

// waitReady polls addr with PING until this process answers, exits or
// readyTimeout passes.
func waitReady(p *process, addr string) error {
	deadline := time.NewTimer(readyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		if ok, err := p.answers(addr); ok {
			return nil
		} else if err != nil {
			return err
		}
		select {
		case <-p.done:
			if bytes.Contains(p.out.Bytes(), []byte("in use")) {
				return fmt.Errorf("%w: %s", errAddrInUse, addr)
			}
			return fmt.Errorf("redis-server exited before answering PING: %v\n%s", p.err, p.out.String())
		case <-deadline.C:
			return fmt.Errorf("redis-server did not answer PING on %s within %v", addr, readyTimeout)
		case <-tick.C:
		}
	}
}

// answers reports whether this process answers PING on addr. Another
// process answering there (the port was taken meanwhile) is an
// errAddrInUse.
func (p *process) answers(addr string) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c, err := dial(ctx, addr)
	if err != nil {
		return false, nil // not listening yet
	}
	defer c.Close()
	pong, err := c.do("PING")
	if err != nil || pong != "PONG" {
		return false, nil // still starting (e.g. -LOADING)
	}
	info, err := c.do("INFO", "server")
	if err != nil {
		return false, nil
	}
	text, _ := info.(string)
	if !bytes.Contains([]byte(text), []byte("process_id:"+strconv.Itoa(p.cmd.Process.Pid)+"\r\n")) {
		return false, fmt.Errorf("%w: another redis-server answers on %s", errAddrInUse, addr)
	}
	return true, nil
}

// kill sends SIGKILL and waits for the process's owner goroutine.
func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// freePort returns a port of 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	return port, nil
}

// syncBuffer is a bytes.Buffer safe for concurrent use, copying what it is
// written into tee too when set.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	tee *syncBuffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	b.buf.Write(p)
	b.mu.Unlock()
	if b.tee != nil {
		b.tee.Write(p)
	}
	return len(p), nil
}

// Bytes returns a copy of what was written.
func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

func (b *syncBuffer) String() string {
	return string(b.Bytes())
}
