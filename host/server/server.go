package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	redisadapter "github.com/sockwasm/sockwasm/host/adapter/redis"
	"github.com/sockwasm/sockwasm/host/admin"
	"github.com/sockwasm/sockwasm/host/config"
	"github.com/sockwasm/sockwasm/host/engineio"
	"github.com/sockwasm/sockwasm/host/plugin"
	"github.com/sockwasm/sockwasm/host/router"
	"github.com/sockwasm/sockwasm/host/socketio"
	wire "github.com/sockwasm/sockwasm/protocol/redisadapter"
)

// Server is one sockwasm node: the plugins, the Socket.IO server and its
// Engine.IO endpoints behind one HTTP handler.
//
// Lock order: reloadMu, then mu. Neither is held while writing to a
// connection.
type Server struct {
	log     zerolog.Logger
	rlog    zerolog.Logger // component "reload": reloads and the watcher
	plugins *plugin.Manager
	sio     *socketio.Server
	cluster *redisadapter.Cluster // nil with the memory adapter
	routes  *router.Router
	engines []*engineio.Server
	handler http.Handler

	// cfg is the configuration in use; a reload replaces it whole.
	cfg atomic.Pointer[config.Config]
	// staging is the configuration being applied while its plugin
	// versions are built (their INIT calls may send into its namespaces);
	// nil otherwise.
	staging atomic.Pointer[config.Config]
	// reloadMu serializes reloads (watcher, SIGHUP, tests).
	reloadMu sync.Mutex
	// setLog applies a reloaded [log] (WithLiveLog); nil: restart only.
	setLog func(config.Log)
	// reloads counts reloads by result (reloadCount → *atomic.Uint64).
	reloads sync.Map

	mu       sync.Mutex
	httpSrvs []*http.Server
	closed   bool
	watch    *watcher     // nil when not watching
	admin    *admin.Admin // nil unless [admin] enabled
}

// AdminUIPath is where [admin] ui_dir is served.
const AdminUIPath = "/admin/"

// startAdmin serves the admin namespace [admin] configures.
func (s *Server) startAdmin(cfg *config.Config) *admin.Admin {
	a := cfg.Admin
	l := s.log.With().Str("component", "admin").Logger()
	o := admin.Options{
		Server:     s.sio,
		Engine:     s.engines[0],
		Namespace:  a.Namespace,
		ReadOnly:   a.ReadOnly,
		Production: a.Mode == config.AdminProduction,
		ServerID:   a.ServerID,
		Clustered:  s.cluster != nil,
		Logger:     &l,
	}
	if a.AuthRequired() {
		o.Username, o.PasswordHash = a.Username, []byte(a.PasswordHash)
	} else {
		l.Warn().Str("nsp", a.Namespace).Msg("admin namespace without authentication ([admin] auth = false): anyone who reaches the server can watch and act on every socket")
	}
	return admin.New(o)
}

// stopAdmin stops the admin namespace's ticker and observer, if any.
func (s *Server) stopAdmin() {
	if s.admin != nil {
		s.admin.Close()
	}
}

