package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/sockwasm/sockwasm/host/internal/logsafe"
	"github.com/sockwasm/sockwasm/host/internal/track"
	"github.com/sockwasm/sockwasm/sdk/abi"
)

// Bounds of outbound HTTP that are not settings.
const (
	// MaxHTTPDescription bounds the JSON request description given to
	// http_request (method, URL, headers).
	MaxHTTPDescription = 64 << 10
	// MaxHTTPContext bounds the context blob of a request.
	MaxHTTPContext = 64 << 10
	// MaxHTTPResponseHeader bounds the header block of a response; a
	// larger one fails the request ("failed").
	MaxHTTPResponseHeader = 64 << 10
	// maxHTTPRedirects is net/http's own bound on the redirects followed.
	maxHTTPRedirects = 10
	// maxHTTPDetail bounds the failure text handed to the guest.
	maxHTTPDetail = 1024
	// httpUserAgent is sent when the guest sets no User-Agent.
	httpUserAgent = "sockwasm"
	// maxHTTPInFlight caps Limits.MaxHTTPConcurrent: the responses about
	// no socket wait in a queue of this many calls at most.
	maxHTTPInFlight = maxServerCalls
)

// httpRequests are a plugin's outbound HTTP requests (sdk/ABI.md, section
// 4.6). They belong to the plugin handle, like its timers: a request
// started by one version answers into the version current when its
// response arrives, and Close cancels the requests in flight and waits for
// their goroutines. Each request runs on a goroutine of its own (one per
// request in flight, bounded by max_http_concurrent) that holds no lock
// while it does network I/O; its HTTP_RESPONSE call runs on the socket's
// serial executor when the request was started in a call about a socket,
// else on the plugin's queue of socket-less responses, one at a time.
type httpRequests struct {
	p         *Plugin
	transport *http.Transport
	client    *http.Client
	ctx       context.Context // canceled by stop: ends every request
	cancel    context.CancelFunc
	work      track.Group // the requests' goroutines
	queue     serverQueue // HTTP_RESPONSE calls about no socket

	mu       sync.Mutex
	inflight map[uint32]struct{} // ids started whose HTTP_RESPONSE call has not begun
	next     uint32
	stopped  bool
}

func (h *httpRequests) init(p *Plugin) {
	h.p = p
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.inflight = map[uint32]struct{}{}
	// No proxy from the environment: a request goes where its URL says,
	// the URL the allowlist checked.
	h.transport = &http.Transport{
		DialContext:            (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           16,
		MaxIdleConnsPerHost:    8,
		IdleConnTimeout:        30 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		MaxResponseHeaderBytes: MaxHTTPResponseHeader,
	}
	h.client = &http.Client{Transport: h.transport, CheckRedirect: checkRedirect}
}

// reserve takes a slot and an id for a request, unless the plugin has max
// requests in flight (ErrLimit) or is stopped (ErrFailed).
func (h *httpRequests) reserve(max int) (uint32, int32) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return 0, ErrFailed
	}
	if len(h.inflight) >= max {
		return 0, ErrLimit
	}
	for {
		h.next++
		if h.next >= 1<<31 {
			h.next = 1
		}
		if _, used := h.inflight[h.next]; !used {
			break
		}
	}
	h.inflight[h.next] = struct{}{}
	return h.next, 0
}

// release frees the slot of request id.
func (h *httpRequests) release(id uint32) {
	h.mu.Lock()
	delete(h.inflight, id)
	h.mu.Unlock()
}

// len returns the number of requests in flight.
func (h *httpRequests) len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.inflight)
}

// stop cancels every request in flight and waits for their goroutines;
// the responses not yet delivered are dropped. Idempotent.
func (h *httpRequests) stop() {
	h.mu.Lock()
	h.stopped = true
	h.mu.Unlock()
	h.cancel()
	_ = h.work.Wait(context.Background()) // net/http returns at once once canceled
	h.queue.stop()
	h.transport.CloseIdleConnections()
}

// allowKey keys the allowlist of a request in its context, for
// checkRedirect.
type allowKey struct{}

// errRedirectRefused fails a request redirected outside the allowlist.
type errRedirectRefused struct{ to string }

func (e *errRedirectRefused) Error() string {
	return "redirect to " + e.to + " is outside http_allow: not followed"
}

