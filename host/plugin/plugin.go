package plugin

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

// Options configures the plugin manager. Zero values mean defaults.
type Options struct {
	// Dir is the plugins folder; every *.wasm in it is loaded.
	Dir string
	// CallTimeout is the deadline of one guest call. Default 1s.
	CallTimeout time.Duration
	// PoolSize bounds the idle instances kept per plugin. Default 2×GOMAXPROCS.
	PoolSize int
	// MaxInstances bounds the live instances (idle or busy) per plugin; at
	// the bound a call waits up to CallTimeout for one, then fails. Default
	// 2×PoolSize; never less than PoolSize.
	MaxInstances int
	// MemoryLimitPages bounds a guest's linear memory (64 KiB pages). Default 1024 (64 MiB).
	MemoryLimitPages uint32
	// CacheDir holds wazero's compilation cache; empty means none.
	CacheDir string
	// Logger receives host logs and guest stdout/stderr. Default: disabled.
	Logger *zerolog.Logger
}

func (o Options) withDefaults() Options {
	if o.CallTimeout <= 0 {
		o.CallTimeout = time.Second
	}
	if o.PoolSize <= 0 {
		o.PoolSize = 2 * runtime.GOMAXPROCS(0)
	}
	if o.MaxInstances <= 0 {
		o.MaxInstances = 2 * o.PoolSize
	}
	if o.MaxInstances < o.PoolSize {
		o.PoolSize = o.MaxInstances
	}
	if o.MemoryLimitPages == 0 {
		o.MemoryLimitPages = 1024
	}
	if o.Logger == nil {
		l := zerolog.Nop()
		o.Logger = &l
	}
	return o
}

// ErrInvalidModule is wrapped by every error that refuses a module at load.
var ErrInvalidModule = errors.New("plugin: invalid module")

// Manager holds the loaded plugins.
type Manager struct {
	plugins map[string]*Plugin
	names   []string
	cache   wazero.CompilationCache
	closed  atomic.Bool
}

// Load compiles and validates every .wasm in opts.Dir and creates one
// instance of each up front. Every invalid module is reported (errors are
// joined), each error naming the file and the problem; on error nothing
// stays loaded.
func Load(ctx context.Context, opts Options) (*Manager, error) {
	opts = opts.withDefaults()
	files, err := filepath.Glob(filepath.Join(opts.Dir, "*.wasm"))
	if err != nil {
		return nil, fmt.Errorf("plugin: %s: %w", opts.Dir, err)
	}
	if _, err := os.Stat(opts.Dir); err != nil {
		return nil, fmt.Errorf("plugin: %w", err)
	}
	sort.Strings(files)
	m := &Manager{plugins: make(map[string]*Plugin, len(files))}
	if opts.CacheDir != "" {
		c, err := wazero.NewCompilationCacheWithDir(opts.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("plugin: compilation cache %s: %w", opts.CacheDir, err)
		}
		m.cache = c
	}
	var errs []error
	for _, f := range files {
		p, err := loadFile(ctx, f, opts, m.cache)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		m.plugins[p.name] = p
		m.names = append(m.names, p.name)
	}
	if len(errs) > 0 {
		_ = m.Close(ctx)
		return nil, errors.Join(errs...)
	}
	return m, nil
}

// LoadFile compiles, validates and instantiates one plugin file, outside of
// any Manager (for reloads and for tools such as `sockwasm check`). cache
// may be nil. The caller closes the plugin.
func LoadFile(ctx context.Context, path string, opts Options, cache wazero.CompilationCache) (*Plugin, error) {
	return loadFile(ctx, path, opts.withDefaults(), cache)
}

// Get returns a plugin by name (file name without .wasm), or nil.
func (m *Manager) Get(name string) *Plugin { return m.plugins[name] }

// Names returns the loaded plugin names, sorted.
func (m *Manager) Names() []string { return append([]string(nil), m.names...) }

// Close releases every runtime. Idempotent.
func (m *Manager) Close(ctx context.Context) error {
	if m.closed.Swap(true) {
		return nil
	}
	var errs []error
	for _, p := range m.plugins {
		errs = append(errs, p.Close(ctx))
	}
	if m.cache != nil {
		errs = append(errs, m.cache.Close(ctx))
	}
	return errors.Join(errs...)
}

