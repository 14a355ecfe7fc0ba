package engineio_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/sockwasm/sockwasm/host/engineio"
)

// echo sends every message back on its session.
type echo struct{ s *engineio.Session }

func (e echo) OnMessage(data []byte, binary bool) {
	_ = e.s.Send(engineio.Message{Data: data, Binary: binary})
}

func (e echo) OnClose(engineio.CloseReason) {}

type echoHandler struct{}

func (echoHandler) Open(s *engineio.Session) engineio.Receiver { return echo{s} }

// An echo server, driven over HTTP long-polling.
func ExampleNew() {
	srv := engineio.New(engineio.Options{PingInterval: time.Minute}, echoHandler{})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	url := ts.URL + "/engine.io/?EIO=4&transport=polling"

	resp, _ := http.Get(url)
	open, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	sid := strings.Split(string(open), `"`)[3]

	resp, _ = http.Post(url+"&sid="+sid, "text/plain", strings.NewReader("4hello\x1ebAQID"))
	resp.Body.Close()
	resp, _ = http.Get(url + "&sid=" + sid)
	payload, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Printf("%q\n", payload)
	// Output: "4hello\x1ebAQID"
}
