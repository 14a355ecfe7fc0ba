package main

import (
	"strings"
	"sync/atomic"
	"testing"
)

func TestEchoVerification(t *testing.T) {
	var out atomic.Int64
	var errs errorLog
	c := newEchoClient(2, 16, false, &out)
	c.packet(100) // seq 1
	c.packet(200) // seq 2
	c.packet(300) // seq 3
	if out.Load() != 3 {
		t.Fatalf("outstanding %d", out.Load())
	}
	good := "432" + string(appendEchoArgs(nil, 2, 2, 16))
	if n := c.onText([]byte(good), 1200, true, &errs); n != 1 || c.acked != 1 || c.inWindow != 1 || c.lat[0] != 1000 {
		t.Fatalf("good ack: %d, %+v", n, c)
	}
	if n := c.onText([]byte(good), 1300, true, &errs); n != 0 || c.dups != 1 {
		t.Fatalf("duplicate: %d dups %d", n, c.dups)
	}
	wrong := "431" + string(appendEchoArgs(nil, 3, 1, 16)) // another client's body
	if n := c.onText([]byte(wrong), 1400, false, &errs); n != 1 || c.bad != 1 || errs.n != 1 {
		t.Fatalf("wrong body: %d bad %d errors %d", n, c.bad, errs.n)
	}
	if n := c.onText([]byte(`439["x"]`), 1500, false, &errs); n != 0 || errs.n != 2 {
		t.Fatalf("never asked: %d errors %d", n, errs.n)
	}
	if n := c.onText([]byte(`42["said",{}]`), 1500, false, &errs); n != 0 || errs.n != 3 {
		t.Fatalf("event: %d errors %d", n, errs.n)
	}
	if out.Load() != 1 || len(c.pending) != 1 || c.pending[0].seq != 3 {
		t.Fatalf("outstanding %d, pending %+v", out.Load(), c.pending)
	}
}

func TestBinaryEchoVerification(t *testing.T) {
	var out atomic.Int64
	var errs errorLog
	c := newEchoClient(1, 32, true, &out)
	_, att := c.packet(10)
	sent := append([]byte(nil), att...)
	if n := c.onText([]byte(`461-1[{"_placeholder":true,"num":0}]`), 20, true, &errs); n != 0 || c.attFor != 1 {
		t.Fatalf("header: %d attFor %d", n, c.attFor)
	}
	if n := c.onBinary(sent, 30, true, &errs); n != 1 || c.acked != 1 || c.lat[0] != 20 || out.Load() != 0 {
		t.Fatalf("attachment: %d %+v", n, c)
	}
	_, att = c.packet(40)
	bad := append([]byte(nil), att...)
	bad[20] ^= 1
	c.onText([]byte(`461-2[{"_placeholder":true,"num":0}]`), 50, true, &errs)
	if n := c.onBinary(bad, 60, true, &errs); n != 1 || c.bad != 1 || errs.n != 1 {
		t.Fatalf("changed attachment: %d bad %d errors %d", n, c.bad, errs.n)
	}
	c.packet(70)
	if n := c.onText([]byte(`433[{"_placeholder":true,"num":0}]`), 80, true, &errs); n != 1 || c.bad != 2 {
		t.Fatalf("text ack to a binary echo: %d bad %d", n, c.bad)
	}
	if n := c.onBinary(sent, 90, true, &errs); n != 0 || errs.n != 3 {
		t.Fatalf("stray attachment: %d errors %d", n, errs.n)
	}
}

func TestBroadcastVerification(t *testing.T) {
	var errs errorLog
	b := newBcast("bench", 32, 2, 4)
	b.setSender("SENDER")
	said := func(seq uint64, from string) []byte {
		text := appendSayText(nil, seq, 1000, 32)
		return []byte(`42["said",{"room":"bench","from":"` + from + `","text":"` + string(text) + `"}]`)
	}
	send := func() uint64 {
		seq := b.sent.Load() + 1
		b.remaining[seq] = int32(b.receivers)
		b.outstanding.Add(int64(b.receivers))
		b.sent.Store(seq)
		return seq
	}
	<-b.credits // the window's tokens: 4, one taken
	seq := send()
	r0, r1 := &receiver{idx: 0}, &receiver{idx: 1}
	b.onSaid(r0, said(seq, "SENDER"), 1500, true, &errs)
	b.onSaid(r0, said(seq, "SENDER"), 1600, true, &errs) // again
	if r0.unique != 1 || r0.dups != 1 || r0.lat[0] != 500 || b.outstanding.Load() != 1 {
		t.Fatalf("r0 %+v outstanding %d", r0, b.outstanding.Load())
	}
	if len(b.credits) != 3 {
		t.Fatal("credit before every receiver had it")
	}
	// The same event written differently still counts (the slow path).
	spaced := []byte(`42["said", {"text":"` + string(appendSayText(nil, seq, 1000, 32)) + `", "room":"bench", "from":"SENDER"}]`)
	b.onSaid(r1, spaced, 2000, false, &errs)
	if r1.unique != 1 || r1.inWindow != 0 || b.outstanding.Load() != 0 || len(b.credits) != 4 || len(b.remaining) != 0 {
		t.Fatalf("r1 %+v outstanding %d credits %d", r1, b.outstanding.Load(), len(b.credits))
	}
	for _, p := range [][]byte{
		said(seq, "SOMEONE"),  // wrong sender
		said(seq+1, "SENDER"), // never sent
		[]byte(`42["said",{"room":"other","from":"SENDER","text":"1.1.` + strings.Repeat("x", 28) + `"}]`),
	} {
		b.onSaid(r1, p, 2100, true, &errs)
	}
	if r1.bad != 3 || errs.n != 3 {
		t.Fatalf("bad %d errors %d", r1.bad, errs.n)
	}

	joined := make(chan int, 1)
	b.onSenderText([]byte(`430[{"ok":true,"room":"bench","size":3}]`), joined, &errs)
	if n := <-joined; n != 3 {
		t.Fatalf("join size %d", n)
	}
	b.onSenderText(said(seq, "SENDER"), joined, &errs)
	b.onSenderText([]byte(`431[{"ok":true}]`), joined, &errs)
	b.onSenderText([]byte(`431[{"ok":false}]`), joined, &errs)
	if b.misdirected.Load() != 1 || b.acked.Load() != 1 || b.badAcks.Load() != 1 {
		t.Fatalf("misdirected %d acked %d bad %d", b.misdirected.Load(), b.acked.Load(), b.badAcks.Load())
	}
}
