package plugin

import (
	"runtime"
	"time"
)

// Limits bound what one plugin may make the host hold or do. Options.Limits
// are the defaults of every plugin, Settings.Limits override them for one
// plugin; zero fields inherit (from Options, then from the defaults below).
// sdk/ABI.md and docs/SECURITY.md describe each with its error.
type Limits struct {
	// CallTimeout is the deadline of one guest call. Default 1s.
	CallTimeout time.Duration
	// MemoryPages bounds an instance's linear memory, in 64 KiB pages.
	// Default 1024 (64 MiB).
	MemoryPages uint32
	// MaxConcurrency bounds the guest calls of the plugin that run at
	// once; further calls wait (up to CallTimeout, then fail "busy").
	// Default GOMAXPROCS: a plugin may use every core, shared with the
	// others by the Go scheduler (a guest that loops yields to it at each
	// iteration); 1 keeps a plugin to one core.
	MaxConcurrency int
	// PoolSize bounds the instances alive (idle or running a call). Two
	// are kept idle and ready, created ahead of need so that no call
	// waits for an instantiation. Default MaxConcurrency+1.
	PoolSize int
	// MaxSocketData bounds the data the plugin keeps per socket, in bytes.
	// Default 64 KiB.
	MaxSocketData int
	// MaxKVValue bounds one value of the key-value store. Default 64 KiB.
	MaxKVValue int
	// MaxKVEntries bounds the entries of the key-value store. Default 100 000.
	MaxKVEntries int
	// MaxKVBytes bounds the keys plus values of the key-value store.
	// Default 64 MiB.
	MaxKVBytes int
	// MaxTimers bounds the pending timers. Default 1000.
	MaxTimers int
	// MaxEmitBytes bounds what one send carries, args and attachments
	// together (engine_send: the message). Default 8 MiB, the default of a
	// session's write queue: a larger message would close the session.
	MaxEmitBytes int
	// MaxSendsPerCall bounds what one call sends: emits, acks, broadcasts,
	// ns_broadcast and engine_send together. Default 1024.
	MaxSendsPerCall int
	// MaxDeferredPerCall bounds the operations one call defers until it
	// returns (disconnect, disconnect_sockets). Default 64.
	MaxDeferredPerCall int
	// MaxCallChain bounds a chain of calls that follow one another at once,
	// without waiting for a client or a clock (an ACK_RESPONSE of a
	// broadcast_with_ack that reached nobody, asking again…): past it the
	// chain's broadcast_with_ack returns ERR_LIMIT. Default 16.
	MaxCallChain int
	// MaxAckContext bounds the context blob of one emit_with_ack or
	// broadcast_with_ack. Default 64 KiB.
	MaxAckContext int
	// MaxPendingAckBytes bounds the context bytes of all the plugin's acks
	// waiting for their ACK_RESPONSE. Default 16 MiB.
	MaxPendingAckBytes int
	// MaxLogBytesPerCall bounds the log text (log import, stdout, stderr)
	// of one call; the rest is dropped and counted. Default 64 KiB.
	MaxLogBytesPerCall int
	// LogLinesPerSecond bounds the plugin's log lines; excess lines are
	// dropped and summarized in one line per second. Default 100.
	LogLinesPerSecond int
	// MaxHTTPConcurrent bounds the plugin's outbound HTTP requests in
	// flight: started and their HTTP_RESPONSE call not yet begun
	// (http_request returns ERR_LIMIT beyond). Default 16, at most 1024.
	MaxHTTPConcurrent int
	// HTTPTimeout bounds one outbound request, from its start to the last
	// byte of its response (redirects included). Default 10s.
	HTTPTimeout time.Duration
	// MaxHTTPResponseBytes bounds the body of one response; a larger one
	// fails with "too_large". Default 1 MiB.
	MaxHTTPResponseBytes int
	// MaxHTTPRequestBytes bounds the body of one request (http_request
	// returns ERR_LIMIT beyond). Default 1 MiB.
	MaxHTTPRequestBytes int
	// Module bounds compilation and the shape of the module.
	Module ModuleLimits
}

// Defaults of Limits.
const (
	DefaultCallTimeout        = time.Second
	DefaultMemoryPages        = 1024
	DefaultMaxSocketData      = 64 << 10
	DefaultMaxKVValue         = 64 << 10
	DefaultMaxKVEntries       = 100_000
	DefaultMaxKVBytes         = 64 << 20
	DefaultMaxTimers          = 1000
	DefaultMaxSendsPerCall    = 1024
	DefaultMaxEmitBytes       = 8 << 20
	DefaultMaxDeferredPerCall = 64
	DefaultMaxCallChain       = 16
	DefaultMaxAckContext      = 64 << 10
	DefaultMaxPendingAckBytes = 16 << 20
	DefaultMaxLogBytesPerCall = 64 << 10
	DefaultLogLinesPerSecond  = 100
)

