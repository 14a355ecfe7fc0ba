package main

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// echoClient is one echo or binary client's state: what it has in flight
// and what it has verified. It is used by one goroutine at a time.
type echoClient struct {
	idx    int
	size   int
	binary bool
	next   uint64 // the next message's sequence number, its ack id
	// pending are the messages sent and not answered, with their send times.
	pending []pendingMsg
	// attFor is the sequence number whose binary ack header came and
	// whose attachment is awaited (0: none).
	attFor uint64
	out    []byte // the next packet, reused
	att    []byte // the next attachment, reused
	want   []byte // scratch for the expected body

	acked, inWindow, dups, bad int64
	lat                        []int64 // ns, acks in the window
	outstanding                *atomic.Int64
}

type pendingMsg struct {
	seq  uint64
	sent int64
}

func newEchoClient(idx, size int, binary bool, outstanding *atomic.Int64) *echoClient {
	c := &echoClient{idx: idx, size: size, binary: binary, next: 1, outstanding: outstanding}
	if binary {
		c.att = make([]byte, size)
		c.want = make([]byte, size)
	}
	return c
}

// packet builds the next message (valid until the next call): the text
// packet and, for binary, the attachment.
func (c *echoClient) packet(t int64) (text, att []byte) {
	seq := c.next
	c.next++
	c.pending = append(c.pending, pendingMsg{seq, t})
	c.outstanding.Add(1)
	if c.binary {
		c.out = appendBinaryEcho(c.out[:0], seq)
		fillAttachment(c.att, c.idx, seq)
		return c.out, c.att
	}
	c.out = appendEcho(c.out[:0], c.idx, seq, c.size)
	return c.out, nil
}

func (c *echoClient) find(seq uint64) int {
	for k, m := range c.pending {
		if m.seq == seq {
			return k
		}
	}
	return -1
}

// complete takes pending message k off, answered at t.
func (c *echoClient) complete(k int, t int64, measuring, ok bool) {
	m := c.pending[k]
	c.pending = slices.Delete(c.pending, k, k+1)
	c.outstanding.Add(-1)
	if !ok {
		c.bad++
		return
	}
	c.acked++
	if measuring {
		c.inWindow++
		c.lat = append(c.lat, t-m.sent)
	}
}

// onText handles a text message other than a ping; it returns how many
// messages it answered (0 or 1).
func (c *echoClient) onText(p []byte, t int64, measuring bool, errs *errorLog) int {
	if c.attFor != 0 {
		errs.add("client %d: %q instead of the attachment of ack %d", c.idx, clip(p), c.attFor)
		return 0
	}
	a, ok := parseAck(p)
	if !ok {
		errs.add("client %d: unexpected packet %q", c.idx, clip(p))
		return 0
	}
	k := c.find(a.id)
	if k < 0 {
		if a.id > 0 && a.id < c.next {
			c.dups++
		} else {
			errs.add("client %d: ack %d was never asked for", c.idx, a.id)
		}
		return 0
	}
	if c.binary {
		if a.attachments != 1 || string(a.args) != binaryEchoArgs {
			errs.add("client %d: binary ack %q", c.idx, clip(p))
			c.complete(k, t, measuring, false)
			return 1
		}
		c.attFor = a.id
		return 0
	}
	c.want = appendEchoArgs(c.want[:0], c.idx, a.id, c.size)
	ok = a.attachments == 0 && bytes.Equal(a.args, c.want)
	if !ok {
		errs.add("client %d: ack %d carries %q", c.idx, a.id, clip(a.args))
	}
	c.complete(k, t, measuring, ok)
	return 1
}

// onBinary handles a binary message: the attachment of the last binary ack.
func (c *echoClient) onBinary(b []byte, t int64, measuring bool, errs *errorLog) int {
	if c.attFor == 0 {
		errs.add("client %d: binary message without a binary ack", c.idx)
		return 0
	}
	seq := c.attFor
	c.attFor = 0
	k := c.find(seq)
	if k < 0 { // answered meanwhile: cannot happen, the header was checked
		errs.add("client %d: attachment of ack %d", c.idx, seq)
		return 0
	}
	fillAttachment(c.want, c.idx, seq)
	ok := bytes.Equal(b, c.want)
	if !ok {
		errs.add("client %d: attachment of ack %d differs (%d bytes)", c.idx, seq, len(b))
	}
	c.complete(k, t, measuring, ok)
	return 1
}

// runWS runs the closed loop over WebSocket until the connection closes.
func (c *echoClient) runWS(ctx context.Context, w *wsConn, inflight int, ph *phaseCtl, errs *errorLog) {
	send := func() bool {
		text, att := c.packet(now())
		err := w.write(ctx, text)
		if err == nil && att != nil {
			err = w.writeBinary(ctx, att)
		}
		if err != nil && !ph.closing() {
			errs.add("client %d: write: %v", c.idx, err)
		}
		return err == nil
	}
	for range inflight {
		if !send() {
			return
		}
	}
	for {
		typ, p, err := w.read(ctx)
		if err != nil {
			if !ph.closing() {
				errs.add("client %d: connection closed: %v", c.idx, err)
			}
			return
		}
		t := now()
		var done int
		switch {
		case typ == websocket.MessageBinary:
			done = c.onBinary(p, t, ph.measuring(), errs)
		case len(p) == 1 && p[0] == eioPing:
			if err := w.write(ctx, []byte{eioPong}); err != nil && !ph.closing() {
				errs.add("client %d: pong: %v", c.idx, err)
			}
		case len(p) == 1 && p[0] == eioNoop:
		default:
			done = c.onText(p, t, ph.measuring(), errs)
		}
		for ; done > 0 && ph.sending(); done-- {
			if !send() {
				return
			}
		}
	}
}

