package server

import (
	"encoding/json"
	"net/http"
	"sort"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sockwasm/sockwasm/host/config"
	"github.com/sockwasm/sockwasm/host/plugin"
	"github.com/sockwasm/sockwasm/host/router"
	"github.com/sockwasm/sockwasm/sdk/abi"
)

// MetricsHandler serves the operator's endpoints, for the [metrics]
// listener:
//
//   - GET /metrics: Prometheus metrics (the text format): the server's,
//     read when scraped from its state and from the atomic counters the
//     packages that serve clients keep (Counters, Stats), and Go's process
//     and runtime metrics;
//   - GET /healthz: 200 while the process serves HTTP at all;
//   - GET /readyz: 200 when the server takes new clients — its plugins
//     loaded, Redis reachable when clustered, not draining — else 503
//     with the reason, so that a load balancer sends new clients elsewhere
//     during a drain or an outage.
func (s *Server) MetricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&serverCollector{s: s},
	)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(s.Status())
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if why := s.notReady(); why != "" {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(why + "\n"))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	return mux
}

// notReady says why the server does not take new clients, "" when it
// does.
func (s *Server) notReady() string {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	switch {
	case closed:
		return "draining"
	case s.plugins == nil:
		return "plugins not loaded"
	case s.cluster != nil && !s.cluster.Reachable():
		return "redis unreachable"
	}
	return ""
}

// serverCollector reads the server's metrics from its state when
// Prometheus scrapes.
type serverCollector struct{ s *Server }

