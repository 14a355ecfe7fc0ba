package engineio

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// Compression of polling responses (Options.HTTPCompression), as the
// reference server's httpCompression does it: a response body of at least
// the threshold is compressed with gzip or deflate (the zlib format, RFC
// 1950, what Node's zlib.createDeflate writes and HTTP's "deflate" means),
// whichever the request's Accept-Encoding prefers; gzip on a tie. Other
// responses (errors, the "ok" of a POST, the noop) are never compressed.
//
// Unlike the reference server, which streams the compressor into the
// response, the body is compressed into memory first: the compressor, a
// flate writer of about 1.2 MiB, is then held only while it runs, never
// while a slow client reads, and the response gets a Content-Length. The
// compressors are pooled and at most compressSlots run at once, so what a
// burst of large polling responses costs is bounded whatever the number of
// sessions. Compression runs at flate.BestSpeed: it takes half the
// default level's CPU on a 4 KiB payload and a third on 64 KiB
// (BenchmarkPollCompression), for output of the same size on repetitive
// JSON and up to about 20 % larger on more varied text.

// httpEncoding is a Content-Encoding a polling response may be sent with.
type httpEncoding uint8

const (
	encodingIdentity httpEncoding = iota
	encodingGzip
	encodingDeflate
)

// String returns the encoding's Content-Encoding token.
func (e httpEncoding) String() string {
	switch e {
	case encodingGzip:
		return "gzip"
	case encodingDeflate:
		return "deflate"
	}
	return "identity"
}

// httpCompressionLevel is the flate level of polling responses.
const httpCompressionLevel = flate.BestSpeed

// compressSlots bounds the polling responses compressed at once, in the
// whole process: compression is CPU work, so more at once would not go
// faster, only hold more compressors.
var compressSlots = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

// Pooled compressors and output buffers.
var (
	gzipWriters     sync.Pool // *gzip.Writer
	zlibWriters     sync.Pool // *zlib.Writer
	compressBuffers sync.Pool // *bytes.Buffer
)

// acceptEncoding picks the encoding of a response to a request with
// header h, as the reference server does through the accepts package
// (negotiator 0.6): of gzip and deflate, the one with the higher quality
// (an exact name counts before "*"), then the one the header names first,
// then gzip. A quality of 0 refuses an encoding; no Accept-Encoding, or
// one that accepts neither, means identity.
func acceptEncoding(h http.Header) httpEncoding {
	type spec struct {
		q     float64
		exact bool
		pos   int // the token's place in the header
		found bool
	}
	var best [3]spec // indexed by httpEncoding
	pos := 0
	for _, v := range h.Values("Accept-Encoding") {
		for tok := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(tok), ";")
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			q := 1.0
			for p := range strings.SplitSeq(params, ";") {
				k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.TrimSpace(k) == "q" {
					f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
					if err != nil {
						f = 0 // as parseFloat's NaN: never acceptable
					}
					q = f
					break
				}
			}
			for _, e := range [...]httpEncoding{encodingGzip, encodingDeflate} {
				exact := strings.EqualFold(name, e.String())
				if !exact && name != "*" {
					continue
				}
				// For each encoding, the most specific entry wins, then the
				// higher quality, then the later one (negotiator's
				// getEncodingPriority).
				b := &best[e]
				s := spec{q: q, exact: exact, pos: pos, found: true}
				if !b.found || (s.exact && !b.exact) || (s.exact == b.exact && s.q >= b.q) {
					*b = s
				}
			}
			pos++
		}
	}
	g, d := best[encodingGzip], best[encodingDeflate]
	gOK, dOK := g.found && g.q > 0, d.found && d.q > 0
	switch {
	case gOK && dOK:
		// negotiator's compareSpecs: quality, specificity, place in the
		// header, place in the offered list (gzip first).
		switch {
		case d.q > g.q, d.q == g.q && d.exact && !g.exact, d.q == g.q && d.exact == g.exact && d.pos < g.pos:
			return encodingDeflate
		}
		return encodingGzip
	case gOK:
		return encodingGzip
	case dOK:
		return encodingDeflate
	}
	return encodingIdentity
}

// compressBody compresses body with enc into a pooled buffer, which the
// caller hands back with releaseBuffer once it is written.
func compressBody(enc httpEncoding, body []byte) *bytes.Buffer {
	compressSlots <- struct{}{}
	defer func() { <-compressSlots }()
	buf, _ := compressBuffers.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	buf.Reset()
	// Writes to a bytes.Buffer cannot fail.
	switch enc {
	case encodingGzip:
		w, _ := gzipWriters.Get().(*gzip.Writer)
		if w == nil {
			w, _ = gzip.NewWriterLevel(buf, httpCompressionLevel)
		} else {
			w.Reset(buf)
		}
		_, _ = w.Write(body)
		_ = w.Close()
		w.Reset(nil) // drop buf
		gzipWriters.Put(w)
	case encodingDeflate:
		w, _ := zlibWriters.Get().(*zlib.Writer)
		if w == nil {
			w, _ = zlib.NewWriterLevel(buf, httpCompressionLevel)
		} else {
			w.Reset(buf)
		}
		_, _ = w.Write(body)
		_ = w.Close()
		w.Reset(nil)
		zlibWriters.Put(w)
	}
	return buf
}

// releaseBuffer hands back a buffer of compressBody, unless it grew too
// large to keep.
func releaseBuffer(b *bytes.Buffer) {
	if b != nil && b.Cap() <= maxPooledBuffer {
		compressBuffers.Put(b)
	}
}

// encodeBody returns what to send of a polling response body for a
// request with headers req: body itself, or its compressed form in a
// pooled buffer (buf, to release) when compression is on and body is at
// least the threshold. It sets Vary: Accept-Encoding on h whenever the
// answer depended on it.
func (s *Server) encodeBody(h http.Header, body []byte, req http.Header) (out []byte, used httpEncoding, buf *bytes.Buffer) {
	if s.opts.DisableHTTPCompression || len(body) < s.opts.HTTPCompressionThreshold {
		return body, encodingIdentity, nil
	}
	h.Add("Vary", "Accept-Encoding")
	enc := acceptEncoding(req)
	if enc == encodingIdentity {
		return body, encodingIdentity, nil
	}
	buf = compressBody(enc, body)
	return buf.Bytes(), enc, buf
}