// Stats are a plugin's counters since it was loaded.
type Stats struct {
	// Calls is the number of guest calls made.
	Calls uint64
	// Faults is the number of calls that failed: trap, panic, exit,
	// deadline, out-of-memory, instantiation failure or a non-zero result.
	Faults uint64
	// Instances is the number of instances created.
	Instances uint64
}

// Plugin is one loaded module with its instance pool.
type Plugin struct {
	name     string
	path     string
	opts     Options
	log      zerolog.Logger
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	modCfg   wazero.ModuleConfig
	idle     chan *instance
	live     chan struct{} // one token per live instance
	closed   atomic.Bool

	calls, faults, instances atomic.Uint64
}

type instance struct {
	mod    api.Module
	handle api.Function
	stack  [2]uint64
	// cur is the call running on the instance, for host functions; only
	// touched by the calling goroutine.
	cur *call
	// ctx carries the instance to host functions and is canceled by timer
	// at a call's deadline (WithCloseOnContextDone then stops the guest).
	// Reusing them spares each call a context and a timer.
	ctx     context.Context
	cancel  context.CancelFunc
	timer   *time.Timer
	expired atomic.Bool
}

// instKey keys the *instance in an instance's context.
type instKey struct{}

func loadFile(ctx context.Context, path string, opts Options, cache wazero.CompilationCache) (*Plugin, error) {
	name := strings.TrimSuffix(filepath.Base(path), ".wasm")
	bin, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("plugin: %w", err)
	}
	rc := wazero.NewRuntimeConfig().
		WithMemoryLimitPages(opts.MemoryLimitPages).
		WithCloseOnContextDone(true)
	if cache != nil {
		rc = rc.WithCompilationCache(cache)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	fail := func(err error) (*Plugin, error) {
		_ = rt.Close(ctx)
		return nil, err
	}
	compiled, err := rt.CompileModule(ctx, bin)
	if err != nil {
		return fail(fmt.Errorf("%w: %s: %v", ErrInvalidModule, path, err))
	}
	if err := validate(compiled); err != nil {
		return fail(fmt.Errorf("%w: %s: %v", ErrInvalidModule, path, err))
	}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		return fail(fmt.Errorf("plugin: %s: wasi: %w", path, err))
	}
	log := opts.Logger.With().Str("plugin", name).Logger()
	if _, err := hostModule(rt, &log).Instantiate(ctx); err != nil {
		return fail(fmt.Errorf("plugin: %s: host module: %w", path, err))
	}
	p := &Plugin{
		name:     name,
		path:     path,
		opts:     opts,
		log:      log,
		rt:       rt,
		compiled: compiled,
		idle:     make(chan *instance, opts.PoolSize),
		live:     make(chan struct{}, opts.MaxInstances),
		modCfg: wazero.NewModuleConfig().
			WithName("").
			WithStartFunctions(exportInitialize).
			WithSysWalltime().
			WithSysNanotime().
			WithRandSource(rand.Reader),
	}
	p.live <- struct{}{}
	inst, err := p.instantiate(ctx)
	if err != nil {
		return fail(fmt.Errorf("%w: %s: instantiate: %v", ErrInvalidModule, path, err))
	}
	p.idle <- inst
	return p, nil
}

