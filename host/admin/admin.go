package admin

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/sockwasm/sockwasm/host/engineio"
	"github.com/sockwasm/sockwasm/host/socketio"
	sp "github.com/sockwasm/sockwasm/protocol/socketio"
)

// Defaults and bounds of Options.
const (
	DefaultNamespace     = "/admin"
	DefaultStatsInterval = 2 * time.Second
	// MaxListedSockets bounds the sockets one "all_sockets" lists.
	MaxListedSockets = 10000
)

// Features the UI may use, as @socket.io/admin-ui names them.
const (
	FeatureEmit             = "EMIT"
	FeatureJoin             = "JOIN"
	FeatureLeave            = "LEAVE"
	FeatureDisconnect       = "DISCONNECT"
	FeatureMJoin            = "MJOIN"
	FeatureMLeave           = "MLEAVE"
	FeatureMDisconnect      = "MDISCONNECT"
	FeatureAggregatedEvents = "AGGREGATED_EVENTS"
	FeatureAllEvents        = "ALL_EVENTS"
)

// Options configures an Admin.
type Options struct {
	// Server is the Socket.IO server to watch and act on.
	Server *socketio.Server
	// Engine, when set, gives the Engine.IO figures of "server_stats":
	// clients, polling clients and the aggregated events.
	Engine *engineio.Server
	// Namespace is the admin namespace. Default "/admin".
	Namespace string
	// Username and PasswordHash (bcrypt) are the credentials the UI must
	// send. A nil PasswordHash turns authentication off.
	Username     string
	PasswordHash []byte
	// ReadOnly refuses the UI's actions: emit, join, leave, disconnect.
	ReadOnly bool
	// Production sends only "server_stats", not every socket and event.
	Production bool
	// ServerID names this node in the UI. Default: the host name.
	ServerID string
	// Clustered tells that the admin namespace is shared with other
	// nodes (a Redis adapter): then what happens here is sent even when
	// no admin socket is connected to this node, for those of the others.
	Clustered bool
	// StatsInterval is the period of "server_stats". Default 2s.
	StatsInterval time.Duration
	// Logger receives the admin's logs. Default: disabled.
	Logger *zerolog.Logger
}

