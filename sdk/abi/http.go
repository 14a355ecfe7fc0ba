package abi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Outbound HTTP (http_request, HTTP_RESPONSE; sdk/ABI.md section 4.6).

// HTTP failures: the event name field of an HTTP_RESPONSE frame whose
// status is 0 says why no response came; its reason field has the details.
const (
	// HTTPNotAllowed: a redirect led outside the plugin's http_allow; it
	// was not followed.
	HTTPNotAllowed = "not_allowed"
	// HTTPTimeout: no complete response within the plugin's http_timeout.
	HTTPTimeout = "timeout"
	// HTTPTooLarge: the response body is larger than the plugin's
	// max_http_response_bytes.
	HTTPTooLarge = "too_large"
	// HTTPFailed: anything else: the connection failed, the name did not
	// resolve, TLS failed, more than 10 redirects, a malformed response…
	HTTPFailed = "failed"
)

// HTTPMethods are the methods http_request accepts.
var HTTPMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

// HTTPPrefix is one entry of a plugin's http_allow: a normalized URL
// prefix. A URL matches when its scheme, host and port are the prefix's
// and its path starts with the prefix's path (a path not ending in "/"
// also matches itself and what follows it after a "/": "/api" matches
// "/api" and "/api/x", not "/apix").
type HTTPPrefix struct {
	Scheme string // "http" or "https"
	Host   string // lower case, no trailing dot; an IPv6 address without brackets
	Port   string // explicit: "80" and "443" when the URL gives none
	Path   string // escaped, starting with "/"
}

// String returns the prefix as a URL.
func (p HTTPPrefix) String() string {
	host := p.Host
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return p.Scheme + "://" + host + ":" + p.Port + p.Path
}

// errHTTPAllow describes what an http_allow entry must be.
var errHTTPAllow = errors.New(`want an absolute http:// or https:// URL prefix without user, query or fragment, e.g. "https://auth.example.com/" or "http://127.0.0.1:8080/hooks/"`)

// ParseHTTPAllow parses an entry of http_allow.
func ParseHTTPAllow(entry string) (HTTPPrefix, error) {
	u, err := url.Parse(entry)
	if err != nil || u.Opaque != "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(entry, "#") {
		return HTTPPrefix{}, fmt.Errorf("%q: %w", entry, errHTTPAllow)
	}
	p, err := normalize(u)
	if err != nil {
		return HTTPPrefix{}, fmt.Errorf("%q: %v: %w", entry, err, errHTTPAllow)
	}
	return p, nil
}

// ParseHTTPURL parses the URL of a request: absolute, http or https, a
// host, no user information (send credentials in a header), no "." or ".."
// path segment and no backslash in the path. The fragment is dropped.
func ParseHTTPURL(raw string) (*url.URL, HTTPPrefix, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, HTTPPrefix{}, err
	}
	if u.Opaque != "" {
		return nil, HTTPPrefix{}, errors.New("not a hierarchical URL")
	}
	if u.User != nil {
		return nil, HTTPPrefix{}, errors.New("user information in the URL: send credentials in a header")
	}
	p, err := normalize(u)
	if err != nil {
		return nil, HTTPPrefix{}, err
	}
	u.Fragment, u.RawFragment = "", ""
	return u, p, nil
}