// checkRedirect follows a redirect only into the allowlist the request
// was started with.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxHTTPRedirects {
		return fmt.Errorf("stopped after %d redirects", maxHTTPRedirects)
	}
	allow, _ := req.Context().Value(allowKey{}).([]abi.HTTPPrefix)
	if _, u, err := abi.ParseHTTPURL(req.URL.String()); err != nil || !abi.HTTPAllowed(allow, u) {
		return &errRedirectRefused{to: req.URL.Scheme + "://" + req.URL.Host + req.URL.EscapedPath()}
	}
	return nil
}

// httpResult is what an HTTP_RESPONSE call carries.
type httpResult struct {
	id      uint32
	status  int
	header  []byte // JSON object
	body    []byte
	failure string // abi.HTTP*; "" for a response
	detail  string
	ctx     []byte
}

// outbound is a request ready to go, with what its goroutine needs.
type outbound struct {
	id      uint32
	req     *http.Request
	allow   []abi.HTTPPrefix
	timeout time.Duration
	max     int // response body bytes
	ctx     []byte
	sock    target // the socket of the call that started it, or nil
}

// start runs o on a goroutine of its own, unless stop has begun.
func (h *httpRequests) start(o *outbound) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		delete(h.inflight, o.id)
		return
	}
	h.work.Go(func() { h.run(o) })
}

func (h *httpRequests) run(o *outbound) {
	r := h.roundTrip(o)
	if h.ctx.Err() != nil { // stopped: the plugin is gone
		h.release(o.id)
		return
	}
	p := h.p
	if t := o.sock; t != nil {
		// Serialized with the socket's other calls, as an ACK_RESPONSE.
		t.Schedule(func() {
			h.release(o.id)
			if !p.closed.Load() {
				p.httpResponseCall(t, r)
			}
		})
		return
	}
	if !h.queue.post(func() {
		h.release(o.id)
		p.httpResponseCall(nil, r)
	}) {
		h.release(o.id)
	}
}

// roundTrip makes the request and reads its response, within its timeout
// and body bound.
func (h *httpRequests) roundTrip(o *outbound) *httpResult {
	r := &httpResult{id: o.id, ctx: o.ctx}
	ctx, cancel := context.WithTimeout(h.ctx, o.timeout)
	defer cancel()
	resp, err := h.client.Do(o.req.WithContext(context.WithValue(ctx, allowKey{}, o.allow)))
	if err == nil {
		defer resp.Body.Close()
		// A HEAD response announces the length of a body it does not send.
		if resp.ContentLength > int64(o.max) && o.req.Method != http.MethodHead {
			return r.fail(abi.HTTPTooLarge, fmt.Sprintf("response body of %d bytes, over max_http_response_bytes = %d", resp.ContentLength, o.max))
		}
		r.body, err = io.ReadAll(io.LimitReader(resp.Body, int64(o.max)+1))
		if err == nil && len(r.body) > o.max {
			r.body = nil
			return r.fail(abi.HTTPTooLarge, fmt.Sprintf("response body over max_http_response_bytes = %d", o.max))
		}
	}
	var refused *errRedirectRefused
	switch {
	case err == nil:
	case errors.As(err, &refused):
		return r.fail(abi.HTTPNotAllowed, refused.Error())
	case ctx.Err() == context.DeadlineExceeded && h.ctx.Err() == nil:
		return r.fail(abi.HTTPTimeout, fmt.Sprintf("no complete response within http_timeout = %s", o.timeout))
	default:
		return r.fail(abi.HTTPFailed, err.Error())
	}
	r.status = resp.StatusCode
	r.header = encodeHeader(resp.Header)
	return r
}

func (r *httpResult) fail(failure, detail string) *httpResult {
	r.status, r.body, r.header = 0, nil, nil
	r.failure, r.detail = failure, logsafe.String(detail, maxHTTPDetail)
	return r
}

