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
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/sockwasm/sockwasm/host/socketio"
	"github.com/sockwasm/sockwasm/sdk/abi"
)

// Options configures the plugin manager. Zero values mean defaults.
type Options struct {
	// Dir is the plugins folder; every *.wasm in it is loaded.
	Dir string
	// Limits are the limits of every plugin (its Settings.Limits override
	// them); zero fields take the package defaults.
	Limits Limits
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
	// Namespaces finds a namespace of the Socket.IO server by name, nil
	// when there is none; the ns_broadcast host function emits through
	// it. Nil: ns_broadcast returns ERR_NOT_ALLOWED. It may be called
	// from any goroutine (TIMER calls run on their own).
	Namespaces func(name string) *socketio.Namespace
	// Serves reports whether the routing serves namespace nsp with
	// plugin (as its handler, an event route or middleware). ns_broadcast
	// into a namespace the plugin does not serve needs an "emit:" grant
	// naming it. Nil: the plugin serves no namespace.
	Serves func(plugin, nsp string) bool
	// ServesAll reports whether the routing uses plugin in every
	// namespace, so that no session holds a socket of another plugin's
	// namespace: only then do disconnect(1) and disconnect_sockets with
	// close_session close whole sessions; otherwise they disconnect the
	// sockets from their namespace only. Nil: never.
	ServesAll func(plugin string) bool
	// Compiler, when set, compiles each module in isolation (another
	// process, capped in memory, killed at the compile deadline) into the
	// compilation cache before the host loads it from there. It needs a
	// cache folder: CacheDir, else a Manager makes a temporary one. Nil:
	// modules compile in the host's own process, bounded only by their
	// shape and by a deadline checked between functions.
	Compiler Compiler
	// State keeps the plugins' key-value stores and timers; nil keeps them
	// in memory (MemoryState). A cluster shares them through its backend
	// (host/adapter/redis, Cluster.PluginState).
	State SharedState
}

// withDefaults fills the fields that do not depend on a plugin's Settings.
func (o Options) withDefaults() Options {
	if o.Logger == nil {
		l := zerolog.Nop()
		o.Logger = &l
	}
	return o
}

// limits returns the limits of a plugin with settings s.
func (o Options) limits(s Settings) Limits { return o.Limits.over(s.Limits).withDefaults() }

// compileWorkers is the number of goroutines compiling one module. At
// least two, so that wazero honours the compile deadline; at most two, so
// that a reload compiling in the background leaves the other cores to
// the clients.
const compileWorkers = 2

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
	tempDir  string // a cache folder of its own, removed by Close
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
	if m.cache == nil && opts.CacheDir == "" && opts.Compiler != nil {
		dir, err := tempCacheDir()
		if err != nil {
			return nil, fmt.Errorf("plugin: compilation cache: %w", err)
		}
		m.tempDir, m.opts.CacheDir = dir, dir
	}
	if m.cache == nil && m.opts.CacheDir != "" {
		c, err := wazero.NewCompilationCacheWithDir(m.opts.CacheDir)
		if err != nil {
			m.removeTemp()
			return nil, fmt.Errorf("plugin: compilation cache %s: %w", m.opts.CacheDir, err)
		}
		m.cache, m.ownCache = c, true
	}
	return m, nil
}

func (m *Manager) removeTemp() {
	if m.tempDir != "" {
		_ = os.RemoveAll(m.tempDir)
	}
}

// Load compiles and validates every .wasm in opts.Dir, with its Settings
// from opts.Settings, and creates its instances up front. Every invalid
// module is reported (errors are joined), each error naming the file and
// the problem; on error nothing stays loaded.
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
	s := opts.Settings[pluginName(path)]
	p := newPlugin(pluginName(path), opts, cache, opts.limits(s))
	v, st, err := p.load(ctx, path, s)
	if err != nil {
		p.timers.Stop()
		p.http.stop()
		p.logs.stop()
		p.warns.stop()
		return nil, err
	}
	st.apply(p)
	p.cur.Store(v)
	st.startTimers(p)
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
	m.removeTemp()
	return errors.Join(errs...)
}

