package router

import (
	"errors"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/rs/zerolog"

	"github.com/sockwasm/sockwasm/host/config"
	"github.com/sockwasm/sockwasm/host/internal/logsafe"
	"github.com/sockwasm/sockwasm/host/socketio"
)

// Table is the routing of every configured namespace: exact names and
// dynamic (pattern) namespaces. It is immutable; a reload builds a new one
// and swaps it in a Router.
type Table struct {
	exact    map[string]*Namespace
	patterns []*Namespace // longest prefix first
}

// Build compiles every configured namespace. The error joins one
// *MissingPluginError per namespace that routes to plugins not loaded.
func Build(nsps []config.Namespace, lookup Lookup) (*Table, error) {
	t := &Table{exact: make(map[string]*Namespace, len(nsps))}
	var errs []error
	for _, n := range nsps {
		r, err := New(n, lookup)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if config.IsPattern(n.Name) {
			t.patterns = append(t.patterns, r)
		} else {
			t.exact[n.Name] = r
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sort.Slice(t.patterns, func(i, j int) bool {
		return longerFirst(t.patterns[i].name, t.patterns[j].name)
	})
	return t, nil
}

// Lookup returns the routes of namespace name: its exact entry, else the
// dynamic namespace with the longest matching prefix, else nil.
func (t *Table) Lookup(name string) *Namespace {
	if t == nil {
		return nil
	}
	if r := t.exact[name]; r != nil {
		return r
	}
	for _, r := range t.patterns {
		if strings.HasPrefix(name, strings.TrimSuffix(r.name, "*")) {
			return r
		}
	}
	return nil
}

// UsedEverywhere reports whether every namespace of the table, exact and
// pattern, routes something to plugin name (Namespace.Uses): then no
// session can hold a socket that plugin has no part in.
func (t *Table) UsedEverywhere(name string) bool {
	if t == nil || len(t.exact)+len(t.patterns) == 0 {
		return false
	}
	for _, r := range t.exact {
		if !r.Uses(name) {
			return false
		}
	}
	for _, r := range t.patterns {
		if !r.Uses(name) {
			return false
		}
	}
	return true
}

// Exact returns the names of the namespaces without a pattern, sorted.
func (t *Table) Exact() []string {
	out := make([]string, 0, len(t.exact))
	for n := range t.exact {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Router serves Socket.IO namespaces from the current Table, which Swap
// replaces atomically: new connections and the events of existing sockets
// use the new routes from then on. It never blocks a connection or event
// while a reload builds the next table.
type Router struct {
	table atomic.Pointer[Table]
	log   atomic.Pointer[zerolog.Logger] // component "router"; nil: silent
	// counts are the counters of what the router saw (Counts), kept
	// across reloads; their keys come from the configuration.
	counts sync.Map // Count → *atomic.Uint64
}

// Count identifies one counter of a Router: Kind "event" (Key the route's
// configured key — the event name, a pattern, "(handler)" or "(none)" —
// and Outcome "routed", "refused" or "dropped"), "connect" (Outcome
// "accepted" or "refused") or "disconnect" (Outcome the reason).
// Namespace is the configured name (a pattern for a dynamic namespace).
type Count struct {
	Kind, Namespace, Key, Outcome string
}

func (r *Router) count(c Count) {
	v, ok := r.counts.Load(c)
	if !ok {
		v, _ = r.counts.LoadOrStore(c, new(atomic.Uint64))
	}
	v.(*atomic.Uint64).Add(1)
}

// Counts calls f with every counter and its value.
func (r *Router) Counts(f func(Count, uint64)) {
	r.counts.Range(func(k, v any) bool {
		f(k.(Count), v.(*atomic.Uint64).Load())
		return true
	})
}

// SetLogger makes the router log, at debug level, what becomes of each
// event: the plugin it went to, the middleware that refused it, or that
// no route took it.
func (r *Router) SetLogger(l zerolog.Logger) { r.log.Store(&l) }

// NewRouter returns a router serving t.
func NewRouter(t *Table) *Router {
	r := &Router{}
	r.table.Store(t)
	return r
}

// Table returns the table in use.
func (r *Router) Table() *Table { return r.table.Load() }

// Swap makes t the table in use and returns the previous one.
func (r *Router) Swap(t *Table) *Table { return r.table.Swap(t) }

// Handler returns the socketio.NamespaceHandler of concrete namespace
// name, bound to the router rather than to one table, so that it follows
// every swap. It is for socketio.Server.Handle.
func (r *Router) Handler(name string) socketio.NamespaceHandler {
	b := &binding{r: r, name: name}
	if n := r.Table().Lookup(name); n != nil {
		b.last.Store(n)
	}
	return b
}

// Resolve is a socketio.Resolver: it returns a handler for name when the
// current table serves it (through a dynamic namespace), else nil.
func (r *Router) Resolve(name string) socketio.NamespaceHandler {
	n := r.Table().Lookup(name)
	if n == nil {
		return nil
	}
	b := &binding{r: r, name: name}
	b.last.Store(n)
	return b
}

// binding serves one concrete namespace from the router's current table.
// When a reload removes the namespace, new connections are refused with
// "Invalid namespace" while the sockets already connected keep the routes
// they last had (they are never disconnected by a reload).
type binding struct {
	r    *Router
	name string
	last atomic.Pointer[Namespace]
}

// current returns the namespace's routes in the table in use, remembering
// them; ok is false when the table no longer serves the namespace (the last
// routes known are returned then, nil if none).
func (b *binding) current() (n *Namespace, ok bool) {
	if n := b.r.Table().Lookup(b.name); n != nil {
		if b.last.Load() != n {
			b.last.Store(n)
		}
		return n, true
	}
	return b.last.Load(), false
}

func (b *binding) Authorize(s *socketio.Socket) *socketio.ConnectError {
	n, ok := b.current()
	if !ok || n == nil {
		return &socketio.ConnectError{Message: "Invalid namespace"}
	}
	err := n.Authorize(s)
	outcome := "accepted"
	if err != nil {
		outcome = "refused"
	}
	b.r.count(Count{Kind: "connect", Namespace: n.Name(), Outcome: outcome})
	return err
}

func (b *binding) OnServerEvent(n *socketio.Namespace, name string, args []byte, ack func([]byte)) {
	if r, _ := b.current(); r != nil {
		r.OnServerEvent(n, name, args, ack)
	}
}

func (b *binding) OnConnect(s *socketio.Socket) {
	if n, _ := b.current(); n != nil {
		n.OnConnect(s)
	}
}

func (b *binding) OnEvent(s *socketio.Socket, ev *socketio.Event) {
	n, _ := b.current()
	if n == nil {
		return
	}
	routed, refused, key := n.onEvent(s, ev)
	outcome := "routed"
	switch {
	case refused != nil:
		outcome = "refused"
	case routed == nil:
		outcome = "dropped"
	}
	b.r.count(Count{Kind: "event", Namespace: n.Name(), Key: key, Outcome: outcome})
	l := b.r.log.Load()
	if l == nil {
		return
	}
	if e := l.Debug(); e.Enabled() {
		e = e.Str("sid", s.SessionID()).Str("socket", s.ID()).Str("nsp", n.Name()).Str("event", logsafe.String(ev.Name, 128))
		switch {
		case refused != nil:
			e.Str("middleware", refused.Name()).Msg("event refused")
		case routed != nil:
			e.Str("plugin", routed.Name()).Msg("event routed")
		default:
			e.Msg("event not routed: dropped")
		}
	}
}

func (b *binding) OnDisconnect(s *socketio.Socket, reason socketio.Reason, rooms []string) {
	if n, _ := b.current(); n != nil {
		b.r.count(Count{Kind: "disconnect", Namespace: n.Name(), Outcome: string(reason)})
		n.OnDisconnect(s, reason, rooms)
	}
}

var _ socketio.NamespaceHandler = (*binding)(nil)

// ConfigUses reports whether the configured namespaces nsps, looked up as
// a Table built from them would (Table.Lookup: the exact name, else the
// longest matching pattern), route anything of namespace nsp to plugin:
// Namespace.Uses before the plugins are loaded.
func ConfigUses(nsps []config.Namespace, nsp, plugin string) bool {
	var best *config.Namespace
	for i := range nsps {
		n := &nsps[i]
		switch {
		case n.Name == nsp:
			best = n
		case config.IsPattern(n.Name) && strings.HasPrefix(nsp, strings.TrimSuffix(n.Name, "*")):
			if best == nil || best.Name != nsp && longerFirst(n.Name, best.Name) {
				best = n
			}
		default:
			continue
		}
		if best.Name == nsp {
			break
		}
	}
	if best == nil {
		return false
	}
	if best.Handler == plugin || slices.Contains(best.Middleware, plugin) || slices.Contains(best.EventMiddleware, plugin) {
		return true
	}
	for _, p := range best.Events {
		if p == plugin {
			return true
		}
	}
	return false
}
