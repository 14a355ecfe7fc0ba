package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/sockwasm/sockwasm/host/config"
	"github.com/sockwasm/sockwasm/host/engineio"
	"github.com/sockwasm/sockwasm/host/plugin"
	"github.com/sockwasm/sockwasm/host/router"
	"github.com/sockwasm/sockwasm/host/socketio"
)

// Server is one sockwasm node: the plugins, the Socket.IO server and its
// Engine.IO endpoints behind one HTTP handler.
type Server struct {
	cfg     *config.Config
	log     zerolog.Logger
	plugins *plugin.Manager
	sio     *socketio.Server
	engines []*engineio.Server
	handler http.Handler

	mu       sync.Mutex
	httpSrvs []*http.Server
	closed   bool
}

// New loads the plugins cfg names and builds the server. It fails, naming
// the file and the problem, when a plugin does not load or a route names a
// plugin that is not there.
func New(ctx context.Context, cfg *config.Config, log zerolog.Logger) (*Server, error) {
	if fi, err := os.Stat(cfg.PluginsDir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%s: plugins_dir %q is not a folder", cfgName(cfg), cfg.PluginsDir)
	}
	if cfg.StaticDir != "" {
		if fi, err := os.Stat(cfg.StaticDir); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("%s: static_dir %q is not a folder", cfgName(cfg), cfg.StaticDir)
		}
	}
	pm, err := plugin.Load(ctx, plugin.Options{
		Dir:              cfg.PluginsDir,
		CallTimeout:      time.Duration(cfg.Limits.CallTimeout),
		PoolSize:         cfg.Limits.PoolSize,
		MemoryLimitPages: cfg.Limits.MemoryPages,
		CacheDir:         cfg.CacheDir,
		Logger:           &log,
	})
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, plugins: pm}
	if err := s.build(); err != nil {
		_ = pm.Close(ctx)
		return nil, err
	}
	return s, nil
}

func cfgName(cfg *config.Config) string {
	if cfg.File == "" {
		return "built-in configuration"
	}
	return cfg.File
}

func (s *Server) engineOptions(path string) engineio.Options {
	c := s.cfg
	l := s.log.With().Str("path", path).Logger()
	return engineio.Options{
		Path:           path,
		PingInterval:   time.Duration(c.Engine.PingInterval),
		PingTimeout:    time.Duration(c.Engine.PingTimeout),
		MaxPayload:     c.Engine.MaxPayload,
		UpgradeTimeout: time.Duration(c.Engine.UpgradeTimeout),
		WriteQueueSize: c.Engine.WriteQueue,
		CORS:           engineio.CORSOptions{Origins: c.CORS.Origins, Credentials: c.CORS.Credentials},
		Logger:         &l,
	}
}

func (s *Server) build() error {
	c := s.cfg
	var errs []error
	slog := s.log.With().Str("layer", "socketio").Logger()
	s.sio = socketio.New(socketio.Options{
		ConnectTimeout: time.Duration(c.SocketIO.ConnectTimeout),
		Logger:         &slog,
	})
	for _, n := range c.Namespace {
		r, err := router.New(n, s.plugins.Get)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", cfgName(c), err))
			continue
		}
		s.sio.Handle(n.Name, r)
	}
	mux := http.NewServeMux()
	eng := engineio.New(s.engineOptions(c.Path), s.sio)
	s.engines = append(s.engines, eng)
	mux.Handle(c.Path, eng)
	for _, e := range c.Endpoints {
		p := s.plugins.Get(e.Plugin)
		if p == nil {
			errs = append(errs, fmt.Errorf("%s: engine_endpoint %q routes to plugin %q, which is not loaded from %s",
				cfgName(c), e.Path, e.Plugin, c.PluginsDir))
			continue
		}
		ee := engineio.New(s.engineOptions(e.Path), p.EngineHandler())
		s.engines = append(s.engines, ee)
		mux.Handle(e.Path, ee)
	}
	if c.StaticDir != "" {
		mux.Handle("/", http.FileServer(http.Dir(c.StaticDir)))
	}
	s.handler = mux
	return errors.Join(errs...)
}

// Handler returns the HTTP handler of every endpoint.
func (s *Server) Handler() http.Handler { return s.handler }

// SocketIO returns the Socket.IO server.
func (s *Server) SocketIO() *socketio.Server { return s.sio }

// Plugins returns the plugin manager.
func (s *Server) Plugins() *plugin.Manager { return s.plugins }

// Serve accepts connections on ln until Shutdown. It returns
// http.ErrServerClosed after a Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          nil,
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return http.ErrServerClosed
	}
	s.httpSrvs = append(s.httpSrvs, hs)
	s.mu.Unlock()
	return hs.Serve(ln)
}

// Shutdown stops accepting connections, disconnects every socket with
// "server shutting down" (their queues flushed), waits for in-flight
// requests until ctx ends, then releases the plugins. It is idempotent.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	srvs := s.httpSrvs
	s.mu.Unlock()

	var errs []error
	if err := s.sio.Shutdown(ctx); err != nil {
		errs = append(errs, err)
	}
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
	if err := s.plugins.Close(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