// New loads the plugins cfg names and builds the server. It fails, naming
// the file and the problem, when a plugin does not load or a route names a
// plugin that is not there. When cfg.Watch is set, the plugins folder and
// the configuration file are watched until Shutdown (see Reload).
func New(ctx context.Context, cfg *config.Config, log zerolog.Logger, opts ...Option) (*Server, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if fi, err := os.Stat(cfg.PluginsDir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%s: plugins_dir %q is not a folder", cfgName(cfg), cfg.PluginsDir)
	}
	if cfg.StaticDir != "" {
		if fi, err := os.Stat(cfg.StaticDir); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("%s: static_dir %q is not a folder", cfgName(cfg), cfg.StaticDir)
		}
	}
	if cfg.Admin.Enabled && cfg.Admin.UIDir != "" {
		if _, err := os.Stat(filepath.Join(cfg.Admin.UIDir, "index.html")); err != nil {
			return nil, fmt.Errorf("%s: admin.ui_dir %q has no index.html: want the Admin UI's built files (node_modules/@socket.io/admin-ui/ui/dist)", cfgName(cfg), cfg.Admin.UIDir)
		}
	}
	// The cluster comes before the plugins: their key-value stores and
	// timers live in it.
	var cluster *redisadapter.Cluster
	var state plugin.SharedState // nil: in memory
	alog := log.With().Str("component", "adapter").Logger()
	plog := log.With().Str("component", "plugin").Logger()
	if cfg.Adapter.Clustered() {
		var err error
		cluster, err = redisadapter.New(redisadapter.Options{
			URL:            cfg.Adapter.URL,
			Key:            cfg.Adapter.Key,
			RequestTimeout: time.Duration(cfg.Adapter.RequestTimeout),
			Sharded:        cfg.Adapter.Kind == config.AdapterRedisSharded,
			Mode:           subscriptionMode(cfg.Adapter.SubscriptionMode),
			MaxAttachments: cfg.SocketIO.MaxAttachments,
			Logger:         &alog,
		})
		if err != nil {
			return nil, fmt.Errorf("%s: adapter: %w", cfgName(cfg), err)
		}
		state = cluster.PluginState()
	}
	s := &Server{log: log, rlog: log.With().Str("component", "reload").Logger(), cluster: cluster, setLog: o.setLog}
	s.cfg.Store(cfg)
	// The Socket.IO server and the configured namespaces come before the
	// plugins too, so that their INIT calls find the namespaces as on a
	// reload; the routes follow once the plugins are loaded.
	s.buildSocketIO(cfg)
	s.staging.Store(cfg)
	pm, err := plugin.Load(ctx, plugin.Options{
		Namespaces: func(name string) *socketio.Namespace { return s.sio.Of(name) },
		Serves:     s.serves,
		ServesAll:  func(name string) bool { return s.routes.Table().UsedEverywhere(name) },
		Dir:        cfg.PluginsDir,
		Compiler:   o.compiler,
		Limits:     pluginLimits(cfg.Limits),
		CacheDir:   cfg.CacheDir,
		Logger:     &plog,
		Settings:   allSettings(cfg),
		State:      state,
	})
	s.staging.Store(nil)
	if err != nil {
		s.closeCluster()
		return nil, err
	}
	s.plugins = pm
	if err := s.build(cfg); err != nil {
		_ = pm.Close(ctx)
		s.closeCluster()
		return nil, err
	}
	if cfg.Admin.Enabled {
		s.admin = s.startAdmin(cfg)
	}
	if cfg.Watch && cfg.File != "" {
		w, err := s.startWatcher(cfg)
		if err != nil {
			s.stopAdmin()
			_ = pm.Close(ctx)
			s.closeCluster()
			return nil, fmt.Errorf("%s: watch: %w", cfgName(cfg), err)
		}
		s.watch = w
	}
	return s, nil
}

// Option is an option of New.
type Option func(*options)

type options struct {
	compiler plugin.Compiler
	setLog   func(config.Log)
}

// WithLiveLog lets a reload change [log]: set applies the new level and
// format to the logger the server was given (the caller owns it; see
// cmd/sockwasm). Without it [log] only changes with a restart, and a
// reload that changes it is refused.
func WithLiveLog(set func(config.Log)) Option { return func(o *options) { o.setLog = set } }

// WithCompiler compiles the plugins with c, in isolation (see
// plugin.Compiler), instead of in the server's process.
func WithCompiler(c plugin.Compiler) Option { return func(o *options) { o.compiler = c } }

// settings converts a plugin's configured settings to the plugin host's.
func settings(cfg *config.Config, name string) plugin.Settings {
	ps := cfg.PluginSettings(name)
	return plugin.Settings{Grants: ps.Grants, Config: ps.Config, Limits: pluginLimits(ps.Limits), HTTPAllow: ps.HTTPAllow}
}

