package plugin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
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

	"github.com/sockwasm/sockwasm/host/socketio"
)

// Options configures the plugin manager. Zero values mean defaults.
type Options struct {
	// Dir is the plugins folder; every *.wasm in it is loaded.
	Dir string
	// CallTimeout is the deadline of one guest call. Default 1s.
	CallTimeout time.Duration
	// PoolSize bounds the idle instances kept per plugin. Default 2×GOMAXPROCS.
	PoolSize int
	// MaxInstances bounds the live instances (idle or busy) per plugin
	// version; at the bound a call waits up to CallTimeout for one, then
	// fails. Default 2×PoolSize; never less than PoolSize.
	MaxInstances int
	// MemoryLimitPages bounds a guest's linear memory (64 KiB pages). Default 1024 (64 MiB).
	MemoryLimitPages uint32
	// CacheDir holds wazero's compilation cache; empty means none (unless
	// Cache is set).
	CacheDir string
	// Cache is a compilation cache to use instead of one in CacheDir. The
	// manager does not close it, so several managers (or tests) can share
	// it.
	Cache wazero.CompilationCache
	// Logger receives host logs and guest stdout/stderr. Default: disabled.
	Logger *zerolog.Logger
	// Settings are the per-plugin settings, by plugin name.
	Settings map[string]Settings
	// MaxKVEntries bounds the entries of one plugin's key-value store.
	// Default 100 000.
	MaxKVEntries int
	// MaxKVBytes bounds the keys plus values of one plugin's key-value
	// store, in bytes. Default 64 MiB.
	MaxKVBytes int
	// MaxTimers bounds the pending timers of one plugin. Default 1000.
	MaxTimers int
	// Namespaces finds a namespace of the Socket.IO server by name, nil
	// when there is none; the ns_broadcast host function emits through
	// it. Nil: ns_broadcast returns ERR_NOT_ALLOWED. It may be called
	// from any goroutine (TIMER calls run on their own).
	Namespaces func(name string) *socketio.Namespace
}

// withDefaults fills the fields that do not depend on a plugin's Settings.
func (o Options) withDefaults() Options {
	if o.Logger == nil {
		l := zerolog.Nop()
		o.Logger = &l
	}
	if o.MaxKVEntries <= 0 {
		o.MaxKVEntries = 100_000
	}
	if o.MaxKVBytes <= 0 {
		o.MaxKVBytes = 64 << 20
	}
	if o.MaxTimers <= 0 {
		o.MaxTimers = 1000
	}
	return o
}

// limits returns the options of one plugin version: o overridden by s,
// then defaulted.
func (o Options) limits(s Settings) Options {
	if s.CallTimeout > 0 {
		o.CallTimeout = s.CallTimeout
	}
	if s.MemoryLimitPages > 0 {
		o.MemoryLimitPages = s.MemoryLimitPages
	}
	if s.PoolSize > 0 {
		o.PoolSize = s.PoolSize
	}
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
	return o
}

// ErrInvalidModule is wrapped by every error that refuses a module at load.
var ErrInvalidModule = errors.New("plugin: invalid module")

// ErrClosed is returned by a Manager used after Close.
var ErrClosed = errors.New("plugin: manager closed")

// Manager holds the loaded plugins. It is safe for concurrent use: Get
// and Names never wait for a reload, and Reload and Remove run one at a
// time.
type Manager struct {
	opts     Options // withDefaults applied; per-plugin limits are not
	cache    wazero.CompilationCache
	ownCache bool
	log      zerolog.Logger

	reloadMu sync.Mutex // serializes Reload, Remove and Close
	mu       sync.RWMutex
	plugins  map[string]*Plugin
	closed   bool
}

// New returns a Manager with no plugin loaded; add plugins with Reload.
func New(opts Options) (*Manager, error) {
	opts = opts.withDefaults()
	m := &Manager{opts: opts, plugins: map[string]*Plugin{}, log: *opts.Logger, cache: opts.Cache}
	if m.cache == nil && opts.CacheDir != "" {
		c, err := wazero.NewCompilationCacheWithDir(opts.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("plugin: compilation cache %s: %w", opts.CacheDir, err)
		}
		m.cache, m.ownCache = c, true
	}
	return m, nil
}

// Load compiles and validates every .wasm in opts.Dir, with its Settings
// from opts.Settings, and creates one instance of each up front. Every
// invalid module is reported (errors are joined), each error naming the
// file and the problem; on error nothing stays loaded.
func Load(ctx context.Context, opts Options) (*Manager, error) {
	files, err := filepath.Glob(filepath.Join(opts.Dir, "*.wasm"))
	if err != nil {
		return nil, fmt.Errorf("plugin: %s: %w", opts.Dir, err)
	}
	if _, err := os.Stat(opts.Dir); err != nil {
		return nil, fmt.Errorf("plugin: %w", err)
	}
	sort.Strings(files)
	m, err := New(opts)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, f := range files {
		if _, err := m.Reload(ctx, f, m.opts.Settings[pluginName(f)]); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		_ = m.Close(ctx)
		return nil, errors.Join(errs...)
	}
	return m, nil
}

