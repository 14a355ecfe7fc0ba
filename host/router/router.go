package router

import (
	"fmt"
	"sort"

	"github.com/sockwasm/sockwasm/host/config"
	"github.com/sockwasm/sockwasm/host/plugin"
	"github.com/sockwasm/sockwasm/host/socketio"
)

// Lookup finds a loaded plugin by name; it returns nil when there is none.
type Lookup func(name string) *plugin.Plugin

// Namespace routes one namespace's connections and events to plugins. It
// implements socketio.NamespaceHandler. It is immutable once built, so a
// new routing table can replace it whole.
type Namespace struct {
	name       string
	middleware []*plugin.Plugin
	handler    *plugin.Plugin
	events     map[string]*plugin.Plugin
	// lifecycle are the plugins told about connects and disconnects: the
	// handler and every event route's plugin, each once, in name order.
	lifecycle []*plugin.Plugin
}

// New compiles the routes of one configured namespace. Every plugin it
// names must be loaded; the error lists those that are not.
func New(n config.Namespace, lookup Lookup) (*Namespace, error) {
	r := &Namespace{name: n.Name, events: make(map[string]*plugin.Plugin, len(n.Events))}
	var missing []string
	get := func(name string) *plugin.Plugin {
		p := lookup(name)
		if p == nil {
			missing = append(missing, name)
		}
		return p
	}
	for _, m := range n.Middleware {
		if p := get(m); p != nil {
			r.middleware = append(r.middleware, p)
		}
	}
	life := map[string]*plugin.Plugin{}
	if n.Handler != "" {
		if r.handler = get(n.Handler); r.handler != nil {
			life[n.Handler] = r.handler
		}
	}
	for ev, name := range n.Events {
		if p := get(name); p != nil {
			r.events[ev] = p
			life[name] = p
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, &MissingPluginError{Namespace: n.Name, Plugins: dedupe(missing)}
	}
	names := make([]string, 0, len(life))
	for name := range life {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		r.lifecycle = append(r.lifecycle, life[name])
	}
	return r, nil
}

// MissingPluginError says which plugins a namespace routes to are not loaded.
type MissingPluginError struct {
	Namespace string
	Plugins   []string
}

// Error names the namespace and the missing plugins.
func (e *MissingPluginError) Error() string {
	return fmt.Sprintf("router: namespace %q routes to plugins that are not loaded: %v", e.Namespace, e.Plugins)
}

func dedupe(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// Name returns the namespace name.
func (r *Namespace) Name() string { return r.name }

// Authorize runs the connection middleware chain in order; the first
// rejection wins.
func (r *Namespace) Authorize(s *socketio.Socket) *socketio.ConnectError {
	for _, p := range r.middleware {
		if err := p.Middleware(s); err != nil {
			return err
		}
	}
	return nil
}

// OnConnect tells every lifecycle plugin about the new socket.
func (r *Namespace) OnConnect(s *socketio.Socket) {
	for _, p := range r.lifecycle {
		p.Connect(s)
	}
}

// OnEvent hands the event to its route, else to the namespace's handler.
// An event nobody handles is dropped, as with a Socket.IO server that has
// no listener for it.
func (r *Namespace) OnEvent(s *socketio.Socket, ev *socketio.Event) {
	p := r.events[ev.Name]
	if p == nil {
		p = r.handler
	}
	if p != nil {
		p.Event(s, ev)
	}
}

// OnDisconnect tells every lifecycle plugin that the socket left.
func (r *Namespace) OnDisconnect(s *socketio.Socket, reason socketio.Reason, rooms []string) {
	for _, p := range r.lifecycle {
		p.Disconnect(s, reason, rooms)
	}
}

var _ socketio.NamespaceHandler = (*Namespace)(nil)