// encodeHeader encodes response headers as a JSON object: names in lower
// case, repeated values joined with ", " (as the handshake's headers).
func encodeHeader(h http.Header) []byte {
	m := make(map[string]string, len(h))
	for k, v := range h {
		m[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	b, err := json.Marshal(m)
	if err != nil {
		return []byte("{}")
	}
	return b
}

// httpResponseCall makes the HTTP_RESPONSE call of a request: about t when
// the request was started in a call about that socket.
func (p *Plugin) httpResponseCall(t target, r *httpResult) {
	c := p.newCall(abi.HTTPResponse)
	defer freeCall(c)
	ff := frameFields{ackID: uint64(r.id), status: uint32(r.status), name: r.failure, args: r.body,
		auth: r.header, context: r.ctx, reason: r.detail}
	if t != nil {
		c.sock = t
		ff.namespace, ff.socketID = t.Namespace(), t.ID()
	}
	c.frame = encodeFrame(c.frame, c.kind, &ff)
	p.invoke(c)
}

// hostHTTPRequest is http_request(req_ptr, req_len, body_ptr, body_len,
// ctx_ptr, ctx_len) -> id: starts an outbound request described by the
// JSON object at req ({"method", "url", "headers"}) with the bytes at body,
// and returns its id (1…2³¹−1) at once. Later exactly one HTTP_RESPONSE
// call brings its response or its failure with a copy of ctx.
// ERR_NOT_ALLOWED for a URL outside the plugin's http_allow; ERR_INVALID
// for a malformed description, method, URL or header; ERR_LIMIT for a
// description, body or context over its bound, or max_http_concurrent
// requests in flight.
func hostHTTPRequest(ctx context.Context, m api.Module, stack []uint64) {
	c := currentCall(ctx)
	code := c.httpRequest(m, stack)
	ret(stack, code)
}

func (c *call) httpRequest(m api.Module, stack []uint64) int32 {
	lim := c.v.lim
	if uint32(stack[1]) > MaxHTTPDescription {
		return c.limited("request description over 64 KiB")
	}
	raw, ok := view(m, stack[0], stack[1])
	if !ok {
		return ErrMemory
	}
	d, err := abi.ParseHTTPDescription(raw)
	if err != nil {
		return c.invalid(err.Error())
	}
	u := d.URL
	if !abi.HTTPAllowed(c.v.httpAllow, d.Target) {
		// Logged without its query, which may hold a secret.
		c.why = "url " + logsafe.String(u.Scheme+"://"+u.Host+u.EscapedPath(), 256) + " is outside http_allow of [plugin." + c.p.name + "]"
		if len(c.v.httpAllow) == 0 {
			c.why += ", which is empty"
		}
		return ErrNotAllowed
	}
	header := http.Header{}
	for name, vals := range d.Header {
		for _, val := range vals {
			header.Add(name, val)
		}
	}
	if header.Get("User-Agent") == "" {
		header.Set("User-Agent", httpUserAgent)
	}
	body, code := copyBounded(c, m, stack[2], stack[3], lim.MaxHTTPRequestBytes, "request body over max_http_request_bytes")
	if code != 0 {
		return code
	}
	blob, code := copyBounded(c, m, stack[4], stack[5], MaxHTTPContext, "http context over 64 KiB")
	if code != 0 {
		return code
	}
	h := &c.p.http
	id, code := h.reserve(min(lim.MaxHTTPConcurrent, maxHTTPInFlight))
	switch code {
	case 0:
	case ErrLimit:
		return c.limited("requests in flight at max_http_concurrent")
	default:
		c.why = "the plugin is closing"
		return code
	}
	// The context is set per attempt by the request's goroutine.
	req, err := http.NewRequestWithContext(context.Background(), d.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		h.release(id)
		return c.invalid("url: " + err.Error())
	}
	req.Header = header
	h.start(&outbound{id: id, req: req, allow: c.v.httpAllow, timeout: lim.HTTPTimeout, max: lim.MaxHTTPResponseBytes,
		ctx: blob, sock: c.sock})
	return int32(id)
}

// invalid sets the reason of an ERR_INVALID result and returns the code.
func (c *call) invalid(why string) int32 {
	c.why = why
	return ErrInvalid
}

// parseHTTPAllow parses the http_allow of a plugin's settings.
func parseHTTPAllow(entries []string) ([]abi.HTTPPrefix, error) {
	out := make([]abi.HTTPPrefix, 0, len(entries))
	for _, e := range entries {
		p, err := abi.ParseHTTPAllow(e)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