// Admin is the admin namespace's handler (socketio.NamespaceHandler) and
// the server's observer (socketio.Observer).
type Admin struct {
	opts     Options
	log      zerolog.Logger
	ns       *socketio.Namespace
	features []string
	auth     *authenticator
	started  time.Time
	hostname string
	pid      int

	mu sync.Mutex
	// polling holds the local sockets last reported on polling, with
	// their session: an upgrade is reported at the next stats tick.
	polling map[*socketio.Socket]struct{}
	// last are the engine's counters at the previous stats tick.
	last engineio.Counters

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// New registers the admin namespace on o.Server, installs the observer
// and starts the "server_stats" ticker, until Close.
func New(o Options) *Admin {
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.StatsInterval <= 0 {
		o.StatsInterval = DefaultStatsInterval
	}
	host, _ := os.Hostname()
	if o.ServerID == "" {
		o.ServerID = host
	}
	a := &Admin{
		opts:     o,
		log:      zerolog.Nop(),
		started:  time.Now(),
		hostname: host,
		pid:      os.Getpid(),
		polling:  make(map[*socketio.Socket]struct{}),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	if o.Logger != nil {
		a.log = *o.Logger
	}
	if o.PasswordHash != nil {
		a.auth = newAuthenticator(o.Username, o.PasswordHash)
	}
	if !o.ReadOnly {
		a.features = []string{FeatureEmit, FeatureJoin, FeatureLeave, FeatureDisconnect, FeatureMJoin, FeatureMLeave, FeatureMDisconnect}
	}
	a.features = append(a.features, FeatureAggregatedEvents)
	if !o.Production {
		a.features = append(a.features, FeatureAllEvents)
	}
	if o.Engine != nil {
		a.last = o.Engine.Counters()
	}
	a.ns = o.Server.Handle(o.Namespace, a)
	if !o.Production {
		o.Server.SetObserver(a)
	}
	go a.run()
	return a
}

// Close stops the ticker and the observer. The namespace stays
// registered; its sockets go with the server.
func (a *Admin) Close() {
	a.once.Do(func() {
		if !a.opts.Production {
			a.opts.Server.SetObserver(nil)
		}
		close(a.stop)
	})
	<-a.done
}

// Features returns the features announced to the UI ("config").
func (a *Admin) Features() []string { return slices.Clone(a.features) }

func (a *Admin) run() {
	defer close(a.done)
	t := time.NewTicker(a.opts.StatsInterval)
	defer t.Stop()
	a.tick()
	for {
		select {
		case <-a.stop:
			return
		case <-t.C:
			a.tick()
		}
	}
}

// listening reports whether anything sent to the admin namespace can
// reach an admin socket.
func (a *Admin) listening() bool { return a.opts.Clustered || a.ns.Len() > 0 }

// emit sends event name with args to every admin socket.
func (a *Admin) emit(name string, args []byte, atts [][]byte) {
	if err := a.ns.Broadcast(socketio.BroadcastOptions{}, name, args, atts); err != nil {
		a.log.Debug().Err(err).Str("event", name).Msg("admin event not sent")
	}
}

// now is a JavaScript Date as JSON.stringify writes it.
func now() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000Z") }

type namespaceStats struct {
	Name         string `json:"name"`
	SocketsCount int    `json:"socketsCount"`
}

type aggregatedEvent struct {
	Timestamp int64  `json:"timestamp"`
	Type      string `json:"type"`
	SubType   string `json:"subType,omitempty"`
	Count     uint64 `json:"count"`
}

type serverStats struct {
	ServerID            string            `json:"serverId"`
	Hostname            string            `json:"hostname"`
	PID                 int               `json:"pid"`
	Uptime              float64           `json:"uptime"`
	ClientsCount        int               `json:"clientsCount"`
	PollingClientsCount int               `json:"pollingClientsCount"`
	AggregatedEvents    []aggregatedEvent `json:"aggregatedEvents"`
	Namespaces          []namespaceStats  `json:"namespaces"`
}

// tick reports upgrades seen since the last tick and sends
// "server_stats".
func (a *Admin) tick() {
	upgraded := a.upgrades()
	// The engine's counts advance every tick, as the Node.js package's
	// event buffer is emptied every two seconds: a UI that connects later
	// gets the recent past, not everything at once.
	events := a.aggregated()
	if !a.listening() {
		return
	}
	for _, s := range upgraded {
		a.emitJSON("socket_updated", []any{map[string]string{"id": s.ID(), "nsp": s.Namespace().Name(), "transport": s.Transport()}})
	}
	st := serverStats{
		ServerID:         a.opts.ServerID,
		Hostname:         a.hostname,
		PID:              a.pid,
		Uptime:           time.Since(a.started).Seconds(),
		AggregatedEvents: events,
		Namespaces:       []namespaceStats{},
	}
	if e := a.opts.Engine; e != nil {
		st.ClientsCount = e.Len()
	}
	sessions := map[string]struct{}{}
	for _, n := range a.opts.Server.Namespaces() {
		st.Namespaces = append(st.Namespaces, namespaceStats{Name: n.Name(), SocketsCount: n.Len()})
		for _, id := range n.Adapter().Sockets(nil) {
			if s := n.Socket(id); s != nil && s.Transport() == engineio.TransportPolling {
				sessions[s.SessionID()] = struct{}{}
			}
		}
	}
	st.PollingClientsCount = len(sessions)
	slices.SortFunc(st.Namespaces, func(x, y namespaceStats) int { return strings.Compare(x.Name, y.Name) })
	a.emitJSON("server_stats", []any{st})
}

// upgrades returns the sockets reported on polling that are no longer.
func (a *Admin) upgrades() []*socketio.Socket {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []*socketio.Socket
	for s := range a.polling {
		if !s.Connected() {
			delete(a.polling, s)
		} else if s.Transport() != engineio.TransportPolling {
			delete(a.polling, s)
			out = append(out, s)
		}
	}
	return out
}

// aggregated returns the engine's events since the last tick, as the
// Node.js package's event buffer counts them: rawConnection,
// rawDisconnection by reason, packetsIn/Out, bytesIn/Out.
func (a *Admin) aggregated() []aggregatedEvent {
	out := []aggregatedEvent{}
	e := a.opts.Engine
	if e == nil {
		return out
	}
	c := e.Counters()
	a.mu.Lock()
	last := a.last
	a.last = c
	a.mu.Unlock()
	ts := time.Now().Truncate(time.Second).UnixMilli()
	add := func(typ, sub string, now, before uint64) {
		if now > before {
			out = append(out, aggregatedEvent{Timestamp: ts, Type: typ, SubType: sub, Count: now - before})
		}
	}
	add("rawConnection", "", c.Opened, last.Opened)
	add("packetsIn", "", c.PacketsIn, last.PacketsIn)
	add("packetsOut", "", c.PacketsOut, last.PacketsOut)
	add("bytesIn", "", c.BytesIn, last.BytesIn)
	add("bytesOut", "", c.BytesOut, last.BytesOut)
	reasons := make([]string, 0, len(c.Closed))
	for r := range c.Closed {
		reasons = append(reasons, string(r))
	}
	slices.Sort(reasons)
	for _, r := range reasons {
		add("rawDisconnection", r, c.Closed[engineio.CloseReason(r)], last.Closed[engineio.CloseReason(r)])
	}
	return out
}

// emitJSON sends event name with args encoded as a JSON array.
func (a *Admin) emitJSON(name string, args []any) {
	b, err := json.Marshal(args)
	if err != nil {
		a.log.Error().Err(err).Str("event", name).Msg("admin event not encoded")
		return
	}
	a.emit(name, b, nil)
}

// serializedSocket is a socket as the UI lists it.
type serializedSocket struct {
	ID        string          `json:"id"`
	ClientID  string          `json:"clientId"`
	Transport string          `json:"transport"`
	Nsp       string          `json:"nsp"`
	Data      json.RawMessage `json:"data"`
	Handshake map[string]any  `json:"handshake"`
	Rooms     []string        `json:"rooms"`
}

// serialize describes s as the Node.js package does: its handshake
// without the auth payload, the address from Cf-Connecting-Ip or
// X-Forwarded-For when a proxy set them, and the client id cut to 12
// characters.
func serialize(s *socketio.Socket) serializedSocket {
	hs := map[string]any{}
	_ = json.Unmarshal(s.HandshakeJSON(), &hs)
	delete(hs, "auth")
	if h, ok := hs["headers"].(map[string]any); ok {
		for _, k := range []string{"cf-connecting-ip", "x-forwarded-for"} {
			if v, ok := h[k].(string); ok && v != "" {
				hs["address"] = v
				break
			}
		}
	}
	cid := s.SessionID()
	if len(cid) > 12 {
		cid = cid[:12]
	}
	rooms := s.Rooms()
	if !slices.Contains(rooms, s.ID()) {
		rooms = append([]string{s.ID()}, rooms...)
	}
	return serializedSocket{
		ID:        s.ID(),
		ClientID:  cid,
		Transport: s.Transport(),
		Nsp:       s.Namespace().Name(),
		Data:      s.DataJSON(),
		Handshake: hs,
		Rooms:     rooms,
	}
}

// allSockets describes the sockets of every namespace of this node, at
// most MaxListedSockets.
func (a *Admin) allSockets() []serializedSocket {
	out := []serializedSocket{}
	for _, n := range a.opts.Server.Namespaces() {
		for _, id := range n.Adapter().Sockets(nil) {
			if len(out) >= MaxListedSockets {
				a.log.Warn().Int("limit", MaxListedSockets).Msg("all_sockets: more sockets than listed")
				return out
			}
			if s := n.Socket(id); s != nil && s.Connected() {
				out = append(out, serialize(s))
			}
		}
	}
	return out
}

// Authorize implements socketio.NamespaceHandler: the UI's credentials
// or session id.
func (a *Admin) Authorize(s *socketio.Socket) *socketio.ConnectError {
	if a.auth == nil {
		return nil
	}
	return a.auth.authorize(s)
}

// OnConnect implements socketio.NamespaceHandler: the session id of a
// login, the config, and in development mode every socket.
func (a *Admin) OnConnect(s *socketio.Socket) {
	if a.auth != nil {
		if sid := a.auth.takeSession(s); sid != "" {
			a.emitTo(s, "session", []any{sid})
		}
	}
	a.emitTo(s, "config", []any{map[string]any{"supportedFeatures": a.features}})
	if !a.opts.Production {
		a.emitTo(s, "all_sockets", []any{a.allSockets()})
	}
}

func (a *Admin) emitTo(s *socketio.Socket, name string, args []any) {
	b, err := json.Marshal(args)
	if err == nil {
		err = s.Emit(name, b, nil)
	}
	if err != nil {
		a.log.Debug().Err(err).Str("event", name).Msg("admin event not sent")
	}
}

// OnDisconnect implements socketio.NamespaceHandler.
func (a *Admin) OnDisconnect(s *socketio.Socket, _ socketio.Reason, _ []string) {
	if a.auth != nil {
		a.auth.takeSession(s)
	}
}

// reserved are the event names a server may not emit (the reference
// server throws for them).
var reserved = []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}

// OnEvent implements socketio.NamespaceHandler: the UI's actions.
func (a *Admin) OnEvent(s *socketio.Socket, ev *socketio.Event) {
	if ev.HasAck {
		// The UI asks for none; answered once the request is carried
		// out, so that the ack slot is freed (and a client knows).
		defer func() { _ = s.Ack(ev.AckID, nil, nil) }()
	}
	has := func(f string) bool { return slices.Contains(a.features, f) }
	var args []json.RawMessage
	if json.Unmarshal(ev.Args, &args) != nil || len(args) < 2 {
		return
	}
	var nspName string
	if json.Unmarshal(args[0], &nspName) != nil {
		return
	}
	n := a.opts.Server.Of(nspName)
	if n == nil {
		a.log.Debug().Str("event", ev.Name).Str("nsp", nspName).Msg("admin request for no such namespace, ignored")
		return
	}
	// filter names a room (a socket id selects that socket); none: all.
	filter := func(i int) (socketio.BroadcastOptions, bool) {
		if len(args) <= i || string(args[i]) == "null" {
			return socketio.BroadcastOptions{}, true
		}
		var room string
		if json.Unmarshal(args[i], &room) != nil {
			return socketio.BroadcastOptions{}, false
		}
		if room == "" {
			return socketio.BroadcastOptions{}, true
		}
		return socketio.BroadcastOptions{Rooms: []string{room}}, true
	}
	str := func(i int) (string, bool) {
		var v string
		return v, len(args) > i && json.Unmarshal(args[i], &v) == nil && v != ""
	}
	l := a.log.Info().Str("admin", s.ID()).Str("nsp", nspName)
	switch ev.Name {
	case "emit":
		opts, ok := filter(1)
		name, ok2 := str(2)
		if !has(FeatureEmit) || !ok || !ok2 || slices.Contains(reserved, name) {
			return
		}
		rest := []byte("[]")
		if len(args) > 3 {
			if b, err := json.Marshal(args[3:]); err == nil {
				rest = b
			}
		}
		if err := n.Broadcast(opts, name, rest, ev.Attachments); err != nil {
			a.log.Debug().Err(err).Msg("admin emit refused")
			return
		}
		l.Strs("rooms", opts.Rooms).Str("event", name).Msg("admin emit")
	case "join", "leave":
		room, ok := str(1)
		opts, ok2 := filter(2)
		if !ok || !ok2 {
			return
		}
		if ev.Name == "join" && has(FeatureJoin) {
			if err := n.SocketsJoin(opts, room); err != nil {
				a.log.Debug().Err(err).Msg("admin join refused")
				return
			}
		} else if ev.Name == "leave" && has(FeatureLeave) {
			n.SocketsLeave(opts, room)
		} else {
			return
		}
		l.Strs("rooms", opts.Rooms).Str("room", room).Msg("admin " + ev.Name)
	case "_disconnect":
		var closeSession bool
		opts, ok := filter(2)
		if !has(FeatureDisconnect) || json.Unmarshal(args[1], &closeSession) != nil || !ok {
			return
		}
		n.DisconnectSockets(opts, closeSession)
		l.Strs("rooms", opts.Rooms).Bool("close", closeSession).Msg("admin disconnect")
	}
}

// Connected implements socketio.Observer: "socket_connected".
func (a *Admin) Connected(s *socketio.Socket) {
	if s.Transport() == engineio.TransportPolling {
		a.mu.Lock()
		a.polling[s] = struct{}{}
		a.mu.Unlock()
	}
	if a.listening() {
		a.emitJSON("socket_connected", []any{serialize(s), now()})
	}
}

// Disconnected implements socketio.Observer: "socket_disconnected".
func (a *Admin) Disconnected(s *socketio.Socket, reason socketio.Reason) {
	a.mu.Lock()
	delete(a.polling, s)
	a.mu.Unlock()
	if a.listening() {
		a.emitJSON("socket_disconnected", []any{s.Namespace().Name(), s.ID(), string(reason), now()})
	}
}

// Joined implements socketio.Observer: "room_joined".
func (a *Admin) Joined(n *socketio.Namespace, room, id string) {
	if a.listening() {
		a.emitJSON("room_joined", []any{n.Name(), room, id, now()})
	}
}

// Left implements socketio.Observer: "room_left".
func (a *Admin) Left(n *socketio.Namespace, room, id string) {
	if a.listening() {
		a.emitJSON("room_left", []any{n.Name(), room, id, now()})
	}
}

// Received implements socketio.Observer: "event_received", for the
// sockets of other namespaces than the admin's.
func (a *Admin) Received(s *socketio.Socket, ev *socketio.Event) {
	if s.Namespace() != a.ns && a.listening() {
		a.emitEvent("event_received", s, ev.Name, ev.Args, ev.Attachments)
	}
}

// Sent implements socketio.Observer: "event_sent", for the sockets of
// other namespaces than the admin's.
func (a *Admin) Sent(s *socketio.Socket, name string, args []byte, atts [][]byte) {
	if s.Namespace() != a.ns && a.listening() {
		a.emitEvent("event_sent", s, name, args, atts)
	}
}

// emitEvent sends [nsp, id, [name, ...args], date]; binary placeholders
// keep their numbers, so the attachments go along unchanged.
func (a *Admin) emitEvent(kind string, s *socketio.Socket, name string, args []byte, atts [][]byte) {
	buf := make([]byte, 0, 64+len(name)+len(args))
	buf = append(buf, '[')
	buf = sp.AppendString(buf, s.Namespace().Name())
	buf = append(buf, ',')
	buf = sp.AppendString(buf, s.ID())
	buf = append(buf, ",["...)
	buf = sp.AppendString(buf, name)
	// args is a JSON array (the decoder checked it): its elements follow.
	if a := bytes.TrimSpace(args); len(a) >= 2 {
		if inner := bytes.TrimSpace(a[1 : len(a)-1]); len(inner) > 0 {
			buf = append(append(buf, ','), inner...)
		}
	}
	buf = append(buf, "],"...)
	buf = sp.AppendString(buf, now())
	buf = append(buf, ']')
	a.emit(kind, buf, atts)
}