// LoadFile compiles, validates and instantiates one plugin file, outside of
// any Manager (for tools such as `sockwasm check`), with its Settings from
// opts.Settings. cache may be nil. The caller closes the plugin.
func LoadFile(ctx context.Context, path string, opts Options, cache wazero.CompilationCache) (*Plugin, error) {
	opts = opts.withDefaults()
	p := newPlugin(pluginName(path), opts, cache)
	v, err := p.load(ctx, path, opts.Settings[p.name])
	if err != nil {
		return nil, err
	}
	p.cur.Store(v)
	return p, nil
}

// pluginName is the name of the plugin of a file: its base name without
// .wasm.
func pluginName(path string) string { return strings.TrimSuffix(filepath.Base(path), ".wasm") }

// Get returns a plugin by name (file name without .wasm), or nil. The
// returned handle stays the same across reloads of the plugin.
func (m *Manager) Get(name string) *Plugin {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.plugins[name]
}

// Names returns the loaded plugin names, sorted.
func (m *Manager) Names() []string {
	m.mu.RLock()
	names := make([]string, 0, len(m.plugins))
	for n := range m.plugins {
		names = append(names, n)
	}
	m.mu.RUnlock()
	sort.Strings(names)
	return names
}

// Close stops every plugin: timers are canceled, later calls fail, and
// Close waits (up to ctx) for the calls in flight to finish before it
// releases the runtimes. Idempotent.
func (m *Manager) Close(ctx context.Context) error {
	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	ps := m.plugins
	m.plugins = map[string]*Plugin{}
	m.mu.Unlock()
	var errs []error
	for _, p := range ps {
		errs = append(errs, p.Close(ctx))
	}
	if m.ownCache {
		errs = append(errs, m.cache.Close(ctx))
	}
	return errors.Join(errs...)
}

// Stats are a plugin's counters since it was loaded, over all versions.
type Stats struct {
	// Calls is the number of guest calls made.
	Calls uint64
	// Faults is the number of calls that failed: trap, panic, exit,
	// deadline, out-of-memory, instantiation failure or a non-zero result.
	Faults uint64
	// Instances is the number of instances created.
	Instances uint64
	// KVEntries is the number of entries in the key-value store (expired
	// ones not yet reclaimed included).
	KVEntries int
	// Timers is the number of pending timers.
	Timers int
}

// Plugin is the stable handle of one plugin name: the same pointer serves
// every version of the plugin, so routing tables need not change when its
// .wasm does. Each call runs on the version current when it starts. The
// key-value store and the timers belong to the handle and survive
// reloads.
type Plugin struct {
	name  string
	opts  Options // withDefaults applied
	cache wazero.CompilationCache
	log   zerolog.Logger

	cur    atomic.Pointer[version]
	closed atomic.Bool

	kv     kvStore
	timers timerSet

	calls, faults, instances atomic.Uint64
}

func newPlugin(name string, opts Options, cache wazero.CompilationCache) *Plugin {
	p := &Plugin{name: name, opts: opts, cache: cache, log: opts.Logger.With().Str("plugin", name).Logger()}
	p.kv.init(opts.MaxKVEntries, opts.MaxKVBytes)
	p.timers.init(p, opts.MaxTimers)
	return p
}

// version is one compiled module of a plugin with its instance pool.
type version struct {
	p        *Plugin
	path     string
	hash     string
	settings Settings // as given
	opts     Options  // limits applied
	config   []byte   // JSON, {} when none
	grants   []string
	log      zerolog.Logger
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	modCfg   wazero.ModuleConfig
	exports  []string
	imports  []string
	idle     chan *instance
	live     chan struct{} // one token per live instance

	inflight  atomic.Int64 // calls running on this version
	retired   atomic.Bool  // no longer current; closed once drained
	closed    atomic.Bool
	closeOnce sync.Once
	done      chan struct{} // closed once the runtime is released
}

type instance struct {
	v      *version
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

// load compiles, validates and instantiates one version of p from path
// and runs its INIT call. The version is not yet current.
func (p *Plugin) load(ctx context.Context, path string, s Settings) (*version, error) {
	bin, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("plugin: %w", err)
	}
	return p.loadBytes(ctx, path, bin, s)
}

// moduleHash is the version hash of module bytes: hex sha256, first 12
// characters.
func moduleHash(bin []byte) string {
	sum := sha256.Sum256(bin)
	return hex.EncodeToString(sum[:])[:12]
}

