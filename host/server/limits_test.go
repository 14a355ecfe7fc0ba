package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// [engine]'s compression keys reach the Engine.IO endpoints.
func TestServeAppliesCompression(t *testing.T) {
	toml := strings.Replace(conformanceTOML, "[engine]\n", "[engine]\nhttp_compression = false\nhttp_compression_threshold = 10\n"+
		"per_message_deflate = true\nper_message_deflate_threshold = 20\n", 1)
	srv, err := newTestServer(t, toml, pluginsDir)
	if err != nil {
		t.Fatal(err)
	}
	o := srv.engineOptions(srv.Config(), "/x/")
	if !o.DisableHTTPCompression || o.HTTPCompressionThreshold != 10 || !o.PerMessageDeflate || o.PerMessageDeflateThreshold != 20 {
		t.Fatalf("engine options %+v", o)
	}
}

// The client limits of the configuration reach the Engine.IO endpoints
// and the HTTP server Serve runs.
func TestServeAppliesClientLimits(t *testing.T) {
	toml := strings.Replace(conformanceTOML, "[engine]\n", "[engine]\nwrite_queue_bytes = 2000000\nwrite_timeout = \"3s\"\n", 1)
	srv, err := newTestServer(t, toml+`
[http]
max_header_bytes = 2048
idle_timeout = "100ms"
read_timeout = "4s"
read_header_timeout = "5s"
`, pluginsDir)
	if err != nil {
		t.Fatal(err)
	}
	o := srv.engineOptions(srv.Config(), "/x/")
	if o.WriteQueueBytes != 2_000_000 || o.WriteTimeout != 3*time.Second || o.MaxHeaderBytes != 2048 ||
		o.IdleTimeout != 100*time.Millisecond || o.ReadTimeout != 4*time.Second || o.ReadHeaderTimeout != 5*time.Second {
		t.Fatalf("engine options %+v", o)
	}
	if o.DisableHTTPCompression || o.HTTPCompressionThreshold != 1024 || o.PerMessageDeflate || o.PerMessageDeflateThreshold != 1024 {
		t.Fatalf("compression defaults %+v", o)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		<-served
	})
	request := func(pad int) (net.Conn, *bufio.Reader, int) {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		_, err = io.WriteString(c, "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nX-Pad: "+
			strings.Repeat("a", pad)+"\r\n\r\n")
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		return c, br, resp.StatusCode
	}
	if _, _, st := request(3000); st != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("headers over max_header_bytes: %d", st)
	}
	_, br, st := request(100)
	if st != http.StatusOK {
		t.Fatalf("handshake: %d", st)
	}
	// The keep-alive connection is now idle: idle_timeout closes it, well
	// before the read's own deadline.
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("idle connection: %v, want EOF", err)
	}
}
