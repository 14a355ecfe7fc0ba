package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// bcast is a broadcast run's shared state.
type bcast struct {
	room      string
	size      int
	receivers int
	senderSID string
	prefix    []byte // `42["said",{"room":"<room>","from":"<sender>","text":"`

	sent        atomic.Uint64 // messages sent: sequence numbers 1…sent
	outstanding atomic.Int64  // deliveries expected and not yet seen
	acked       atomic.Int64  // say acks with the right body
	badAcks     atomic.Int64
	misdirected atomic.Int64

	mu        sync.Mutex
	remaining map[uint64]int32 // receivers each message has yet to reach
	credits   chan struct{}    // closed loop: a message reached everyone
}

func newBcast(room string, size, receivers, window int) *bcast {
	b := &bcast{room: room, size: size, receivers: receivers, remaining: make(map[uint64]int32),
		credits: make(chan struct{}, window)}
	for range window {
		b.credits <- struct{}{}
	}
	return b
}

func (b *bcast) setSender(sid string) {
	b.senderSID = sid
	b.prefix = []byte(`42["said",{"room":"` + b.room + `","from":"` + sid + `","text":"`)
}

// receiver is one receiver's verification state, used by its goroutine only.
type receiver struct {
	idx                    int
	seen                   bitset
	unique, inWindow, dups int64
	bad                    int64
	lat                    []int64
}

// onSaid verifies one delivery to r.
func (b *bcast) onSaid(r *receiver, p []byte, t int64, measuring bool, errs *errorLog) {
	text, ok := b.saidText(p)
	if !ok {
		r.bad++
		errs.add("receiver %d: %q", r.idx, clip(p))
		return
	}
	seq, sentNs, ok := parseSayText(text, b.size)
	if !ok || seq == 0 || seq > b.sent.Load() {
		r.bad++
		errs.add("receiver %d: text %q", r.idx, clip(text))
		return
	}
	if !r.seen.add(seq) {
		r.dups++
		return
	}
	r.unique++
	if measuring {
		r.inWindow++
		r.lat = append(r.lat, t-sentNs)
	}
	b.outstanding.Add(-1)
	b.mu.Lock()
	n := b.remaining[seq] - 1
	if n <= 0 {
		delete(b.remaining, seq)
	} else {
		b.remaining[seq] = n
	}
	b.mu.Unlock()
	if n == 0 {
		select {
		case b.credits <- struct{}{}:
		default:
		}
	}
}

// saidText returns the text of a "said" event from the sender to the room:
// by the exact bytes socket.io and sockwasm send, else by decoding it.
func (b *bcast) saidText(p []byte) ([]byte, bool) {
	if bytes.HasPrefix(p, b.prefix) && bytes.HasSuffix(p, []byte(`"}]`)) {
		t := p[len(b.prefix) : len(p)-3]
		if bytes.IndexByte(t, '"') < 0 && bytes.IndexByte(t, '\\') < 0 {
			return t, true
		}
	}
	if len(p) < 3 || p[0] != eioMessage || p[1] != sioEvent {
		return nil, false
	}
	var ev []json.RawMessage
	if json.Unmarshal(p[2:], &ev) != nil || len(ev) != 2 || string(ev[0]) != `"said"` {
		return nil, false
	}
	var m struct {
		Room, From, Text string
	}
	if json.Unmarshal(ev[1], &m) != nil || m.Room != b.room || m.From != b.senderSID {
		return nil, false
	}
	return []byte(m.Text), true
}

// isSaid reports a "said" event, however it is written.
func isSaid(p []byte) bool {
	return bytes.HasPrefix(p, []byte(`42["said"`))
}

// joinSize reads the size of a join ack `43<id>[{"ok":true,"room":…,"size":N}]`.
func joinSize(a ackPacket, room string) (int, bool) {
	var m []struct {
		OK   bool   `json:"ok"`
		Room string `json:"room"`
		Size *int   `json:"size"`
	}
	if json.Unmarshal(a.args, &m) != nil || len(m) != 1 || !m[0].OK || m[0].Room != room || m[0].Size == nil {
		return 0, false
	}
	return *m[0].Size, true
}