// Defaults of the outbound HTTP limits.
const (
	DefaultMaxHTTPConcurrent    = 16
	DefaultHTTPTimeout          = 10 * time.Second
	DefaultMaxHTTPResponseBytes = 1 << 20
	DefaultMaxHTTPRequestBytes  = 1 << 20
)

// DefaultMaxConcurrency is the default of Limits.MaxConcurrency:
// GOMAXPROCS.
func DefaultMaxConcurrency() int { return runtime.GOMAXPROCS(0) }

// over returns l with the non-zero fields of o.
func (l Limits) over(o Limits) Limits {
	set := func(dst *int, v int) {
		if v > 0 {
			*dst = v
		}
	}
	if o.CallTimeout > 0 {
		l.CallTimeout = o.CallTimeout
	}
	if o.MemoryPages > 0 {
		l.MemoryPages = o.MemoryPages
	}
	set(&l.MaxConcurrency, o.MaxConcurrency)
	set(&l.PoolSize, o.PoolSize)
	set(&l.MaxSocketData, o.MaxSocketData)
	set(&l.MaxKVValue, o.MaxKVValue)
	set(&l.MaxKVEntries, o.MaxKVEntries)
	set(&l.MaxKVBytes, o.MaxKVBytes)
	set(&l.MaxTimers, o.MaxTimers)
	set(&l.MaxSendsPerCall, o.MaxSendsPerCall)
	set(&l.MaxEmitBytes, o.MaxEmitBytes)
	set(&l.MaxDeferredPerCall, o.MaxDeferredPerCall)
	set(&l.MaxCallChain, o.MaxCallChain)
	set(&l.MaxAckContext, o.MaxAckContext)
	set(&l.MaxPendingAckBytes, o.MaxPendingAckBytes)
	set(&l.MaxLogBytesPerCall, o.MaxLogBytesPerCall)
	set(&l.LogLinesPerSecond, o.LogLinesPerSecond)
	set(&l.MaxHTTPConcurrent, o.MaxHTTPConcurrent)
	if o.HTTPTimeout > 0 {
		l.HTTPTimeout = o.HTTPTimeout
	}
	set(&l.MaxHTTPResponseBytes, o.MaxHTTPResponseBytes)
	set(&l.MaxHTTPRequestBytes, o.MaxHTTPRequestBytes)
	m, om := &l.Module, o.Module
	set(&m.MaxBytes, om.MaxBytes)
	set(&m.MaxFunctions, om.MaxFunctions)
	set(&m.MaxGlobals, om.MaxGlobals)
	set(&m.MaxLocals, om.MaxLocals)
	set(&m.MaxFunctionBytes, om.MaxFunctionBytes)
	set(&m.MaxTableElements, om.MaxTableElements)
	if om.CompileTimeout > 0 {
		m.CompileTimeout = om.CompileTimeout
	}
	if om.CompileMemory > 0 {
		m.CompileMemory = om.CompileMemory
	}
	return l
}

// withDefaults fills every zero field with its default.
func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if l.CallTimeout <= 0 {
		l.CallTimeout = DefaultCallTimeout
	}
	if l.MemoryPages == 0 {
		l.MemoryPages = DefaultMemoryPages
	}
	def(&l.MaxConcurrency, DefaultMaxConcurrency())
	def(&l.PoolSize, l.MaxConcurrency+1)
	def(&l.MaxSocketData, DefaultMaxSocketData)
	def(&l.MaxKVValue, DefaultMaxKVValue)
	def(&l.MaxKVEntries, DefaultMaxKVEntries)
	def(&l.MaxKVBytes, DefaultMaxKVBytes)
	def(&l.MaxTimers, DefaultMaxTimers)
	def(&l.MaxSendsPerCall, DefaultMaxSendsPerCall)
	def(&l.MaxEmitBytes, DefaultMaxEmitBytes)
	def(&l.MaxDeferredPerCall, DefaultMaxDeferredPerCall)
	def(&l.MaxCallChain, DefaultMaxCallChain)
	def(&l.MaxAckContext, DefaultMaxAckContext)
	def(&l.MaxPendingAckBytes, DefaultMaxPendingAckBytes)
	def(&l.MaxLogBytesPerCall, DefaultMaxLogBytesPerCall)
	def(&l.LogLinesPerSecond, DefaultLogLinesPerSecond)
	def(&l.MaxHTTPConcurrent, DefaultMaxHTTPConcurrent)
	if l.HTTPTimeout <= 0 {
		l.HTTPTimeout = DefaultHTTPTimeout
	}
	def(&l.MaxHTTPResponseBytes, DefaultMaxHTTPResponseBytes)
	def(&l.MaxHTTPRequestBytes, DefaultMaxHTTPRequestBytes)
	l.Module = l.Module.withDefaults()
	return l
}

// instantiateTimeout bounds the creation of one instance (its
// _initialize included): the call deadline, but at least a second, since
// instances are made ahead of need, not on a call's time.
func (l Limits) instantiateTimeout() time.Duration { return max(l.CallTimeout, time.Second) }