// runPolling runs the closed loop over long-polling until ctx is done: this
// goroutine polls and handles what comes; another posts, one request at a
// time, batching what has queued meanwhile (Engine.IO allows one POST at a
// time per session).
func (c *echoClient) runPolling(ctx context.Context, pc *pollConn, inflight int, ph *phaseCtl, errs *errorLog) {
	out := make(chan []byte, inflight+16)
	var posting sync.WaitGroup
	posting.Add(1)
	go func() {
		defer posting.Done()
		var payload []byte
		for p := range out {
			payload = appendPayload(payload[:0], p)
		batch:
			for {
				select {
				case q, ok := <-out:
					if !ok {
						break batch
					}
					payload = appendPayload(append(payload, recordSeparator), q)
				default:
					break batch
				}
			}
			if err := pc.post(ctx, payload); err != nil {
				if !ph.closing() {
					errs.add("client %d: POST: %v", c.idx, err)
				}
				for range out { // let the poller finish
				}
				return
			}
		}
	}()
	defer posting.Wait()
	defer close(out)
	send := func() {
		text, _ := c.packet(now())
		out <- bytes.Clone(text)
	}
	for range inflight {
		send()
	}
	for !ph.closing() {
		body, err := pc.get(ctx)
		if err != nil {
			if !ph.closing() {
				errs.add("client %d: GET: %v", c.idx, err)
			}
			return
		}
		t := now()
		err = splitPayload(body, func(p []byte, binary bool) error {
			var done int
			switch {
			case binary:
				done = c.onBinary(p, t, ph.measuring(), errs)
			case len(p) == 1 && p[0] == eioPing:
				out <- []byte{eioPong}
			case len(p) == 1 && p[0] == eioNoop:
			case len(p) == 1 && p[0] == eioClose:
				errs.add("client %d: the server closed the session", c.idx)
			default:
				done = c.onText(p, t, ph.measuring(), errs)
			}
			for ; done > 0 && ph.sending(); done-- {
				send()
			}
			return nil
		})
		if err != nil {
			errs.add("client %d: payload: %v", c.idx, err)
			return
		}
	}
}

// runEcho is the echo and binary scenarios.
func runEcho(ctx context.Context, o *loadOptions, d *dialer, sy *syncer, r *result) error {
	var errs errorLog
	var ph phaseCtl
	var outstanding atomic.Int64
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	clients := make([]*echoClient, o.Clients)
	ws := make([]*wsConn, o.Clients)
	polls := make([]*pollConn, o.Clients)
	t0 := time.Now()
	dialAll(o.Clients, o.DialConcurrency, func(i int) {
		dctx, dcancel := context.WithTimeout(ctx, 30*time.Second)
		defer dcancel()
		var err error
		if o.Transport == "polling" {
			polls[i], err = d.dialPolling(dctx, i)
		} else {
			ws[i], err = d.dialWS(dctx, i)
		}
		if err != nil {
			errs.add("connection %d: %v", i, err)
		}
	})
	r.Setup = time.Since(t0).Seconds()
	if errs.n == int64(o.Clients) {
		r.finish(&errs)
		return nil
	}
	var loops sync.WaitGroup
	for i := range o.Clients {
		if ws[i] == nil && polls[i] == nil {
			continue
		}
		c := newEchoClient(i, o.Size, o.Scenario == "binary", &outstanding)
		clients[i] = c
		loops.Add(1)
		go func() {
			defer loops.Done()
			if ws[i] != nil {
				c.runWS(ctx, ws[i], o.InFlight, &ph, &errs)
			} else {
				c.runPolling(ctx, polls[i], o.InFlight, &ph, &errs)
			}
		}()
	}
	werr := window(o, sy, &ph, r)
	waitZero(&outstanding, o.Drain)
	ph.v.Store(phaseClosed)
	cancel()
	for _, w := range ws {
		if w != nil {
			w.c.CloseNow()
		}
	}
	loops.Wait()

	var lat []int64
	for _, c := range clients {
		if c == nil {
			continue
		}
		r.Sent += int64(c.next - 1)
		r.Acked += c.acked
		r.AcksWindow += c.inWindow
		r.Duplicated += c.dups
		r.Bad += c.bad
		r.Lost += int64(len(c.pending))
		lat = append(lat, c.lat...)
	}
	for _, pc := range polls {
		if pc != nil {
			r.Compressed += pc.compressed
		}
	}
	if o.Compress && o.Transport == "polling" && r.Compressed == 0 && r.Acked > 0 {
		errs.add("-compress: no polling response came compressed")
	}
	r.AcksPerSec = float64(r.AcksWindow) / r.Seconds
	r.Latency = summarize(lat)
	r.finish(&errs)
	return werr
}