var (
	descSessions = prometheus.NewDesc("sockwasm_engine_sessions",
		"Engine.IO sessions open, by endpoint path.", []string{"path"}, nil)
	descSessionsOpened = prometheus.NewDesc("sockwasm_engine_sessions_opened_total",
		"Engine.IO sessions opened, by endpoint path.", []string{"path"}, nil)
	descSessionsClosed = prometheus.NewDesc("sockwasm_engine_sessions_closed_total",
		"Engine.IO sessions closed, by endpoint path and reason (\"write queue full\": a client that did not read its messages).", []string{"path", "reason"}, nil)
	descUpgrades = prometheus.NewDesc("sockwasm_engine_upgrades_total",
		"Sessions upgraded from polling to WebSocket, by endpoint path.", []string{"path"}, nil)
	descEnginePackets = prometheus.NewDesc("sockwasm_engine_packets_total",
		"Engine.IO message packets (those carrying data: text or binary), by endpoint path and direction: in, received from clients; out, handed to a transport to write. Pings, pongs and noops are not counted.",
		[]string{"path", "direction"}, nil)
	descEngineBytes = prometheus.NewDesc("sockwasm_engine_bytes_total",
		"Data bytes of the Engine.IO message packets (without the packet type, the polling separators or base64), by endpoint path and direction (in, out).",
		[]string{"path", "direction"}, nil)
	descSockets = prometheus.NewDesc("sockwasm_sockets",
		"Socket.IO sockets connected on this node, by namespace as configured (a dynamic namespace counts under its pattern; one a reload removed under (unrouted)) and transport.",
		[]string{"namespace", "transport"}, nil)
	descNamespaces = prometheus.NewDesc("sockwasm_namespaces",
		"Namespaces registered, by kind (exact, dynamic, unrouted: removed by a reload, its sockets still there).", []string{"kind"}, nil)
	descPluginInfo = prometheus.NewDesc("sockwasm_plugin_info",
		"The version serving each plugin (1), by its content hash.", []string{"plugin", "version"}, nil)
	descPluginCalls = prometheus.NewDesc("sockwasm_plugin_calls_total",
		"Calls into a plugin's guest, by call kind (event, connect, timer, ...).", []string{"plugin", "kind"}, nil)
	descPluginFaults = prometheus.NewDesc("sockwasm_plugin_faults_total",
		"Calls that failed, by kind: deadline, trap (out of memory included), result (the handler returned non-zero), busy (no slot or instance in time), closed, other.",
		[]string{"plugin", "kind"}, nil)
	descEvents = prometheus.NewDesc("sockwasm_events_total",
		"Events received from clients, by namespace as configured, the configured route that matched (the event name, a pattern, (handler) or (none)) and outcome (routed, refused by a middleware, dropped).",
		[]string{"namespace", "route", "outcome"}, nil)
	descConnects = prometheus.NewDesc("sockwasm_connects_total",
		"Namespace CONNECTs of clients, by namespace as configured and outcome (accepted, refused by a middleware).", []string{"namespace", "outcome"}, nil)
	descDisconnects = prometheus.NewDesc("sockwasm_disconnects_total",
		"Sockets gone, by namespace as configured and Socket.IO reason.", []string{"namespace", "reason"}, nil)
	descPluginRefusals = prometheus.NewDesc("sockwasm_plugin_refusals_total",
		"Calls in which the host refused a host function (a limit, a permission, an invalid argument).", []string{"plugin"}, nil)
	descPluginBusy = prometheus.NewDesc("sockwasm_plugin_busy_seconds_total",
		"Time spent in the plugin's guest code.", []string{"plugin"}, nil)
	descPluginInstances = prometheus.NewDesc("sockwasm_plugin_instances",
		"Live instances of the plugin's current version: idle or running a call.", []string{"plugin"}, nil)
	descPluginIdle = prometheus.NewDesc("sockwasm_plugin_instances_idle",
		"Idle instances of the plugin's current version, ready for a call (part of sockwasm_plugin_instances).", []string{"plugin"}, nil)
	descPluginCreated = prometheus.NewDesc("sockwasm_plugin_instances_created_total",
		"Instances created, every version of the plugin (each one discarded after a fault is replaced).", []string{"plugin"}, nil)
	descPluginLogDropped = prometheus.NewDesc("sockwasm_plugin_log_lines_dropped_total",
		"Log lines of (or about) the plugin dropped over log_lines_per_second.", []string{"plugin"}, nil)
	descPluginAckBytes = prometheus.NewDesc("sockwasm_plugin_pending_ack_bytes",
		"Bytes of the plugin's ack contexts waiting for an answer.", []string{"plugin"}, nil)
	descPluginKV = prometheus.NewDesc("sockwasm_plugin_kv_entries",
		"Entries of the plugin's key-value store (-1: its shared store did not answer).", []string{"plugin"}, nil)
	descPluginKVBytes = prometheus.NewDesc("sockwasm_plugin_kv_bytes",
		"Bytes of the plugin's key-value store, keys plus values as max_kv_bytes counts them (-1: its shared store did not answer).", []string{"plugin"}, nil)
	descPluginHTTP = prometheus.NewDesc("sockwasm_plugin_http_requests_in_flight",
		"Outbound HTTP requests of the plugin not yet answered (at most max_http_concurrent).", []string{"plugin"}, nil)
	descPluginTimers = prometheus.NewDesc("sockwasm_plugin_timers",
		"Pending timers of the plugin (-1: its shared timers did not answer).", []string{"plugin"}, nil)
	descReloads = prometheus.NewDesc("sockwasm_reloads_total",
		"Reloads (the watcher, SIGHUP, a reload call), by result: applied, refused (nothing of it applied).", []string{"result"}, nil)
	descPluginReloads = prometheus.NewDesc("sockwasm_plugin_reloads_total",
		"What reloads did to each plugin: added, reloaded, unchanged, removed, refused.", []string{"plugin", "result"}, nil)
	descBroadcasts = prometheus.NewDesc("sockwasm_broadcasts_total",
		"Broadcasts started on this node (with acks or not), whatever they selected.", nil, nil)
	descDeliveries = prometheus.NewDesc("sockwasm_deliveries_total",
		"Packets broadcasts queued to this node's sessions, one per session: broadcasts started here or on other nodes.", nil, nil)
	descDeliveriesDropped = prometheus.NewDesc("sockwasm_deliveries_dropped_total",
		"Sessions a volatile broadcast skipped because they had a backlog or were switching transports.", nil, nil)
	descAcksPending = prometheus.NewDesc("sockwasm_acks_pending",
		"Server-to-client acks (emits with an ack, one per socket of a broadcast with acks) awaiting an answer.", nil, nil)
	descAcksTimedOut = prometheus.NewDesc("sockwasm_acks_timed_out_total",
		"Server-to-client acks whose timeout passed before their answer came.", nil, nil)
	descCluster = prometheus.NewDesc("sockwasm_cluster_redis_up",
		"1 when the cluster's Redis answers, 0 during an outage; absent with the memory adapter.", nil, nil)
)