// pluginLimits converts configured plugin limits to the plugin host's;
// zero stays zero (the host's default).
func pluginLimits(l config.PluginLimits) plugin.Limits {
	return plugin.Limits{
		CallTimeout:        time.Duration(l.CallTimeout),
		MemoryPages:        l.MemoryPages,
		MaxConcurrency:     l.MaxConcurrency,
		PoolSize:           l.PoolSize,
		MaxSocketData:      l.MaxSocketData,
		MaxKVValue:         l.MaxKVValue,
		MaxKVEntries:       l.MaxKVEntries,
		MaxKVBytes:         l.MaxKVBytes,
		MaxTimers:          l.MaxTimers,
		MaxSendsPerCall:    l.MaxSendsPerCall,
		MaxEmitBytes:       l.MaxEmitBytes,
		MaxDeferredPerCall: l.MaxDeferredPerCall,
		MaxCallChain:       l.MaxCallChain,
		MaxAckContext:      l.MaxAckContext,
		MaxPendingAckBytes: l.MaxPendingAckBytes,
		MaxLogBytesPerCall: l.MaxLogBytesPerCall,
		LogLinesPerSecond:  l.LogLinesPerSecond,
		// Outbound HTTP.
		MaxHTTPConcurrent:    l.MaxHTTPConcurrent,
		HTTPTimeout:          time.Duration(l.HTTPTimeout),
		MaxHTTPResponseBytes: l.MaxHTTPResponseBytes,
		MaxHTTPRequestBytes:  l.MaxHTTPRequestBytes,
		Module: plugin.ModuleLimits{
			MaxBytes:         l.MaxModuleBytes,
			MaxFunctions:     l.MaxFunctions,
			MaxGlobals:       l.MaxGlobals,
			MaxLocals:        l.MaxLocals,
			MaxFunctionBytes: l.MaxFunctionBytes,
			MaxTableElements: l.MaxTableElements,
			CompileTimeout:   time.Duration(l.CompileTimeout),
			CompileMemory:    l.MaxCompileMemory,
		},
	}
}

// allSettings returns the settings of every plugin the configuration or
// the plugins folder names.
func allSettings(cfg *config.Config) map[string]plugin.Settings {
	out := map[string]plugin.Settings{}
	for name := range cfg.Plugins {
		out[name] = settings(cfg, name)
	}
	files, _ := filepath.Glob(filepath.Join(cfg.PluginsDir, "*.wasm"))
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".wasm")
		out[name] = settings(cfg, name)
	}
	return out
}

func cfgName(cfg *config.Config) string {
	if cfg.File == "" {
		return "built-in configuration"
	}
	return cfg.File
}

func (s *Server) engineOptions(c *config.Config, path string) engineio.Options {
	l := s.log.With().Str("component", "engine").Str("path", path).Logger()
	return engineio.Options{
		Path:           path,
		PingInterval:   time.Duration(c.Engine.PingInterval),
		PingTimeout:    time.Duration(c.Engine.PingTimeout),
		MaxPayload:     c.Engine.MaxPayload,
		UpgradeTimeout: time.Duration(c.Engine.UpgradeTimeout),
		WriteQueueSize: c.Engine.WriteQueue,
		MaxSessions:    c.Engine.MaxSessions,
		CORS:           engineio.CORSOptions{Origins: c.CORS.Origins, Credentials: c.CORS.Credentials},
		Logger:         &l,

		WriteQueueBytes:   c.Engine.WriteQueueBytes,
		WriteTimeout:      time.Duration(c.Engine.WriteTimeout),
		ReadTimeout:       time.Duration(c.HTTP.ReadTimeout),
		MaxHeaderBytes:    c.HTTP.MaxHeaderBytes,
		IdleTimeout:       time.Duration(c.HTTP.IdleTimeout),
		ReadHeaderTimeout: time.Duration(c.HTTP.ReadHeaderTimeout),

		DisableHTTPCompression:     !c.Engine.HTTPCompression,
		HTTPCompressionThreshold:   c.Engine.HTTPCompressionThreshold,
		PerMessageDeflate:          c.Engine.PerMessageDeflate,
		PerMessageDeflateThreshold: c.Engine.PerMessageDeflateThreshold,
	}
}