func (p *Plugin) loadBytes(ctx context.Context, path string, bin []byte, s Settings) (*version, error) {
	opts := p.opts.limits(s)
	v := &version{
		p:        p,
		path:     path,
		hash:     moduleHash(bin),
		settings: cloneSettings(s),
		opts:     opts,
		config:   s.Config,
		grants:   append([]string(nil), s.Grants...),
		idle:     make(chan *instance, opts.PoolSize),
		live:     make(chan struct{}, opts.MaxInstances),
		done:     make(chan struct{}),
	}
	if len(v.config) == 0 {
		v.config = []byte("{}")
	}
	hook := new(initHook)
	v.log = p.log.With().Str("version", v.hash).Logger().Hook(hook)
	rc := wazero.NewRuntimeConfig().
		WithMemoryLimitPages(opts.MemoryLimitPages).
		WithCloseOnContextDone(true)
	if p.cache != nil {
		rc = rc.WithCompilationCache(p.cache)
	}
	v.rt = wazero.NewRuntimeWithConfig(ctx, rc)
	fail := func(err error) (*version, error) {
		v.closed.Store(true)
		_ = v.rt.Close(ctx)
		return nil, err
	}
	compiled, err := v.rt.CompileModule(ctx, bin)
	if err != nil {
		return fail(fmt.Errorf("%w: %s: %v", ErrInvalidModule, path, err))
	}
	v.compiled = compiled
	if err := validate(compiled); err != nil {
		return fail(fmt.Errorf("%w: %s: %v", ErrInvalidModule, path, err))
	}
	if err := checkGrants(compiled, p.name, v.grants); err != nil {
		return fail(fmt.Errorf("%w: %s: %v", ErrInvalidModule, path, err))
	}
	for n := range compiled.ExportedFunctions() {
		v.exports = append(v.exports, n)
	}
	sort.Strings(v.exports)
	for _, f := range compiled.ImportedFunctions() {
		mod, n, _ := f.Import()
		v.imports = append(v.imports, mod+"."+n)
	}
	sort.Strings(v.imports)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, v.rt); err != nil {
		return fail(fmt.Errorf("plugin: %s: wasi: %w", path, err))
	}
	if _, err := hostModule(v.rt, &v.log).Instantiate(ctx); err != nil {
		return fail(fmt.Errorf("plugin: %s: host module: %w", path, err))
	}
	v.modCfg = wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions(exportInitialize).
		WithSysWalltime().
		WithSysNanotime().
		WithRandSource(rand.Reader)
	v.live <- struct{}{}
	inst, err := v.instantiate(ctx)
	if err != nil {
		<-v.live
		return fail(fmt.Errorf("%w: %s: instantiate: %v", ErrInvalidModule, path, err))
	}
	v.idle <- inst
	if err := v.runInit(hook); err != nil {
		v.drain()
		return fail(fmt.Errorf("%w: %s: %v", ErrInvalidModule, path, err))
	}
	return v, nil
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

// Path returns the file the current version was loaded from; empty once
// the plugin is closed.
func (p *Plugin) Path() string {
	if v := p.cur.Load(); v != nil {
		return v.path
	}
	return ""
}

// Stats returns the plugin's counters.
func (p *Plugin) Stats() Stats {
	p.kv.mu.Lock()
	entries := len(p.kv.m)
	p.kv.mu.Unlock()
	return Stats{Calls: p.calls.Load(), Faults: p.faults.Load(), Instances: p.instances.Load(),
		KVEntries: entries, Timers: p.timers.len()}
}

// Close stops the plugin: its timers are canceled and later calls fail
// fast; calls in flight finish on their version, which Close waits for (up
// to ctx) before it releases the runtime. Idempotent.
func (p *Plugin) Close(ctx context.Context) error {
	if p.closed.Swap(true) {
		return nil
	}
	p.timers.stop()
	v := p.cur.Swap(nil)
	if v == nil {
		return nil
	}
	v.retire()
	select {
	case <-v.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("plugin %s: close: %w", p.name, ctx.Err())
	}
}

// swap makes v the current version and retires the previous one, which
// is closed once its calls in flight have finished. It returns the
// previous version, or nil. On a closed plugin v is closed instead.
func (p *Plugin) swap(v *version) *version {
	old := p.cur.Swap(v)
	if p.closed.Load() { // raced with Close
		if cur := p.cur.Swap(nil); cur != nil {
			cur.retire()
		}
	}
	if old != nil {
		old.retire()
	}
	return old
}

