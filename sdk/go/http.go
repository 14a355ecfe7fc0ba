package sockwasm

// Call kind of outbound HTTP responses.
const kindHTTPResponse = 14

// HTTPRequestID identifies an outbound HTTP request of this plugin.
type HTTPRequestID uint32

// HTTPRequest describes an outbound HTTP request (StartHTTP).
type HTTPRequest struct {
	// Method is GET (the default when empty), HEAD, POST, PUT, PATCH,
	// DELETE or OPTIONS.
	Method string
	// URL is an absolute http:// or https:// URL under one of the
	// plugin's http_allow prefixes, without user information.
	URL string
	// Header holds the request headers. Host, Content-Length,
	// Transfer-Encoding and hop-by-hop headers are the host's (ErrInvalid);
	// User-Agent defaults to "sockwasm".
	Header map[string]string
	// Body is sent as is (at most the plugin's max_http_request_bytes).
	Body []byte
}

// StartHTTP starts an outbound HTTP request and returns at once; the
// response, or the reason there is none, comes later in an OnHTTPResponse
// call with ctx (opaque bytes, at most 64 KiB). When the calling handler is
// about a socket, the response call is about that socket too (it may emit
// to it, ack, disconnect it…), serialized with its other calls.
//
// The plugin needs the "http" grant and the URL must be under one of its
// http_allow prefixes in server.toml (else ErrNotAllowed); ErrLimit when
// max_http_concurrent requests are in flight or the body or ctx is too
// large; ErrInvalid for a bad method, URL or header. Not available in
// OnInit, OnConnect and OnEventMiddleware (ErrNotAllowed).
func StartHTTP(req *HTTPRequest, ctx []byte) (HTTPRequestID, error) {
	d := append(httpbuf[:0], `{"method":`...)
	d = AppendString(d, req.Method)
	d = append(d, `,"url":`...)
	d = AppendString(d, req.URL)
	d = append(d, `,"headers":{`...)
	first := true
	for k, v := range req.Header {
		if !first {
			d = append(d, ',')
		}
		first = false
		d = AppendString(d, k)
		d = append(d, ':')
		d = AppendString(d, v)
	}
	d = append(d, "}}"...)
	httpbuf = d
	id := hostHTTPRequest(ptr(d), uint32(len(d)), ptr(req.Body), uint32(len(req.Body)), ptr(ctx), uint32(len(ctx)))
	if id < 0 {
		return 0, check(id)
	}
	return HTTPRequestID(id), nil
}

var httpbuf []byte

// HTTPFailure says why an outbound request has no response.
type HTTPFailure string

// Failures of outbound requests (sdk/ABI.md, section 4.6).
const (
	// HTTPNotAllowed: a redirect led outside http_allow; it was not
	// followed.
	HTTPNotAllowed HTTPFailure = "not_allowed"
	// HTTPTimeout: no complete response within the plugin's http_timeout.
	HTTPTimeout HTTPFailure = "timeout"
	// HTTPTooLarge: the body was over max_http_response_bytes.
	HTTPTooLarge HTTPFailure = "too_large"
	// HTTPFailed: the connection failed, the name did not resolve, TLS
	// failed, too many redirects, a malformed response…
	HTTPFailed HTTPFailure = "failed"
)

// HTTPResponse is the outcome of a StartHTTP request: a response (Failure
// empty), or why there is none.
type HTTPResponse struct {
	// ID is the id StartHTTP returned.
	ID HTTPRequestID
	// Status is the response's status code; 0 on failure.
	Status int
	// Failure says why no response came; empty when one did.
	Failure HTTPFailure
	// Detail describes the failure, e.g. the connection error.
	Detail string
	// Context is the ctx given to StartHTTP.
	Context []byte
	// Socket is the socket of the handler that started the request, nil
	// when it was about none (OnTimer, OnServerEvent, an engine handler…).
	// Once that socket has left, sending to it fails with ErrDisconnected.
	Socket *Socket
	header Value
	body   []byte
}

// OK reports whether a response came with a 2xx status.
func (r *HTTPResponse) OK() bool { return r.Failure == "" && r.Status >= 200 && r.Status < 300 }

// Body returns the response body.
func (r *HTTPResponse) Body() []byte { return r.body }

// Headers returns the response headers as a JSON object: names in lower
// case, repeated values joined with ", ".
func (r *HTTPResponse) Headers() Value { return r.header }

// Header returns the value of response header name (lower case), "" when
// absent.
func (r *HTTPResponse) Header(name string) string {
	s, _ := r.header.Get(name).AsString()
	return s
}

// Err returns nil when a response came (whatever its status), else an
// error naming the failure and its detail.
func (r *HTTPResponse) Err() error {
	if r.Failure == "" {
		return nil
	}
	return &HTTPError{Failure: r.Failure, Detail: r.Detail}
}

// HTTPError is an outbound request that got no response.
type HTTPError struct {
	Failure HTTPFailure
	Detail  string
}

// Error implements error.
func (e *HTTPError) Error() string { return "sockwasm: http " + string(e.Failure) + ": " + e.Detail }

var httpHandler func(r *HTTPResponse)

// OnHTTPResponse registers the handler of the responses to StartHTTP.
func OnHTTPResponse(fn func(r *HTTPResponse)) { httpHandler = fn }

var curHTTP HTTPResponse

// dispatchHTTP runs the HTTP_RESPONSE call; ok is false for other kinds.
func dispatchHTTP(kind int32, in *input) (rc int32, ok bool) {
	if kind != kindHTTPResponse {
		return 0, false
	}
	if httpHandler == nil {
		return 0, true
	}
	curHTTP = HTTPResponse{ID: HTTPRequestID(in.ackID), Status: int(in.status), Failure: HTTPFailure(in.name),
		Detail: string(in.reason), Context: in.context, header: in.auth, body: in.args}
	if len(in.socketID) > 0 {
		curSock = Socket{id: intern(&lastID, in.socketID), nsp: intern(&lastNsp, in.namespace)}
		curHTTP.Socket = &curSock
	}
	httpHandler(&curHTTP)
	return 0, true
}