// serves is plugin.Options.Serves: whether the routes serve namespace
// nsp with plugin name, those in use or, while a configuration is being
// applied (at start, or a reload building its versions), its routes.
func (s *Server) serves(name, nsp string) bool {
	if c := s.staging.Load(); c != nil && router.ConfigUses(c.Namespace, nsp, name) {
		return true
	}
	return s.routes.Table().Lookup(nsp).Uses(name)
}

// parser maps socketio.parser (validated) to the Socket.IO server's.
func parser(name string) socketio.Parser {
	if name == config.ParserMsgpack {
		return socketio.ParserMsgpack
	}
	return socketio.ParserJSON
}

// buildSocketIO makes the Socket.IO server, with no routes yet, and
// registers the exact namespaces c configures.
func (s *Server) buildSocketIO(c *config.Config) {
	slog := s.log.With().Str("component", "socket").Logger()
	sc := c.SocketIO
	s.sio = socketio.New(socketio.Options{
		ConnectTimeout:             time.Duration(sc.ConnectTimeout),
		MaxAttachments:             sc.MaxAttachments,
		MaxPendingAcks:             sc.MaxPendingAcks,
		MaxRoomsPerSocket:          sc.MaxRoomsPerSocket,
		MaxRoomName:                sc.MaxRoomName,
		MaxNamespaceName:           sc.MaxNamespaceName,
		MaxDynamicNamespaces:       sc.MaxDynamicNamespaces,
		MaxSocketsPerSession:       sc.MaxSocketsPerSession,
		MaxAuthBytes:               sc.MaxAuthBytes,
		MaxBroadcastAckBytes:       sc.MaxBroadcastAckBytes,
		KeepEmptyDynamicNamespaces: sc.KeepEmptyNamespaces,
		Parser:                     parser(sc.Parser),
		NewAdapter:                 s.newAdapter(),
		Logger:                     &slog,
	})
	empty, _ := router.Build(nil, nil)
	s.routes = router.NewRouter(empty)
	s.routes.SetLogger(s.log.With().Str("component", "router").Logger())
	s.sio.SetResolver(s.routes.Resolve)
	for _, n := range c.Namespace {
		if !config.IsPattern(n.Name) && s.sio.Of(n.Name) == nil {
			s.sio.Handle(n.Name, s.routes.Handler(n.Name))
		}
	}
}

// build routes c's namespaces to the loaded plugins and makes the HTTP
// handler of every endpoint.
func (s *Server) build(c *config.Config) error {
	var errs []error
	table, err := router.Build(c.Namespace, s.plugins.Get)
	if err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", cfgName(c), err))
	} else {
		s.routes.Swap(table)
		s.registerExact(table)
	}
	mux := http.NewServeMux()
	eng := engineio.New(s.engineOptions(c, c.Path), s.sio)
	s.engines = append(s.engines, eng)
	mux.Handle(c.Path, eng)
	for _, e := range c.Endpoints {
		p := s.plugins.Get(e.Plugin)
		if p == nil {
			errs = append(errs, fmt.Errorf("%s: engine_endpoint %q routes to plugin %q, which is not loaded from %s",
				cfgName(c), e.Path, e.Plugin, c.PluginsDir))
			continue
		}
		ee := engineio.New(s.engineOptions(c, e.Path), p.EngineHandler())
		s.engines = append(s.engines, ee)
		mux.Handle(e.Path, ee)
	}
	if c.StaticDir != "" {
		mux.Handle("/", http.FileServer(http.Dir(c.StaticDir)))
	}
	if c.Admin.Enabled && c.Admin.UIDir != "" {
		mux.Handle(AdminUIPath, http.StripPrefix(AdminUIPath, http.FileServer(http.Dir(c.Admin.UIDir))))
	}
	s.handler = mux
	return errors.Join(errs...)
}