// normalize checks an absolute http(s) URL and returns its origin and
// escaped path in the form prefixes are compared in.
func normalize(u *url.URL) (HTTPPrefix, error) {
	if u.Scheme != "http" && u.Scheme != "https" {
		return HTTPPrefix{}, fmt.Errorf("scheme %q is not http or https", u.Scheme)
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "" || strings.ContainsAny(host, "%/\\@ ") {
		return HTTPPrefix{}, errors.New("no valid host")
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	if strings.HasSuffix(u.Host, ":") {
		return HTTPPrefix{}, errors.New("empty port")
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if path[0] != '/' {
		return HTTPPrefix{}, errors.New("relative path")
	}
	if strings.Contains(u.Path, "\\") || strings.Contains(path, "\\") {
		return HTTPPrefix{}, errors.New("backslash in the path")
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return HTTPPrefix{}, errors.New(`"." or ".." segment in the path`)
		}
	}
	return HTTPPrefix{Scheme: u.Scheme, Host: host, Port: port, Path: path}, nil
}

// Match reports whether the normalized URL u is under prefix p.
func (p HTTPPrefix) Match(u HTTPPrefix) bool {
	if u.Scheme != p.Scheme || u.Host != p.Host || u.Port != p.Port {
		return false
	}
	if strings.HasSuffix(p.Path, "/") {
		return strings.HasPrefix(u.Path, p.Path)
	}
	return u.Path == p.Path || strings.HasPrefix(u.Path, p.Path+"/")
}

// HTTPAllowed reports whether the normalized URL u is under one of the
// prefixes of allow.
func HTTPAllowed(allow []HTTPPrefix, u HTTPPrefix) bool {
	for _, p := range allow {
		if p.Match(u) {
			return true
		}
	}
	return false
}

// hopHeaders are the request headers a guest may not set: the host sets
// Host, Content-Length and the framing itself, and hop-by-hop headers
// belong to the connection, not to the request.
var hopHeaders = []string{"host", "content-length", "transfer-encoding", "connection", "keep-alive",
	"proxy-connection", "proxy-authorization", "te", "trailer", "upgrade"}

// CheckHTTPHeader reports whether a request may carry header name with
// value: name a token (RFC 9110) that is not one of the headers the host
// sets (Host, Content-Length, Transfer-Encoding) nor a hop-by-hop header
// (Connection, Keep-Alive, Proxy-Connection, Proxy-Authorization, TE,
// Trailer, Upgrade); value without control characters but tab.
func CheckHTTPHeader(name, value string) error {
	if name == "" {
		return errors.New("empty header name")
	}
	for i := 0; i < len(name); i++ {
		if !isTokenChar(name[i]) {
			return fmt.Errorf("header name %q is not a token", name)
		}
	}
	for _, h := range hopHeaders {
		if strings.EqualFold(name, h) {
			return fmt.Errorf("header %q is set by the host", name)
		}
	}
	for i := 0; i < len(value); i++ {
		if c := value[i]; c < ' ' && c != '\t' || c == 0x7f {
			return fmt.Errorf("header %q: control character in the value", name)
		}
	}
	return nil
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// HTTPDescription is the request description an http_request call gives, as
// ParseHTTPDescription decoded and checked it.
type HTTPDescription struct {
	// Method is one of HTTPMethods; GET when the description has none.
	Method string
	// URL is the request's URL (fragment dropped), Target its normalized
	// form for HTTPAllowed.
	URL    *url.URL
	Target HTTPPrefix
	// Header holds the headers, names as given, values in order.
	Header map[string][]string
}

// ParseHTTPDescription decodes the JSON request description of http_request,
// {"method": "POST", "url": "https://…", "headers": {"name": "value" or
// ["value", …]}}, and checks it: the method (HTTPMethods, exact case; GET
// when absent or empty), the URL (ParseHTTPURL) and each header
// (CheckHTTPHeader). Other members are ignored.
func ParseHTTPDescription(desc []byte) (*HTTPDescription, error) {
	var d struct {
		Method  string                     `json:"method"`
		URL     string                     `json:"url"`
		Headers map[string]json.RawMessage `json:"headers"`
	}
	if err := json.Unmarshal(desc, &d); err != nil {
		return nil, fmt.Errorf("request description: %v", err)
	}
	r := &HTTPDescription{Method: "GET", Header: map[string][]string{}}
	if d.Method != "" {
		r.Method = ""
		for _, m := range HTTPMethods {
			if d.Method == m {
				r.Method = m
			}
		}
		if r.Method == "" {
			return nil, fmt.Errorf("method %q: want one of %s", d.Method, strings.Join(HTTPMethods, ", "))
		}
	}
	var err error
	if r.URL, r.Target, err = ParseHTTPURL(d.URL); err != nil {
		return nil, fmt.Errorf("url %q: %v", d.URL, err)
	}
	for name, v := range d.Headers {
		var vals []string
		var one string
		if json.Unmarshal(v, &one) == nil {
			vals = []string{one}
		} else if json.Unmarshal(v, &vals) != nil {
			return nil, fmt.Errorf("header %q: want a string or an array of strings", name)
		}
		for _, val := range vals {
			if err := CheckHTTPHeader(name, val); err != nil {
				return nil, err
			}
		}
		r.Header[name] = append(r.Header[name], vals...)
	}
	return r, nil
}
