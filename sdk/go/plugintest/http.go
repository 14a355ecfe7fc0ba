package plugintest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"

	"github.com/sockwasm/sockwasm/sdk/abi"
	sockwasm "github.com/sockwasm/sockwasm/sdk/go"
)

// Outbound HTTP in the harness: StartHTTP records the request (checked as
// the host checks it) and returns its id; nothing is sent. The test
// answers it with RespondHTTP, FailHTTP or RoundTrip (an http.Handler as a
// fake transport), each of which makes the HTTP_RESPONSE call.

// SetHTTPAllow restricts the URLs StartHTTP may request to prefixes, as
// [plugin.NAME] http_allow does (a URL outside gets ErrNotAllowed). By
// default every http or https URL is allowed.
func (h *Harness) SetHTTPAllow(prefixes ...string) {
	h.t.Helper()
	h.http.allow = []abi.HTTPPrefix{}
	for _, e := range prefixes {
		p, err := abi.ParseHTTPAllow(e)
		if err != nil {
			h.t.Fatalf("plugintest: http_allow: %v", err)
		}
		h.http.allow = append(h.http.allow, p)
	}
}

// SetMaxHTTPConcurrent sets the bound on requests waiting for their
// answer (default 16, the host's max_http_concurrent): StartHTTP beyond it
// gets ErrLimit.
func (h *Harness) SetMaxHTTPConcurrent(n int) { h.http.max = n }

// PendingHTTP returns the requests started and not answered yet, in
// order.
func (h *Harness) PendingHTTP() []HTTPRequest { return slices.Clone(h.http.pending) }

// RespondHTTP answers pending request r with res: the HTTP_RESPONSE call,
// about r's socket when it has one.
func (h *Harness) RespondHTTP(r HTTPRequest, res HTTPResult) *Call {
	h.t.Helper()
	i := slices.IndexFunc(h.http.pending, func(p HTTPRequest) bool { return p.ID == r.ID })
	if i < 0 {
		h.t.Fatalf("plugintest: no pending HTTP request %d", r.ID)
	}
	h.http.pending = slices.Delete(h.http.pending, i, i+1)
	f := frame{kind: KindHTTPResponse, ackID: uint64(r.ID), context: r.Context, args: string(res.Body),
		name: string(res.Failure), reason: res.Detail}
	if res.Failure == "" {
		f.status = uint32(res.Status)
		hdr := make([]byte, 0, 64)
		hdr = append(hdr, '{')
		keys := make([]string, 0, len(res.Header))
		for k := range res.Header {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				hdr = append(hdr, ',')
			}
			hdr = sockwasm.AppendString(hdr, strings.ToLower(k))
			hdr = append(hdr, ':')
			hdr = sockwasm.AppendString(hdr, res.Header[k])
		}
		f.auth = string(append(hdr, '}'))
	} else {
		f.args = ""
	}
	var s *Socket
	if r.Socket != "" {
		if s = h.byID(r.Socket); s == nil {
			h.t.Fatalf("plugintest: socket %s of HTTP request %d is gone from the harness", r.Socket, r.ID)
		}
	}
	return h.call(f, s, nil)
}

// FailHTTP answers pending request r with a failure (sockwasm.HTTPTimeout,
// HTTPTooLarge, HTTPNotAllowed or HTTPFailed) and its detail.
func (h *Harness) FailHTTP(r HTTPRequest, failure sockwasm.HTTPFailure, detail string) *Call {
	h.t.Helper()
	return h.RespondHTTP(r, HTTPResult{Failure: failure, Detail: detail})
}

// RoundTrip answers pending request r with what handler answers to it: a
// fake transport (redirects are delivered as they are, not followed).
func (h *Harness) RoundTrip(r HTTPRequest, handler http.Handler) *Call {
	h.t.Helper()
	req := httptest.NewRequest(r.Method, r.URL, bytes.NewReader(r.Body))
	for k, vs := range r.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	res := rec.Result()
	hdr := map[string]string{}
	for k, v := range res.Header {
		hdr[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	return h.RespondHTTP(r, HTTPResult{Status: res.StatusCode, Header: hdr, Body: rec.Body.Bytes()})
}

// HTTPRequest is http_request (sockwasm.StartHTTP).
func (h *host) HTTPRequest(desc, body, ctx []byte) int32 {
	const fn = "http_request"
	if rc := h.allowed(fn); rc < 0 {
		return rc
	}
	d, err := abi.ParseHTTPDescription(desc)
	if err != nil {
		return h.fail(fn, errInvalid)
	}
	st := &h.http
	if st.allow != nil && !abi.HTTPAllowed(st.allow, d.Target) {
		return h.fail(fn, errNotAllowed)
	}
	if len(body) > 1<<20 || len(ctx) > 64<<10 || len(st.pending) >= st.max {
		return h.fail(fn, errLimit)
	}
	st.next++
	r := HTTPRequest{ID: st.next, Method: d.Method, URL: d.URL.String(), Header: d.Header, Body: body, Context: ctx}
	if h.cur.sock != nil {
		r.Socket = h.cur.sock.id
	}
	st.pending = append(st.pending, r)
	h.cur.call.HTTPRequests = append(h.cur.call.HTTPRequests, r)
	return int32(r.ID)
}
