package router

import (
	"fmt"
	"sort"
	"strings"

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
	// eventMiddleware runs, in order, on every event before its handler.
	eventMiddleware []*plugin.Plugin
	handler         *plugin.Plugin
	events          map[string]*plugin.Plugin
	// patterns are the prefix routes ("chat:*"), longest prefix first.
	patterns []prefixRoute
	// lifecycle are the plugins told about connects and disconnects: the
	// handler and every event route's plugin, each once, in name order.
	lifecycle []*plugin.Plugin
}

type prefixRoute struct {
	prefix string
	key    string // the configured pattern, prefix + "*": the route's counter key
	p      *plugin.Plugin
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
	for _, m := range n.EventMiddleware {
		if p := get(m); p != nil {
			r.eventMiddleware = append(r.eventMiddleware, p)
		}
	}
	life := map[string]*plugin.Plugin{}
	if n.Handler != "" {
		if r.handler = get(n.Handler); r.handler != nil {
			life[n.Handler] = r.handler
		}
	}
	for ev, name := range n.Events {
		p := get(name)
		if p == nil {
			continue
		}
		life[name] = p
		if config.IsPattern(ev) {
			r.patterns = append(r.patterns, prefixRoute{strings.TrimSuffix(ev, "*"), ev, p})
		} else {
			r.events[ev] = p
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, &MissingPluginError{Namespace: n.Name, Plugins: dedupe(missing)}
	}
	sort.Slice(r.patterns, func(i, j int) bool { return longerFirst(r.patterns[i].prefix, r.patterns[j].prefix) })
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

// longerFirst orders prefixes longest first, then by name, so that the
// first match is the longest.
func longerFirst(a, b string) bool {
	if len(a) != len(b) {
		return len(a) > len(b)
	}
	return a < b
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

// Name returns the namespace name as configured ("/tenant-*" for a
// dynamic namespace).
func (r *Namespace) Name() string { return r.name }

// Uses reports whether the namespace routes anything to plugin name: its
// connection or event middleware, its handler, an event route. A nil
// Namespace uses nothing.
func (r *Namespace) Uses(name string) bool {
	if r == nil {
		return false
	}
	for _, ps := range [][]*plugin.Plugin{r.middleware, r.eventMiddleware, r.lifecycle} {
		for _, p := range ps {
			if p.Name() == name {
				return true
			}
		}
	}
	return false
}

// Route returns the plugin that handles event name: its exact route, else
// the longest matching prefix route, else the namespace's handler; nil when
// none.
func (r *Namespace) Route(name string) *plugin.Plugin {
	p, _ := r.route(name)
	return p
}

// Route keys of events that no configured event route names.
const (
	routeHandler = "(handler)" // went to the namespace's handler
	routeNone    = "(none)"    // no plugin took it
)

// route is Route with the configured key that matched: the event name,
// the pattern ("chat:*"), routeHandler or routeNone. Keys come from the
// configuration, so they are few whatever names clients send.
func (r *Namespace) route(name string) (*plugin.Plugin, string) {
	if p := r.events[name]; p != nil {
		return p, name
	}
	for _, pr := range r.patterns {
		if strings.HasPrefix(name, pr.prefix) {
			return pr.p, pr.key
		}
	}
	if r.handler != nil {
		return r.handler, routeHandler
	}
	return nil, routeNone
}

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

// OnEvent runs the event middleware chain, then hands the event to its
// route. The first middleware that rejects the event ends it: the handler
// is not called and, when the client asked for an ack, the ack carries the
// rejection ([{"error":…,"data":…}]). An event nobody handles is dropped,
// as with a Socket.IO server that has no listener for it.
func (r *Namespace) OnEvent(s *socketio.Socket, ev *socketio.Event) { r.onEvent(s, ev) }

// onEvent is OnEvent; it returns the plugin that took the event (its
// route), or the middleware that refused it, or neither (dropped), and
// the route's configured key.
func (r *Namespace) onEvent(s *socketio.Socket, ev *socketio.Event) (routed, refusedBy *plugin.Plugin, key string) {
	p, key := r.route(ev.Name)
	for _, m := range r.eventMiddleware {
		if rej := m.EventMiddleware(s, ev); rej != nil {
			if ev.HasAck {
				_ = s.Ack(ev.AckID, rej.AckArgs(), nil)
			}
			return nil, m, key
		}
	}
	if p != nil {
		p.Event(s, ev)
	}
	return p, nil, key
}

// OnServerEvent hands a server-side event from another node to the plugin
// that handles events of that name in this namespace (its route, else the
// handler), as OnEvent does for a client's event.
func (r *Namespace) OnServerEvent(n *socketio.Namespace, name string, args []byte, ack func([]byte)) {
	if p := r.Route(name); p != nil {
		p.ServerEvent(n.Name(), name, args, ack)
	}
}

// OnDisconnect tells every lifecycle plugin that the socket left.
func (r *Namespace) OnDisconnect(s *socketio.Socket, reason socketio.Reason, rooms []string) {
	for _, p := range r.lifecycle {
		p.Disconnect(s, reason, rooms)
	}
}

var _ socketio.NamespaceHandler = (*Namespace)(nil)
