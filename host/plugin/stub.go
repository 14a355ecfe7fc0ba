package plugin

// STUB: replaced by the real implementation. Signatures are the contract
// other packages compile against; bodies are placeholders.

import (
	"context"
	"time"

	"github.com/rs/zerolog"
	"github.com/sockwasm/sockwasm/host/engineio"
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
	// MemoryLimitPages bounds a guest's linear memory (64 KiB pages). Default 1024 (64 MiB).
	MemoryLimitPages uint32
	// CacheDir holds wazero's compilation cache; empty means none.
	CacheDir string
	// Logger receives host logs and guest stdout/stderr.
	Logger *zerolog.Logger
}

// Manager holds the loaded plugins.
type Manager struct{}

// Load compiles and validates every .wasm in opts.Dir. An invalid module is
// an error naming the file and the problem.
func Load(ctx context.Context, opts Options) (*Manager, error) { panic("stub") }

// Get returns a plugin by name (file name without .wasm), or nil.
func (m *Manager) Get(name string) *Plugin { panic("stub") }

// Names returns the loaded plugin names, sorted.
func (m *Manager) Names() []string { panic("stub") }

// Close releases every runtime.
func (m *Manager) Close(ctx context.Context) error { panic("stub") }

// Plugin is one loaded module with its instance pool.
type Plugin struct{}

// Name returns the plugin name.
func (p *Plugin) Name() string { panic("stub") }

// Middleware runs the guest's connection middleware for s; nil accepts.
// A guest fault rejects with a generic error.
func (p *Plugin) Middleware(s *socketio.Socket) *socketio.ConnectError { panic("stub") }

// Connect tells the guest that s connected.
func (p *Plugin) Connect(s *socketio.Socket) { panic("stub") }

// Event hands ev to the guest. On a guest fault the event is acked with an
// error object when the client asked for an ack.
func (p *Plugin) Event(s *socketio.Socket, ev *socketio.Event) { panic("stub") }

// Disconnect tells the guest that s left with reason and its rooms.
func (p *Plugin) Disconnect(s *socketio.Socket, reason socketio.Reason, rooms []string) {
	panic("stub")
}

// EngineHandler serves a bare Engine.IO endpoint with this plugin.
func (p *Plugin) EngineHandler() engineio.Handler { panic("stub") }
