package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times (100 on Linux).
const clockTicks = 100

// procCPU is a process's user + system CPU time in seconds, all threads,
// from /proc/PID/stat; NaN when it cannot be read.
func procCPU(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nan
	}
	return parseStatCPU(b)
}

// parseStatCPU reads utime and stime (fields 14 and 15) of a /proc/PID/stat line.
func parseStatCPU(b []byte) float64 {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 > len(b) {
		return nan
	}
	f := strings.Fields(string(b[i+2:])) // from field 3, the state
	if len(f) < 13 {
		return nan
	}
	u, err1 := strconv.ParseFloat(f[11], 64)
	s, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return nan
	}
	return (u + s) / clockTicks
}

// procMem is a process's resident set and its peak, in KiB, from /proc/PID/status.
func procMem(pid int) (rss, hwm float64) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return nan, nan
	}
	return parseStatusKiB(b, "VmRSS"), parseStatusKiB(b, "VmHWM")
}

// parseStatusKiB reads a "Key:   N kB" line of /proc/PID/status.
func parseStatusKiB(b []byte, key string) float64 {
	for _, line := range strings.Split(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, key+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 2 && f[1] == "kB" {
			if v, err := strconv.ParseFloat(f[0], 64); err == nil {
				return v
			}
		}
	}
	return nan
}

// tail keeps the last lines a process wrote.
type tail struct {
	mu    sync.Mutex
	lines []string
	part  []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.part = append(t.part, p...)
	for {
		i := bytes.IndexByte(t.part, '\n')
		if i < 0 {
			break
		}
		t.lines = append(t.lines, string(t.part[:i]))
		t.part = t.part[i+1:]
		if len(t.lines) > 200 {
			t.lines = t.lines[len(t.lines)-100:]
		}
	}
	return len(p), nil
}

func (t *tail) last(n int) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := t.lines
	if len(t.part) > 0 {
		lines = append(lines[:len(lines):len(lines)], string(t.part))
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return append([]string(nil), lines...)
}

// child is a process the runner started.
type child struct {
	name string
	cmd  *exec.Cmd
	out  *tail
	done chan struct{} // closed when it exited
	err  error         // its exit, once done
}

// children tracks the runner's processes, to kill them on a signal.
var children struct {
	sync.Mutex
	set map[*child]struct{}
}

// startChild starts a process with its output kept; stdin, when not nil,
// is its standard input.
func startChild(name string, argv, env []string, dir string, stdin *os.File) (*child, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Dir = dir
	cmd.Stdin = stdin
	out := &tail{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, out: out, done: make(chan struct{})}
	track(c)
	go func() {
		c.err = cmd.Wait()
		untrack(c)
		close(c.done)
	}()
	return c, nil
}

func track(c *child) {
	children.Lock()
	defer children.Unlock()
	if children.set == nil {
		children.set = make(map[*child]struct{})
	}
	children.set[c] = struct{}{}
}

func untrack(c *child) {
	children.Lock()
	defer children.Unlock()
	delete(children.set, c)
}

// killChildren kills every process the runner started (and their groups).
func killChildren() {
	children.Lock()
	defer children.Unlock()
	for c := range children.set {
		_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	}
}

// kill kills the process (its group) and waits for it.
func (c *child) kill() {
	_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	<-c.done
}

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// waitListening waits until 127.0.0.1:port accepts connections.
func (c *child) waitListening(port int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for {
		if c.exited() {
			return fmt.Errorf("%s exited (%v) before listening:\n  %s", c.name, c.err, strings.Join(c.out.last(15), "\n  "))
		}
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not listening on %s after %v:\n  %s", c.name, addr, timeout, strings.Join(c.out.last(15), "\n  "))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freePort asks the system for a free loopback port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// raiseNoFile raises this process's (and so its children's) open-file
// soft limit to the hard limit, and returns the limit.
func raiseNoFile() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
		_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
	return rl.Cur
}