// registerExact registers, with the Socket.IO server, every exact
// namespace of t that is not registered yet. Dynamic namespaces are
// created on their first connection through the resolver.
func (s *Server) registerExact(t *router.Table) {
	for _, name := range t.Exact() {
		if s.sio.Of(name) == nil {
			s.sio.Handle(name, s.routes.Handler(name))
		}
	}
}

// Config returns the configuration in use (the last one a reload applied).
// It must not be modified.
func (s *Server) Config() *config.Config { return s.cfg.Load() }

// Handler returns the HTTP handler of every endpoint.
func (s *Server) Handler() http.Handler { return s.handler }

// SocketIO returns the Socket.IO server.
func (s *Server) SocketIO() *socketio.Server { return s.sio }

// Plugins returns the plugin manager.
func (s *Server) Plugins() *plugin.Manager { return s.plugins }

// Serve accepts connections on ln until Shutdown. It returns
// http.ErrServerClosed after a Shutdown.
//
// The [http] limits of the configuration apply: idle keep-alive
// connections are closed after idle_timeout, headers must arrive within
// read_header_timeout and net/http refuses headers past max_header_bytes
// (the Engine.IO endpoints answer 431 at max_header_bytes themselves).
// They are read when Serve starts; changing them needs a restart.
func (s *Server) Serve(ln net.Listener) error {
	c := s.cfg.Load()
	hs := &http.Server{Handler: s.handler, ErrorLog: nil}
	engineio.ConfigureHTTPServer(hs, s.engineOptions(c, c.Path))
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return http.ErrServerClosed
	}
	s.httpSrvs = append(s.httpSrvs, hs)
	s.mu.Unlock()
	return hs.Serve(ln)
}

// Shutdown stops watching for changes, stops accepting connections,
// disconnects every socket with "server shutting down" (their queues
// flushed), waits for in-flight requests until ctx ends, then releases the
// plugins. It is idempotent.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	srvs := s.httpSrvs
	w := s.watch
	s.mu.Unlock()

	var errs []error
	if w != nil {
		w.stop()
	}
	s.stopAdmin()
	if err := s.sio.Shutdown(ctx); err != nil {
		errs = append(errs, err)
	}
	// The sockets are gone: leave the cluster (other nodes stop counting
	// this one as its subscriptions end).
	s.closeCluster()
	for _, e := range s.engines {
		if err := e.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	for _, hs := range srvs {
		if err := hs.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	// A reload still running holds reloadMu; wait for it so that it does
	// not use the plugins once they are closed.
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if err := s.plugins.Close(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// newAdapter returns the socketio.Options.NewAdapter of the configured
// adapter: nil (in memory) unless the server is in a cluster.
func (s *Server) newAdapter() func(*socketio.Namespace) socketio.Adapter {
	if s.cluster == nil {
		return nil
	}
	return s.cluster.NewAdapter
}

// closeCluster leaves the cluster, if the server is in one.
func (s *Server) closeCluster() {
	if s.cluster != nil {
		if err := s.cluster.Close(); err != nil {
			s.log.Debug().Err(err).Msg("closing the redis connections")
		}
	}
}

// subscriptionMode is the sharded adapter's mode named m (config
// checked).
func subscriptionMode(m string) wire.SubscriptionMode {
	switch m {
	case config.SubscriptionStatic:
		return wire.ModeStatic
	case config.SubscriptionDynamicPrivate:
		return wire.ModeDynamicPrivate
	}
	return wire.ModeDynamic
}
