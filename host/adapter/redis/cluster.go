package redis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/sockwasm/sockwasm/host/socketio"
	wire "github.com/sockwasm/sockwasm/protocol/redisadapter"
)

// Defaults of Options.
const (
	DefaultKey             = "socket.io"
	DefaultRequestTimeout  = 5 * time.Second
	DefaultMaxQueueBytes   = 64 << 20
	DefaultMaxQueueLength  = 100_000
	DefaultMaxMessageBytes = 16 << 20
)

// Options configures a Cluster. Zero values mean the documented defaults.
type Options struct {
	// URL locates Redis: redis://[user:password@]host:port/db, or
	// rediss:// for TLS.
	URL string
	// Key is the channel prefix, the same on every node. Default
	// "socket.io", the reference adapter's.
	Key string
	// Sharded selects Redis 7 sharded pub/sub (SPUBLISH, SSUBSCRIBE), the
	// reference's createShardedAdapter; otherwise classic pub/sub.
	Sharded bool
	// Mode is the sharded adapter's subscriptionMode: which rooms have a
	// channel of their own (default wire.ModeDynamic, the reference's).
	// Every node of a cluster must use the same.
	Mode wire.SubscriptionMode
	// RequestTimeout bounds a request to the other nodes: fetchSockets,
	// server-side emits with acks, the answers of broadcasts with acks
	// without a timeout of their own. Default 5s.
	RequestTimeout time.Duration
	// MaxQueueBytes and MaxQueueLength bound the messages waiting to be
	// published (while Redis is slow or away); beyond them messages are
	// dropped, and that is logged. Defaults 64 MiB and 100 000.
	MaxQueueBytes  int
	MaxQueueLength int
	// MaxMessageBytes bounds a message received from Redis; larger ones
	// are dropped unread. Default 16 MiB.
	MaxMessageBytes int
	// MaxAttachments bounds the binary attachments of a packet received
	// from another node, as the Socket.IO server bounds its clients'.
	// Default 10.
	MaxAttachments int
	// Logger receives the cluster's logs. Default: disabled.
	Logger *zerolog.Logger
}