// validate checks the exports and imports of a compiled guest against ABI v1.
func validate(m wazero.CompiledModule) error {
	exports := m.ExportedFunctions()
	if _, ok := exports[ExportMarker]; !ok {
		for n := range exports {
			if strings.HasPrefix(n, markerPrefix) {
				return fmt.Errorf("built for plugin ABI %q, this host implements %q (export %s)", strings.TrimPrefix(n, "sockwasm_abi_"), fmt.Sprintf("v%d", ABIVersion), ExportMarker)
			}
		}
		return fmt.Errorf("not a sockwasm plugin: missing export %s (ABI version marker)", ExportMarker)
	}
	h, ok := exports[ExportHandle]
	if !ok {
		return fmt.Errorf("missing export %s", ExportHandle)
	}
	if !sameSig(h, []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}) {
		return fmt.Errorf("export %s has signature %s, want (i32, i32) -> i32", ExportHandle, sig(h.ParamTypes(), h.ResultTypes()))
	}
	if _, ok := m.ExportedMemories()[ExportMemory]; !ok {
		return fmt.Errorf("missing exported memory %q", ExportMemory)
	}
	if len(m.ImportedMemories()) > 0 {
		return errors.New("imports a memory; a plugin must define and export its own")
	}
	for _, f := range m.ImportedFunctions() {
		mod, name, _ := f.Import()
		switch mod {
		case WASIModule:
			// Checked by wazero at instantiation.
		case ImportModule:
			want, ok := hostSigs[name]
			if !ok {
				return fmt.Errorf("imports unknown host function %s.%s", mod, name)
			}
			if !sameSig(f, want.params, want.results) {
				return fmt.Errorf("imports host function %s.%s with signature %s, want %s", mod, name,
					sig(f.ParamTypes(), f.ResultTypes()), sig(want.params, want.results))
			}
		default:
			if strings.HasPrefix(mod, importPrefix) {
				return fmt.Errorf("imports %s.%s from host module %q, this host implements %q", mod, name, mod, ImportModule)
			}
			return fmt.Errorf("imports %s.%s from unknown module %q", mod, name, mod)
		}
	}
	return nil
}

func sameSig(f api.FunctionDefinition, params, results []api.ValueType) bool {
	return string(f.ParamTypes()) == string(params) && string(f.ResultTypes()) == string(results)
}

func sig(params, results []api.ValueType) string {
	names := func(ts []api.ValueType) string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = api.ValueTypeName(t)
		}
		return "(" + strings.Join(s, ", ") + ")"
	}
	return names(params) + " -> " + names(results)
}

// Name returns the plugin name.
func (p *Plugin) Name() string { return p.name }

// Path returns the file the plugin was loaded from.
func (p *Plugin) Path() string { return p.path }

// Stats returns the plugin's counters.
func (p *Plugin) Stats() Stats {
	return Stats{Calls: p.calls.Load(), Faults: p.faults.Load(), Instances: p.instances.Load()}
}

// Close releases the plugin's runtime. Calls in flight fail; later calls
// fail fast. Idempotent.
func (p *Plugin) Close(ctx context.Context) error {
	if p.closed.Swap(true) {
		return nil
	}
	for {
		select {
		case inst := <-p.idle:
			p.discard(inst)
		default:
			return p.rt.Close(ctx)
		}
	}
}

// errClosed fails calls on a closed plugin.
var errClosed = errors.New("plugin closed")