// Describe implements prometheus.Collector. It describes nothing: the
// plugins' latency histograms come and go with the plugins, so the
// collector is unchecked.
func (c *serverCollector) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (c *serverCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	cfg := s.cfg.Load()
	for i, e := range s.engines {
		path := cfg.Path
		if i > 0 && i-1 < len(cfg.Endpoints) {
			path = cfg.Endpoints[i-1].Path
		}
		ch <- prometheus.MustNewConstMetric(descSessions, prometheus.GaugeValue, float64(e.Len()), path)
		cs := e.Counters()
		ch <- prometheus.MustNewConstMetric(descSessionsOpened, prometheus.CounterValue, float64(cs.Opened), path)
		ch <- prometheus.MustNewConstMetric(descUpgrades, prometheus.CounterValue, float64(cs.Upgrades), path)
		for reason, n := range cs.Closed {
			ch <- prometheus.MustNewConstMetric(descSessionsClosed, prometheus.CounterValue, float64(n), path, string(reason))
		}
		ch <- prometheus.MustNewConstMetric(descEnginePackets, prometheus.CounterValue, float64(cs.PacketsIn), path, "in")
		ch <- prometheus.MustNewConstMetric(descEnginePackets, prometheus.CounterValue, float64(cs.PacketsOut), path, "out")
		ch <- prometheus.MustNewConstMetric(descEngineBytes, prometheus.CounterValue, float64(cs.BytesIn), path, "in")
		ch <- prometheus.MustNewConstMetric(descEngineBytes, prometheus.CounterValue, float64(cs.BytesOut), path, "out")
	}
	ss := s.sio.Stats()
	ch <- prometheus.MustNewConstMetric(descBroadcasts, prometheus.CounterValue, float64(ss.Broadcasts))
	ch <- prometheus.MustNewConstMetric(descDeliveries, prometheus.CounterValue, float64(ss.Deliveries))
	ch <- prometheus.MustNewConstMetric(descDeliveriesDropped, prometheus.CounterValue, float64(ss.DeliveriesDropped))
	ch <- prometheus.MustNewConstMetric(descAcksPending, prometheus.GaugeValue, float64(ss.AcksPending))
	ch <- prometheus.MustNewConstMetric(descAcksTimedOut, prometheus.CounterValue, float64(ss.AcksTimedOut))
	type key struct{ nsp, transport string }
	sockets := map[key]int{}
	kinds := map[string]int{}
	table := s.routes.Table()
	for _, n := range s.sio.Namespaces() {
		name := n.Name()
		switch r := table.Lookup(name); {
		case r == nil:
			// Removed by a reload (its sockets stay): a dynamic one's name
			// was a client's choice, so none is a label.
			name = "(unrouted)"
			kinds["unrouted"]++
		case config.IsPattern(r.Name()):
			name = r.Name()
			kinds["dynamic"]++
		default:
			kinds["exact"]++
		}
		for t, k := range n.CountByTransport() {
			sockets[key{name, t}] += k
		}
	}
	for _, kind := range []string{"exact", "dynamic", "unrouted"} {
		ch <- prometheus.MustNewConstMetric(descNamespaces, prometheus.GaugeValue, float64(kinds[kind]), kind)
	}
	keys := make([]key, 0, len(sockets))
	for k := range sockets {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].nsp < keys[j].nsp || keys[i].nsp == keys[j].nsp && keys[i].transport < keys[j].transport
	})
	for _, k := range keys {
		ch <- prometheus.MustNewConstMetric(descSockets, prometheus.GaugeValue, float64(sockets[k]), k.nsp, k.transport)
	}
	if s.plugins != nil {
		for _, name := range s.plugins.Names() {
			p := s.plugins.Get(name)
			if p == nil {
				continue
			}
			st := p.Stats()
			ch <- prometheus.MustNewConstMetric(descPluginInfo, prometheus.GaugeValue, 1, name, p.Hash())
			for k, n := range st.CallsByKind {
				if n > 0 {
					ch <- prometheus.MustNewConstMetric(descPluginCalls, prometheus.CounterValue, float64(n), name, abi.Kind(k).String())
				}
			}
			for k, n := range st.FaultsByKind {
				ch <- prometheus.MustNewConstMetric(descPluginFaults, prometheus.CounterValue, float64(n), name, plugin.FaultKindNames[k])
			}
			p.Latency().Collect(ch)
			ch <- prometheus.MustNewConstMetric(descPluginRefusals, prometheus.CounterValue, float64(st.Refusals), name)
			ch <- prometheus.MustNewConstMetric(descPluginBusy, prometheus.CounterValue, st.Busy.Seconds(), name)
			ch <- prometheus.MustNewConstMetric(descPluginInstances, prometheus.GaugeValue, float64(st.LiveInstances), name)
			ch <- prometheus.MustNewConstMetric(descPluginIdle, prometheus.GaugeValue, float64(st.IdleInstances), name)
			ch <- prometheus.MustNewConstMetric(descPluginCreated, prometheus.CounterValue, float64(st.Instances), name)
			ch <- prometheus.MustNewConstMetric(descPluginLogDropped, prometheus.CounterValue, float64(st.LogDropped), name)
			ch <- prometheus.MustNewConstMetric(descPluginAckBytes, prometheus.GaugeValue, float64(st.PendingAckBytes), name)
			ch <- prometheus.MustNewConstMetric(descPluginKV, prometheus.GaugeValue, float64(st.KVEntries), name)
			ch <- prometheus.MustNewConstMetric(descPluginKVBytes, prometheus.GaugeValue, float64(st.KVBytes), name)
			ch <- prometheus.MustNewConstMetric(descPluginTimers, prometheus.GaugeValue, float64(st.Timers), name)
			ch <- prometheus.MustNewConstMetric(descPluginHTTP, prometheus.GaugeValue, float64(st.HTTPInFlight), name)
		}
	}
	s.reloads.Range(func(k, v any) bool {
		rc, n := k.(reloadCount), float64(v.(*atomic.Uint64).Load())
		if rc.Plugin == "" {
			ch <- prometheus.MustNewConstMetric(descReloads, prometheus.CounterValue, n, rc.Result)
		} else {
			ch <- prometheus.MustNewConstMetric(descPluginReloads, prometheus.CounterValue, n, rc.Plugin, rc.Result)
		}
		return true
	})
	s.routes.Counts(func(k router.Count, n uint64) {
		switch k.Kind {
		case "event":
			ch <- prometheus.MustNewConstMetric(descEvents, prometheus.CounterValue, float64(n), k.Namespace, k.Key, k.Outcome)
		case "connect":
			ch <- prometheus.MustNewConstMetric(descConnects, prometheus.CounterValue, float64(n), k.Namespace, k.Outcome)
		case "disconnect":
			ch <- prometheus.MustNewConstMetric(descDisconnects, prometheus.CounterValue, float64(n), k.Namespace, k.Outcome)
		}
	})
	if s.cluster != nil {
		up := 0.0
		if s.cluster.Reachable() {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(descCluster, prometheus.GaugeValue, up)
	}
}