// Stats are a plugin's counters since it was loaded, over all versions.
type Stats struct {
	// Calls is the number of guest calls made.
	Calls uint64
	// Faults is the number of calls that failed: trap, panic, exit,
	// deadline, out-of-memory, no instance in time or a non-zero result.
	Faults uint64
	// Refusals is the number of host function calls refused with an error
	// code that marks a guest's mistake or a limit (ERR_LIMIT,
	// ERR_NOT_ALLOWED, ERR_INVALID, ERR_MEMORY, ERR_FAILED).
	Refusals uint64
	// Instances is the number of instances created, by every version
	// (instances discarded after a fault are replaced: it grows with
	// them).
	Instances uint64
	// LiveInstances are the current version's instances alive, idle or
	// running a call; IdleInstances those of them idle, ready for a call.
	// Both are 0 once the plugin is closed.
	LiveInstances, IdleInstances int
	// Busy is the time spent running guest calls (host functions they
	// call included): the plugin's share of the CPU.
	Busy time.Duration
	// LogDropped counts log lines dropped by the rate limit and log bytes
	// dropped by the per-call bound.
	LogDropped uint64
	// PendingAckBytes are the context bytes of acks waiting for their
	// ACK_RESPONSE call.
	PendingAckBytes int64
	// KVEntries is the number of entries in the key-value store (expired
	// ones not yet reclaimed included); -1 when a shared store cannot
	// be reached.
	KVEntries int
	// KVBytes are the bytes of the key-value store's keys plus values,
	// as max_kv_bytes bounds them (expired entries not yet reclaimed
	// included); -1 when a shared store cannot be reached or its backend
	// cannot tell (not a KVSizer).
	KVBytes int
	// Timers is the number of pending timers; -1 when shared timers
	// cannot be reached.
	Timers int
	// HTTPInFlight is the number of outbound HTTP requests started whose
	// HTTP_RESPONSE call has not begun.
	HTTPInFlight int
	// CallsByKind counts the calls by call kind (index: abi.Kind).
	CallsByKind [abi.NumKinds]uint64
	// FaultsByKind counts the faults by kind (index: Fault*, named by
	// FaultKindNames).
	FaultsByKind [numFaultKinds]uint64
}

// Latency returns the histogram of the guest's time per call, labeled
// with the plugin's name, for a Prometheus collector.
func (p *Plugin) Latency() prometheus.Histogram { return p.latency }

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

	// callsBy counts the calls by kind, faultsBy the faults by kind
	// (Fault*); latency observes the guest's time per call.
	callsBy  [abi.NumKinds]atomic.Uint64
	faultsBy [numFaultKinds]atomic.Uint64
	latency  prometheus.Histogram

	kv     KVStore
	timers TimerStore
	// server runs the SERVER_EVENT and SERVER_ACK calls.
	server serverQueue
	// http are the outbound HTTP requests in flight.
	http httpRequests
	// logs bounds the guest's own log lines, warns the host's warnings
	// about the plugin (faults, refused host calls).
	logs, warns logLimiter

	// pendingAckBytes are the context bytes of acks awaiting their
	// ACK_RESPONSE (Limits.MaxPendingAckBytes).
	pendingAckBytes atomic.Int64

	calls, faults, refusals, instances atomic.Uint64
	busy                               atomic.Int64 // nanoseconds
}