func (p *Plugin) instantiate(ctx context.Context) (*instance, error) {
	out := &lineWriter{log: &p.log, stream: "stdout"}
	errw := &lineWriter{log: &p.log, stream: "stderr"}
	timeout := p.opts.CallTimeout
	if timeout < 10*time.Second {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	mod, err := p.rt.InstantiateModule(ctx, p.compiled, p.modCfg.WithStdout(out).WithStderr(errw))
	if err != nil {
		return nil, err
	}
	p.instances.Add(1)
	inst := &instance{mod: mod, handle: mod.ExportedFunction(ExportHandle)}
	inst.ctx, inst.cancel = context.WithCancel(context.WithValue(context.Background(), instKey{}, inst))
	inst.timer = time.AfterFunc(time.Hour, func() {
		inst.expired.Store(true)
		inst.cancel()
	})
	inst.timer.Stop()
	return inst, nil
}

// errBusy fails a call that found every instance busy until its deadline.
var errBusy = errors.New("every instance busy")

// get returns an idle instance, or a new one while under MaxInstances, or
// waits up to CallTimeout for either.
func (p *Plugin) get() (*instance, error) {
	if p.closed.Load() {
		return nil, errClosed
	}
	select {
	case inst := <-p.idle:
		return inst, nil
	default:
	}
	select {
	case p.live <- struct{}{}:
		return p.spawn()
	default:
	}
	t := time.NewTimer(p.opts.CallTimeout)
	defer t.Stop()
	select {
	case inst := <-p.idle:
		return inst, nil
	case p.live <- struct{}{}:
		return p.spawn()
	case <-t.C:
		return nil, errBusy
	}
}

// spawn instantiates with a live token already taken.
func (p *Plugin) spawn() (*instance, error) {
	inst, err := p.instantiate(context.Background())
	if err != nil {
		<-p.live
		return nil, err
	}
	return inst, nil
}

// discard closes an instance and frees its token.
func (p *Plugin) discard(inst *instance) {
	inst.timer.Stop()
	inst.cancel()
	_ = inst.mod.Close(context.Background())
	<-p.live
}

func (p *Plugin) put(inst *instance) {
	if !p.closed.Load() {
		select {
		case p.idle <- inst:
			if p.closed.Load() { // raced with Close: drain again
				go p.drain()
			}
			return
		default:
		}
	}
	p.discard(inst)
}

func (p *Plugin) drain() {
	for {
		select {
		case inst := <-p.idle:
			p.discard(inst)
		default:
			return
		}
	}
}

// fault describes why a guest call failed.
type fault struct {
	reason string
	err    error
}

// invoke runs one guest call. It returns nil on success, or the fault.
func (p *Plugin) invoke(c *call) *fault {
	p.calls.Add(1)
	inst, err := p.get()
	if err != nil {
		reason := "instantiate"
		if errors.Is(err, errBusy) {
			reason = "busy"
		}
		return p.fail(c, &fault{reason: reason, err: err})
	}
	inst.cur = c
	inst.stack[0] = uint64(c.kind)
	inst.stack[1] = uint64(len(c.frame))
	inst.timer.Reset(p.opts.CallTimeout)
	err = inst.handle.CallWithStack(inst.ctx, inst.stack[:])
	inTime := inst.timer.Stop()
	inst.cur = nil
	if err != nil {
		p.discard(inst)
		f := classify(err)
		if inst.expired.Load() {
			f.reason = "deadline exceeded"
		}
		return p.fail(c, f)
	}
	rc := int32(uint32(inst.stack[0]))
	if inTime {
		p.put(inst)
	} else { // the deadline fired as the call returned: its context is dead
		p.discard(inst)
	}
	if rc != 0 {
		return p.fail(c, &fault{reason: fmt.Sprintf("handler returned %d", rc)})
	}
	return nil
}

func (p *Plugin) fail(c *call, f *fault) *fault {
	p.faults.Add(1)
	ev := p.log.Warn()
	if errors.Is(f.err, errClosed) {
		ev = p.log.Debug()
	}
	ev = ev.Str("kind", kindName(c.kind)).Str("reason", f.reason)
	if c.sock != nil {
		ev = ev.Str("sid", c.sock.ID()).Str("nsp", c.sock.Namespace())
	}
	if c.kind == KindEvent {
		ev = ev.Str("event", c.event)
	}
	if f.err != nil {
		ev = ev.Err(f.err)
	}
	ev.Msg("plugin call failed")
	return f
}

func classify(err error) *fault {
	var ee *sys.ExitError
	if errors.As(err, &ee) {
		switch ee.ExitCode() {
		case sys.ExitCodeDeadlineExceeded:
			return &fault{reason: "deadline exceeded", err: err}
		case sys.ExitCodeContextCanceled:
			return &fault{reason: "canceled", err: err}
		}
		return &fault{reason: fmt.Sprintf("exit %d", ee.ExitCode()), err: err}
	}
	return &fault{reason: "trap", err: err}
}

// lineWriter turns a guest's stdout or stderr into log lines.
type lineWriter struct {
	log    *zerolog.Logger
	stream string
	mu     sync.Mutex
	buf    []byte
}

const maxLogLine = 4096

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(b)
	for len(b) > 0 {
		i := indexByte(b, '\n')
		if i < 0 {
			w.buf = append(w.buf, b...)
			if len(w.buf) >= maxLogLine {
				w.emit()
			}
			break
		}
		w.buf = append(w.buf, b[:i]...)
		w.emit()
		b = b[i+1:]
	}
	return n, nil
}

func (w *lineWriter) emit() {
	w.log.Info().Str("stream", w.stream).Msg(string(w.buf))
	w.buf = w.buf[:0]
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}