// acquire returns the current version with a call counted in flight on
// it, or nil when the plugin is closed. The caller releases it.
func (p *Plugin) acquire() *version {
	for {
		v := p.cur.Load()
		if v == nil {
			return nil
		}
		v.inflight.Add(1)
		if !v.retired.Load() {
			return v
		}
		v.release() // swapped meanwhile: take the new one
	}
}

func (v *version) release() {
	if v.inflight.Add(-1) == 0 && v.retired.Load() {
		v.close()
	}
}

func (v *version) retire() {
	v.retired.Store(true)
	if v.inflight.Load() == 0 {
		v.close()
	}
}

// close releases the version's runtime once.
func (v *version) close() {
	v.closeOnce.Do(func() {
		v.closed.Store(true)
		v.drain()
		if err := v.rt.Close(context.Background()); err != nil {
			v.log.Warn().Err(err).Msg("closing runtime")
		}
		close(v.done)
	})
}

// errClosed fails calls on a closed plugin.
var errClosed = errors.New("plugin closed")

func (v *version) instantiate(ctx context.Context) (*instance, error) {
	out := &lineWriter{log: &v.log, stream: "stdout"}
	errw := &lineWriter{log: &v.log, stream: "stderr"}
	timeout := v.opts.CallTimeout
	if timeout < 10*time.Second {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	mod, err := v.rt.InstantiateModule(ctx, v.compiled, v.modCfg.WithStdout(out).WithStderr(errw))
	if err != nil {
		return nil, err
	}
	v.p.instances.Add(1)
	inst := &instance{v: v, mod: mod, handle: mod.ExportedFunction(ExportHandle)}
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
func (v *version) get() (*instance, error) {
	if v.closed.Load() {
		return nil, errClosed
	}
	select {
	case inst := <-v.idle:
		return inst, nil
	default:
	}
	select {
	case v.live <- struct{}{}:
		return v.spawn()
	default:
	}
	t := time.NewTimer(v.opts.CallTimeout)
	defer t.Stop()
	select {
	case inst := <-v.idle:
		return inst, nil
	case v.live <- struct{}{}:
		return v.spawn()
	case <-t.C:
		return nil, errBusy
	}
}

// spawn instantiates with a live token already taken.
func (v *version) spawn() (*instance, error) {
	inst, err := v.instantiate(context.Background())
	if err != nil {
		<-v.live
		return nil, err
	}
	return inst, nil
}

// discard closes an instance and frees its token.
func (v *version) discard(inst *instance) {
	inst.timer.Stop()
	inst.cancel()
	_ = inst.mod.Close(context.Background())
	<-v.live
}

func (v *version) put(inst *instance) {
	if !v.closed.Load() {
		select {
		case v.idle <- inst:
			if v.closed.Load() { // raced with close: drain again
				v.drain()
			}
			return
		default:
		}
	}
	v.discard(inst)
}

func (v *version) drain() {
	for {
		select {
		case inst := <-v.idle:
			v.discard(inst)
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

// invoke runs one guest call on the current version. It returns nil on
// success, or the fault.
func (p *Plugin) invoke(c *call) *fault {
	v := p.acquire()
	if v == nil {
		p.calls.Add(1)
		return p.fail(c, &p.log, &fault{reason: "closed", err: errClosed})
	}
	defer v.release()
	return v.invoke(c)
}

// invoke runs one guest call on v.
func (v *version) invoke(c *call) *fault {
	p := v.p
	p.calls.Add(1)
	inst, err := v.get()
	if err != nil {
		reason := "instantiate"
		switch {
		case errors.Is(err, errBusy):
			reason = "busy"
		case errors.Is(err, errClosed):
			reason = "closed"
		}
		return p.fail(c, &v.log, &fault{reason: reason, err: err})
	}
	inst.cur = c
	inst.stack[0] = uint64(c.kind)
	inst.stack[1] = uint64(len(c.frame))
	inst.timer.Reset(v.opts.CallTimeout)
	err = inst.handle.CallWithStack(inst.ctx, inst.stack[:])
	inTime := inst.timer.Stop()
	inst.cur = nil
	if err != nil {
		v.discard(inst)
		f := classify(err)
		if inst.expired.Load() {
			f.reason = "deadline exceeded"
		}
		return p.fail(c, &v.log, f)
	}
	rc := int32(uint32(inst.stack[0]))
	if inTime {
		v.put(inst)
	} else { // the deadline fired as the call returned: its context is dead
		v.discard(inst)
	}
	if rc != 0 {
		return p.fail(c, &v.log, &fault{reason: fmt.Sprintf("handler returned %d", rc)})
	}
	return nil
}

func (p *Plugin) fail(c *call, log *zerolog.Logger, f *fault) *fault {
	p.faults.Add(1)
	ev := log.Warn()
	if errors.Is(f.err, errClosed) {
		ev = log.Debug()
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