// Status is what an operator checks first (GET /status on the [metrics]
// listener, `sockwasm status`).
type Status struct {
	// Ready is "ready", or why the server takes no new clients (/readyz).
	Ready string `json:"ready"`
	// Config is the configuration file serving.
	Config string `json:"config"`
	// Adapter is the adapter kind; RedisUp whether Redis answers (nil with
	// the memory adapter).
	Adapter string `json:"adapter"`
	RedisUp *bool  `json:"redis_up,omitempty"`
	// Sessions are the Engine.IO sessions open, every endpoint.
	Sessions   int               `json:"sessions"`
	Namespaces []NamespaceStatus `json:"namespaces"`
	Plugins    []PluginStatus    `json:"plugins"`
}

// NamespaceStatus is one registered namespace.
type NamespaceStatus struct {
	Name string `json:"name"`
	// Pattern is the configured dynamic namespace it was made from, if any.
	Pattern string `json:"pattern,omitempty"`
	// Routed is false for a namespace a reload removed (it refuses new
	// connections; its sockets stay).
	Routed  bool `json:"routed"`
	Sockets int  `json:"sockets"`
	// Rooms counts the rooms of this node's sockets, their own included.
	Rooms int `json:"rooms"`
}

// PluginStatus is one loaded plugin.
type PluginStatus struct {
	Name    string    `json:"name"`
	Version string    `json:"version"`
	File    string    `json:"file"`
	Serving time.Time `json:"serving_since"`
	Calls   uint64    `json:"calls"`
	Faults  uint64    `json:"faults"`
	// Instances are the live instances of its current version.
	Instances uint64 `json:"instances"`
}

// Status describes the server now.
func (s *Server) Status() Status {
	cfg := s.cfg.Load()
	st := Status{Ready: "ready", Config: cfg.File, Adapter: cfg.Adapter.Kind}
	if why := s.notReady(); why != "" {
		st.Ready = why
	}
	if s.cluster != nil {
		up := s.cluster.Reachable()
		st.RedisUp = &up
	}
	for _, e := range s.engines {
		st.Sessions += e.Len()
	}
	table := s.routes.Table()
	for _, n := range s.sio.Namespaces() {
		ns := NamespaceStatus{Name: n.Name(), Sockets: n.Len(), Rooms: n.RoomCount()}
		if r := table.Lookup(n.Name()); r != nil {
			ns.Routed = true
			if config.IsPattern(r.Name()) {
				ns.Pattern = r.Name()
			}
		}
		st.Namespaces = append(st.Namespaces, ns)
	}
	sort.Slice(st.Namespaces, func(i, j int) bool { return st.Namespaces[i].Name < st.Namespaces[j].Name })
	if s.plugins != nil {
		for _, name := range s.plugins.Names() {
			p := s.plugins.Get(name)
			if p == nil {
				continue
			}
			info, stats := p.Info(), p.Stats()
			st.Plugins = append(st.Plugins, PluginStatus{Name: name, Version: info.Hash, File: info.Path, Serving: info.Serving,
				Calls: stats.Calls, Faults: stats.Faults, Instances: uint64(stats.LiveInstances)})
		}
	}
	return st
}