func newPlugin(name string, opts Options, cache wazero.CompilationCache, lim Limits) *Plugin {
	p := &Plugin{name: name, opts: opts, cache: cache, log: opts.Logger.With().Str("plugin", name).Logger()}
	p.latency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:        "sockwasm_plugin_call_duration_seconds",
		Help:        "Time in the plugin's guest code per call (waiting for a slot or an instance excluded).",
		ConstLabels: prometheus.Labels{"plugin": name},
		Buckets:     []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
	})
	state := opts.State
	if state == nil {
		state = MemoryState{}
	}
	p.kv = state.KV(name)
	p.timers = state.Timers(name, p.timerCall)
	p.kv.SetLimits(stateLimits(lim, nil))
	p.timers.SetLimits(stateLimits(lim, nil))
	p.http.init(p)
	p.logs.init(&p.log, lim.LogLinesPerSecond, "plugin log lines")
	p.warns.init(&p.log, lim.LogLinesPerSecond, "warnings about the plugin")
	return p
}

// limits returns the limits of the current version, the defaults once the
// plugin is closed.
func (p *Plugin) limits() Limits {
	if v := p.cur.Load(); v != nil {
		return v.lim
	}
	return p.opts.limits(Settings{})
}

// version is one compiled module of a plugin with its instance pool.
type version struct {
	p        *Plugin
	path     string
	hash     string
	settings Settings // as given
	lim      Limits   // resolved: defaults, Options, Settings
	config   []byte   // JSON, {} when none
	grants   []string
	log      zerolog.Logger
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	modCfg   wazero.ModuleConfig
	exports  []string
	imports  []string
	// serving is when the version became current (Staged.Commit).
	serving time.Time
	// httpAllow are the URL prefixes http_request may reach.
	httpAllow []abi.HTTPPrefix

	pool pool

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
// and runs its INIT call (see build). The version is not yet current.
func (p *Plugin) load(ctx context.Context, path string, s Settings) (*version, *stage, error) {
	bin, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("plugin: %w", err)
	}
	return p.build(ctx, path, bin, s)
}

// moduleHash is the version hash of module bytes: hex sha256, first 12
// characters.
func moduleHash(bin []byte) string {
	sum := sha256.Sum256(bin)
	return hex.EncodeToString(sum[:])[:12]
}