func (o Options) withDefaults() Options {
	if o.Key == "" {
		o.Key = DefaultKey
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.MaxQueueBytes <= 0 {
		o.MaxQueueBytes = DefaultMaxQueueBytes
	}
	if o.MaxQueueLength <= 0 {
		o.MaxQueueLength = DefaultMaxQueueLength
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if o.MaxAttachments <= 0 {
		o.MaxAttachments = wire.DefaultMaxAttachments
	}
	return o
}

// Cluster connects a server to the other nodes of a cluster through
// Redis. It owns two connections, as the reference adapter does: one
// publishes and runs commands, the other only subscribes. NewAdapter
// makes the adapter of each namespace.
//
// Nothing local waits for Redis: a broadcast is delivered to local sockets
// at once and queued for publishing; a node keeps serving its own clients
// while Redis is away, and catches up (re-subscribing) when it is back.
type Cluster struct {
	opts Options
	log  zerolog.Logger
	rdb  *goredis.Client
	ps   *goredis.PubSub

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // the receiver, the publisher and the health check

	mu       sync.Mutex
	channels map[string]route    // subscribed channels and patterns
	requests map[string]*request // ours, by request id
	closed   bool

	queue publishQueue
	down  atomic.Bool // Redis unreachable, logged once
	rooms roomSubs    // sharded mode: the room channels
	// current is the sharded adapter of each namespace now (under mu).
	current map[string]*ShardedAdapter
}

// quiet drops go-redis's own log lines (one per failed dial while Redis is
// away): the cluster logs an outage and its end once each instead.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// silenceLibrary installs quiet as go-redis's logger, which is global.
var silenceLibrary sync.Once

// New connects to Redis as opts says and starts the cluster's goroutines.
// It does not wait for Redis: a node starts while Redis is away and joins
// the cluster when it comes.
func New(opts Options) (*Cluster, error) {
	opts = opts.withDefaults()
	silenceLibrary.Do(func() { goredis.SetLogger(quiet{}) })
	ro, err := goredis.ParseURL(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("redis adapter: url %q: %w", opts.URL, err)
	}
	// Commands fail fast while Redis is away; the publisher retries.
	ro.MaxRetries = -1
	ro.DialTimeout = time.Second
	ro.ReadTimeout = 3 * time.Second
	ro.WriteTimeout = 3 * time.Second
	ro.ContextTimeoutEnabled = true
	log := zerolog.Nop()
	if opts.Logger != nil {
		log = *opts.Logger
	}
	c := &Cluster{
		opts:     opts,
		log:      log,
		rdb:      goredis.NewClient(ro),
		channels: make(map[string]route),
		current:  make(map[string]*ShardedAdapter),
		requests: make(map[string]*request),
	}
	c.queue.init(opts.MaxQueueBytes, opts.MaxQueueLength)
	c.ps = c.rdb.Subscribe(context.Background())
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.wg.Add(3)
	go c.receive()
	go c.publish()
	go c.health()
	if opts.Sharded {
		c.rooms.init()
		c.wg.Add(1)
		go c.workRooms()
	}
	return c, nil
}

// Close leaves the cluster: it stops subscribing and publishing (messages
// still queued are dropped) and closes the connections. The adapters'
// pending requests end with their timeout status.
func (c *Cluster) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	err := c.ps.Close()
	c.queue.close()
	c.wg.Wait()
	c.mu.Lock()
	reqs := c.requests
	c.requests = make(map[string]*request)
	c.mu.Unlock()
	for _, r := range reqs {
		r.finish(errClosed)
	}
	if cerr := c.rdb.Close(); err == nil {
		err = cerr
	}
	return err
}

// Errors of requests to the other nodes.
var (
	// ErrTimeout ends a request that did not get every answer within
	// Options.RequestTimeout (or its context's deadline).
	ErrTimeout = socketio.ErrClusterTimeout
	// ErrUnavailable ends a request when Redis cannot be reached.
	ErrUnavailable = socketio.ErrClusterUnavailable
	errClosed      = errors.New("redis adapter: closed")
)

// NewAdapter makes the adapter of namespace n, for
// socketio.Options.NewAdapter: its rooms are local, its broadcasts and
// room operations reach the other nodes.
func (c *Cluster) NewAdapter(n *socketio.Namespace) socketio.Adapter {
	if strings.Contains(n.Name(), "#") {
		// "#" separates the parts of channel names: such a namespace's
		// channels would be another namespace's room channels (a client
		// could name a dynamic namespace so). It stays on this node.
		c.log.Warn().Str("nsp", truncate(n.Name(), 128)).Msg("namespace name holds '#': served on this node only, not shared through redis")
		return socketio.NewLocalAdapter(n)
	}
	if c.opts.Sharded {
		return c.newShardedAdapter(n)
	}
	key, nsp := c.opts.Key, n.Name()
	a := &Adapter{
		c:     c,
		n:     n,
		local: socketio.NewLocalAdapter(n),
		uid:   wire.NewUID(),
	}
	a.pattern = wire.BroadcastPattern(key, nsp)
	a.request = wire.RequestChannel(key, nsp)
	a.response = wire.ResponseChannel(key, nsp)
	a.specific = wire.SpecificResponseChannel(key, nsp, a.uid)
	c.mu.Lock()
	c.channels[a.pattern] = route{a: a, kind: routeBroadcast}
	c.channels[a.request] = route{a: a, kind: routeRequest}
	c.channels[a.response] = route{a: a, kind: routeResponse}
	c.channels[a.specific] = route{a: a, kind: routeResponse}
	c.mu.Unlock()
	c.subscribe(a)
	return a
}

// route says what a subscribed channel (or pattern) carries, and for
// which adapter.
type route struct {
	a    *Adapter        // classic
	s    *ShardedAdapter // sharded
	kind routeKind
}

type routeKind int

const (
	routeBroadcast routeKind = iota
	routeRequest
	routeResponse
	routeSharded // every channel of a sharded adapter
)

// subscribe subscribes the channels of a. A failure (Redis away) is not
// final: the receiver's reconnection subscribes everything again.
func (c *Cluster) subscribe(a *Adapter) {
	ctx, cancel := context.WithTimeout(c.ctx, c.opts.RequestTimeout)
	defer cancel()
	err := c.ps.PSubscribe(ctx, a.pattern)
	if err == nil {
		err = c.ps.Subscribe(ctx, a.request, a.response, a.specific)
	}
	if err != nil {
		c.log.Debug().Err(err).Str("nsp", a.n.Name()).Msg("subscribe deferred to the reconnection")
	}
}

// unsubscribe ends a's subscriptions (its namespace was removed).
func (c *Cluster) unsubscribe(a *Adapter) {
	// A namespace made again (a dynamic one) may have a new adapter on the
	// same channels already: those stay subscribed.
	var pats, chans []string
	c.mu.Lock()
	for _, ch := range []string{a.pattern, a.request, a.response, a.specific} {
		if c.channels[ch].a == a {
			delete(c.channels, ch)
			if ch == a.pattern {
				pats = append(pats, ch)
			} else {
				chans = append(chans, ch)
			}
		}
	}
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(c.ctx, c.opts.RequestTimeout)
	defer cancel()
	if len(pats) > 0 {
		_ = c.ps.PUnsubscribe(ctx, pats...)
	}
	if len(chans) > 0 {
		_ = c.ps.Unsubscribe(ctx, chans...)
	}
}

// receive reads the subscriber connection until Close. go-redis
// reconnects and subscribes everything again after a failure; an idle
// connection is pinged so that a Redis that went away silently is noticed.
func (c *Cluster) receive() {
	defer c.wg.Done()
	backoff := 50 * time.Millisecond
	for {
		msg, err := c.ps.ReceiveTimeout(c.ctx, 2*time.Second)
		if c.ctx.Err() != nil {
			return
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				_ = c.ps.Ping(c.ctx) // the answer comes as a *Pong
				continue
			}
			c.setDown(err)
			select {
			case <-time.After(backoff):
			case <-c.ctx.Done():
				return
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		switch m := msg.(type) {
		case *goredis.Message:
			c.dispatch(m)
		case *goredis.Subscription:
			c.setUp()
		}
	}
}

// dispatch hands a message to the adapter whose channel it came on.
func (c *Cluster) dispatch(m *goredis.Message) {
	if len(m.Payload) > c.opts.MaxMessageBytes {
		c.log.Warn().Str("channel", truncate(m.Channel, 128)).Int("bytes", len(m.Payload)).Msg("message over max_message_bytes dropped")
		return
	}
	key := m.Channel
	if m.Pattern != "" {
		key = m.Pattern
	}
	c.mu.Lock()
	r, ok := c.channels[key]
	c.mu.Unlock()
	if !ok {
		return
	}
	payload := []byte(m.Payload)
	switch r.kind {
	case routeBroadcast:
		r.a.onBroadcast(m.Channel, payload)
	case routeRequest:
		r.a.onRequest(payload)
	case routeResponse:
		c.onResponse(r.a, payload)
	case routeSharded:
		r.s.onMessage(m.Channel, payload)
	}
}

// health pings Redis every second, so that an outage and its end are
// logged once each, even when nothing is published.
func (c *Cluster) health() {
	defer c.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(c.ctx, time.Second)
		err := c.rdb.Ping(ctx).Err()
		cancel()
		if err != nil {
			c.setDown(err)
		} else {
			c.setUp()
		}
	}
}

func (c *Cluster) setDown(err error) {
	if c.ctx.Err() == nil && !c.down.Swap(true) {
		c.log.Warn().Err(err).Msg("redis unreachable: serving local sockets only until it is back")
	}
}

func (c *Cluster) setUp() {
	if c.down.Swap(false) {
		c.log.Info().Msg("redis reachable again: cluster traffic resumed")
	}
}

// numSub returns how many nodes serve the namespace of channel ch (its
// request channel's subscribers, this node included), as the reference
// counts them.
func (c *Cluster) numSub(ctx context.Context, ch string) (int, error) {
	m, err := c.rdb.PubSubNumSub(ctx, ch).Result()
	if err != nil {
		return 0, err
	}
	return int(m[ch]), nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Reachable reports whether Redis answers, as the cluster last saw it
// (the outage it logs).
func (c *Cluster) Reachable() bool { return !c.down.Load() }