// onSenderText handles what the sender reads: its join ack (id 0), say
// acks, and deliveries it must not get.
func (b *bcast) onSenderText(p []byte, joined chan<- int, errs *errorLog) {
	if isSaid(p) {
		b.misdirected.Add(1)
		return
	}
	a, ok := parseAck(p)
	switch {
	case !ok:
		if !bytes.HasPrefix(p, []byte(`42["left"`)) {
			errs.add("sender: unexpected packet %q", clip(p))
		}
	case a.id == 0:
		n, ok := joinSize(a, b.room)
		if !ok {
			errs.add("sender: join ack %q", clip(p))
			n = -1
		}
		joined <- n
	case a.id > b.sent.Load():
		errs.add("sender: ack %d was never asked for", a.id)
	case string(a.args) == `[{"ok":true}]` && a.attachments == 0:
		b.acked.Add(1)
	default:
		b.badAcks.Add(1)
		errs.add("sender: say ack %q", clip(p))
	}
}

// readLoop reads a broadcast connection until it closes, answering pings.
func readLoop(ctx context.Context, w *wsConn, who string, ph *phaseCtl, errs *errorLog, on func(p []byte, t int64)) {
	for {
		_, p, err := w.read(ctx)
		if err != nil {
			if !ph.closing() {
				errs.add("%s: connection closed: %v", who, err)
			}
			return
		}
		t := now()
		switch {
		case len(p) == 1 && p[0] == eioPing:
			if err := w.write(ctx, []byte{eioPong}); err != nil && !ph.closing() {
				errs.add("%s: pong: %v", who, err)
			}
		case len(p) == 1 && p[0] == eioNoop:
		default:
			on(p, t)
		}
	}
}

