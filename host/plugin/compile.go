package plugin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
)

// Compiler compiles a module into the compilation cache in dir, isolated
// from the host, within timeout: the host then finds the compiled code in
// the cache and does not compile itself. A module's shape is bounded
// before (modcheck.go), but how long and how much memory compiling one
// function takes grows faster than its size (nested blocks × locals), and
// wazero cannot stop inside a function: only another process can be
// killed at a deadline and capped in memory.
type Compiler func(ctx context.Context, bin []byte, dir string, lim ModuleLimits) error

// ErrCompile is wrapped by the errors of a Compiler that refused a module:
// it needed more time or memory than it is given.
var ErrCompile = errors.New("compiling the module failed")

// ProcessCompiler returns a Compiler that runs exe with args (the host's
// own binary in its compile mode, whose main calls CompileChild), hands it
// the module on stdin and the cache folder and the memory cap
// (lim.CompileMemory) as flags --cache and --memory, and kills it at the
// deadline (lim.CompileTimeout).
func ProcessCompiler(exe string, args ...string) Compiler {
	return func(ctx context.Context, bin []byte, dir string, lim ModuleLimits) error {
		timeout, memory := lim.CompileTimeout, lim.CompileMemory
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, exe, append(append([]string(nil), args...),
			"--cache", dir, "--memory", strconv.FormatInt(memory, 10))...)
		cmd.Stdin = bytes.NewReader(bin)
		var stderr bytes.Buffer
		cmd.Stderr = &limitedWriter{w: &stderr, n: 4096}
		cmd.WaitDelay = time.Second
		err := cmd.Run()
		switch {
		case err == nil:
			return nil
		case ctx.Err() == context.DeadlineExceeded:
			return fmt.Errorf("%w: %w: compiling took longer than compile_timeout = %s", ErrCompile, ErrModuleLimit, timeout)
		case ctx.Err() != nil:
			return fmt.Errorf("%w: %w", ErrCompile, ctx.Err())
		case strings.Contains(stderr.String(), "out of memory"):
			return fmt.Errorf("%w: %w: compiling needed more than max_compile_memory = %d bytes", ErrCompile, ErrModuleLimit, memory)
		}
		msg := strings.TrimSpace(stderr.String())
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		return fmt.Errorf("%w: %v: %s", ErrCompile, err, msg)
	}
}

// limitedWriter keeps the first n bytes written to it.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.n -= k
		_, _ = l.w.Write(p[:k])
	}
	return len(p), nil
}

// CompileChild is the compile mode of a host binary (see
// ProcessCompiler): it caps its own address space at memory bytes, reads
// a module from r and compiles it, as the host does, into the cache in
// dir.
func CompileChild(r io.Reader, dir string, memory int64) error {
	if memory > 0 {
		lim := &syscall.Rlimit{Cur: uint64(memory), Max: uint64(memory)}
		if err := syscall.Setrlimit(syscall.RLIMIT_AS, lim); err != nil {
			return fmt.Errorf("capping memory: %w", err)
		}
	}
	bin, err := io.ReadAll(io.LimitReader(r, DefaultMaxModuleBytes*4))
	if err != nil {
		return err
	}
	cache, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		return err
	}
	ctx := experimental.WithCompilationWorkers(context.Background(), compileWorkers)
	rt := wazero.NewRuntimeWithConfig(ctx, runtimeConfig(0, cache))
	defer rt.Close(ctx)
	_, err = rt.CompileModule(ctx, bin)
	return err
}

// runtimeConfig is the runtime configuration of every plugin version (and
// of the compiler process, whose cached code must fit it): a memory limit
// (0: wazero's), the deadline of a call closing the module, the cache.
func runtimeConfig(pages uint32, cache wazero.CompilationCache) wazero.RuntimeConfig {
	rc := wazero.NewRuntimeConfig().WithCloseOnContextDone(true)
	if pages > 0 {
		rc = rc.WithMemoryLimitPages(pages)
	}
	if cache != nil {
		rc = rc.WithCompilationCache(cache)
	}
	return rc
}

// tempCacheDir is a compilation cache folder of the process's own, for a
// Compiler when no cache folder is configured.
func tempCacheDir() (string, error) { return os.MkdirTemp("", "sockwasm-compile-") }