// build makes a version of p from a module: checked against the module
// limits, compiled under CompileTimeout, validated, instantiated, given
// its INIT call. The version is not current. What INIT did to the
// plugin's state (timers, key-value writes) is staged in the returned
// stage: the caller applies it when it makes the version current (and
// starts its timers right after), and a refused version leaves the
// plugin's state as it was.
func (p *Plugin) build(ctx context.Context, path string, bin []byte, s Settings) (*version, *stage, error) {
	lim := p.opts.limits(s)
	v := &version{
		p:        p,
		path:     path,
		hash:     moduleHash(bin),
		settings: cloneSettings(s),
		lim:      lim,
		config:   s.Config,
		grants:   append([]string(nil), s.Grants...),
		done:     make(chan struct{}),
	}
	if len(v.config) == 0 {
		v.config = []byte("{}")
	}
	v.log = p.log.With().Str("version", v.hash).Logger()
	invalid := func(err error) error { return fmt.Errorf("%w: %s: %v", ErrInvalidModule, path, err) }
	allow, err := parseHTTPAllow(s.HTTPAllow)
	if err != nil {
		return nil, nil, fmt.Errorf("plugin: %s: http_allow: %w", path, err)
	}
	v.httpAllow = allow
	code, err := checkModule(bin, lim.Module)
	if err != nil {
		return nil, nil, invalid(err)
	}
	if c := p.opts.Compiler; c != nil && p.cache != nil && p.opts.CacheDir != "" {
		if err := c(ctx, code, p.opts.CacheDir, lim.Module); err != nil {
			return nil, nil, invalid(err)
		}
	}
	v.rt = wazero.NewRuntimeWithConfig(ctx, runtimeConfig(lim.MemoryPages, p.cache))
	fail := func(err error) (*version, *stage, error) {
		v.closed.Store(true)
		_ = v.rt.Close(context.Background())
		return nil, nil, err
	}
	// wazero checks the deadline between functions only when it compiles
	// with several workers.
	cctx, cancel := context.WithTimeout(experimental.WithCompilationWorkers(ctx, compileWorkers), lim.Module.CompileTimeout)
	compiled, err := v.rt.CompileModule(cctx, code)
	cancel()
	if err != nil {
		if cctx.Err() != nil && ctx.Err() == nil {
			err = fmt.Errorf("%w: compiling took longer than compile_timeout = %s", ErrModuleLimit, lim.Module.CompileTimeout)
		}
		return fail(invalid(err))
	}
	v.compiled = compiled
	if err := validate(compiled); err != nil {
		return fail(invalid(err))
	}
	if err := checkGrants(compiled, p.name, v.grants); err != nil {
		return fail(invalid(err))
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
	if _, err := hostModule(v.rt).Instantiate(ctx); err != nil {
		return fail(fmt.Errorf("plugin: %s: host module: %w", path, err))
	}
	v.modCfg = wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions(exportInitialize).
		WithSysWalltime().
		WithSysNanotime().
		WithRandSource(rand.Reader)
	inst, err := v.instantiate(ctx)
	if err != nil {
		return fail(invalid(fmt.Errorf("instantiate: %v", err)))
	}
	v.pool.init(v, inst)
	st, err := v.runInit()
	if err != nil {
		v.closeNow()
		return nil, nil, invalid(err)
	}
	v.pool.start()
	return v, st, nil
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
			fn, ok := abi.FuncByName(name)
			if !ok {
				return fmt.Errorf("imports unknown host function %s.%s", mod, name)
			}
			want := hostFuncs[fn]
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

// statsWait bounds how long Stats waits for a shared store's counts.
const statsWait = time.Second

// Stats returns the plugin's counters.
func (p *Plugin) Stats() Stats {
	// A shared store is asked at most statsWait: a metrics scrape never
	// waits for Redis for long.
	ctx, cancel := context.WithTimeout(context.Background(), statsWait)
	defer cancel()
	st := Stats{
		Calls: p.calls.Load(), Faults: p.faults.Load(), Refusals: p.refusals.Load(),
		Instances: p.instances.Load(), Busy: time.Duration(p.busy.Load()),
		LogDropped: p.logs.dropped.Load() + p.warns.dropped.Load(), PendingAckBytes: p.pendingAckBytes.Load(),
		Timers: p.timers.Len(ctx), HTTPInFlight: p.http.len(),
	}
	if sz, ok := p.kv.(KVSizer); ok {
		st.KVEntries, st.KVBytes = sz.Size(ctx)
	} else {
		st.KVEntries, st.KVBytes = p.kv.Len(ctx), -1
	}
	if v := p.cur.Load(); v != nil && v.pool.idle != nil {
		st.LiveInstances, st.IdleInstances = int(v.pool.live.Load()), len(v.pool.idle)
	}
	for i := range st.CallsByKind {
		st.CallsByKind[i] = p.callsBy[i].Load()
	}
	for i := range st.FaultsByKind {
		st.FaultsByKind[i] = p.faultsBy[i].Load()
	}
	return st
}

// Close stops the plugin: its timers are canceled and later calls fail
// fast; calls in flight finish on their version, which Close waits for (up
// to ctx) before it releases the runtime. Idempotent.
func (p *Plugin) Close(ctx context.Context) error {
	if p.closed.Swap(true) {
		return nil
	}
	p.timers.Stop()
	p.http.stop()
	p.server.stop()
	p.logs.stop()
	p.warns.stop()
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
		v.pool.stop()
		if err := v.rt.Close(context.Background()); err != nil {
			v.log.Warn().Err(err).Msg("closing runtime")
		}
		close(v.done)
	})
}

// closeNow closes a version that never served.
func (v *version) closeNow() {
	v.retired.Store(true)
	v.close()
}