// runBroadcast is the broadcast scenario.
func runBroadcast(ctx context.Context, o *loadOptions, d *dialer, sy *syncer, r *result) error {
	var errs errorLog
	var ph phaseCtl
	win := o.InFlight
	if o.Rate > 0 {
		win = 1
	}
	b := newBcast(o.Room, o.Size, o.Clients, win)
	var loops sync.WaitGroup
	t0 := time.Now()
	join := func(w *wsConn, joined <-chan int, who string) (int, error) {
		if err := w.write(ctx, appendJoin(nil, 0, o.Room)); err != nil {
			return 0, err
		}
		select {
		case n := <-joined:
			if n < 0 {
				return 0, fmt.Errorf("bad join ack")
			}
			return n, nil
		case <-time.After(30 * time.Second):
			return 0, fmt.Errorf("%s: no join ack in 30 s", who)
		}
	}

	// The sender first: the receivers check its socket id.
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	sender, err := d.dialWS(sctx, 0)
	cancel()
	if err != nil {
		return fmt.Errorf("sender: %w", err)
	}
	b.setSender(sender.sid)
	senderJoined := make(chan int, 1)
	loops.Add(1)
	go func() {
		defer loops.Done()
		readLoop(ctx, sender, "sender", &ph, &errs, func(p []byte, _ int64) { b.onSenderText(p, senderJoined, &errs) })
	}()
	if _, err := join(sender, senderJoined, "sender"); err != nil {
		sender.c.CloseNow()
		return fmt.Errorf("sender: %w", err)
	}

	recvs := make([]*receiver, o.Clients)
	conns := make([]*wsConn, o.Clients)
	var maxSize atomic.Int64
	dialAll(o.Clients, o.DialConcurrency, func(i int) {
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		w, err := d.dialWS(dctx, i+1)
		cancel()
		if err != nil {
			errs.add("receiver %d: %v", i, err)
			return
		}
		rc := &receiver{idx: i}
		joined := make(chan int, 1)
		who := "receiver " + strconv.Itoa(i)
		loops.Add(1)
		go func() {
			defer loops.Done()
			readLoop(ctx, w, who, &ph, &errs, func(p []byte, t int64) {
				if isSaid(p) {
					b.onSaid(rc, p, t, ph.measuring(), &errs)
					return
				}
				if a, ok := parseAck(p); ok && a.id == 0 {
					n, ok := joinSize(a, o.Room)
					if !ok {
						errs.add("%s: join ack %q", who, clip(p))
						n = -1
					}
					joined <- n
					return
				}
				if !bytes.HasPrefix(p, []byte(`42["left"`)) {
					errs.add("%s: unexpected packet %q", who, clip(p))
				}
			})
		}()
		n, err := join(w, joined, who)
		if err != nil {
			errs.add("%s: %v", who, err)
			w.c.CloseNow()
			return
		}
		for m := maxSize.Load(); int64(n) > m && !maxSize.CompareAndSwap(m, int64(n)); m = maxSize.Load() {
		}
		recvs[i], conns[i] = rc, w
	})
	joined := 0
	for _, rc := range recvs {
		if rc != nil {
			joined++
		}
	}
	// The sender is in the room too: the server must leave it out.
	if joined != o.Clients || maxSize.Load() != int64(joined+1) {
		errs.add("room %q: %d of %d receivers joined, largest size answered %d (want %d)",
			o.Room, joined, o.Clients, maxSize.Load(), joined+1)
	}
	b.receivers = joined
	r.Setup = time.Since(t0).Seconds()

	var out []byte
	send := func() bool {
		seq := b.sent.Load() + 1
		b.mu.Lock()
		b.remaining[seq] = int32(b.receivers)
		b.mu.Unlock()
		b.outstanding.Add(int64(b.receivers))
		b.sent.Store(seq)
		out = appendSay(out[:0], seq, o.Room, seq, now(), o.Size)
		if err := sender.write(ctx, out); err != nil {
			if !ph.closing() {
				errs.add("sender: write: %v", err)
			}
			return false
		}
		return true
	}
	stop := make(chan struct{})
	var sending sync.WaitGroup
	sending.Add(1)
	go func() {
		defer sending.Done()
		if o.Rate > 0 {
			tick := time.NewTicker(time.Duration(float64(time.Second) / o.Rate))
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					if !send() {
						return
					}
				}
			}
		}
		for {
			select {
			case <-stop:
				return
			case <-b.credits:
				if !ph.sending() || !send() {
					return
				}
			}
		}
	}()
	werr := window(o, sy, &ph, r)
	close(stop)
	sending.Wait()
	waitZero(&b.outstanding, o.Drain)
	deadline := time.Now().Add(o.Drain)
	for b.acked.Load()+b.badAcks.Load() < int64(b.sent.Load()) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	ph.v.Store(phaseClosed)
	sender.c.CloseNow()
	for _, w := range conns {
		if w != nil {
			w.c.CloseNow()
		}
	}
	loops.Wait()

	r.Sent = int64(b.sent.Load())
	r.Acked = b.acked.Load()
	if missing := r.Sent - r.Acked - b.badAcks.Load(); missing > 0 {
		errs.add("sender: %d say acks never came", missing)
	}
	r.Bad = b.badAcks.Load()
	r.Misdirected = b.misdirected.Load()
	r.Expected = r.Sent * int64(b.receivers)
	var lat []int64
	for _, rc := range recvs {
		if rc == nil {
			continue
		}
		r.Delivered += rc.unique
		r.Deliveries += rc.inWindow
		r.Duplicated += rc.dups
		r.Bad += rc.bad
		lat = append(lat, rc.lat...)
	}
	r.Lost = r.Expected - r.Delivered
	r.DeliveriesPerSec = float64(r.Deliveries) / r.Seconds
	r.Latency = summarize(lat)
	r.finish(&errs)
	return werr
}
