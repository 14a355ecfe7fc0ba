package socketio

import (
	"strings"
	"sync"
	"testing"
)

// A resolver serves namespaces that are not registered, each concrete
// namespace with its own rooms, like the reference server's io.of(/regex/).
func TestResolverDynamicNamespaces(t *testing.T) {
	e := newEnv(t, Options{}, map[string]NamespaceHandler{"/": newHandler()})
	tenants := newHandler()
	var mu sync.Mutex
	asked := map[string]int{}
	e.srv.SetResolver(func(name string) NamespaceHandler {
		mu.Lock()
		asked[name]++
		mu.Unlock()
		if strings.HasPrefix(name, "/tenant-") {
			return tenants
		}
		return nil
	})

	w := e.dial(t)
	w.send("0/other,")
	w.expect(`44/other,{"message":"Invalid namespace"}`)
	if e.srv.Of("/other") != nil {
		t.Fatal("refused namespace was created")
	}

	a := w.connect("/tenant-a", "")
	w.expect(`42/tenant-a,["auth",{}]`)
	w2 := e.dial(t)
	b := w2.connect("/tenant-b", `{"k":1}`)
	w2.expect(`42/tenant-b,["auth",{"k":1}]`)
	w3 := e.dial(t)
	w3.connect("/tenant-a", "")
	w3.expect(`42/tenant-a,["auth",{}]`)

	na, nb := e.srv.Of("/tenant-a"), e.srv.Of("/tenant-b")
	if na == nil || nb == nil || na == nb {
		t.Fatalf("namespaces not created: %v %v", na, nb)
	}
	if na.Len() != 2 || nb.Len() != 1 || na.Socket(a) == nil || nb.Socket(b) == nil {
		t.Fatalf("sockets: /tenant-a %d, /tenant-b %d", na.Len(), nb.Len())
	}
	mu.Lock()
	if asked["/tenant-a"] != 1 {
		t.Errorf("resolver asked %d times for a namespace it created, want once", asked["/tenant-a"])
	}
	mu.Unlock()

	// Rooms are per concrete namespace: a broadcast to room "r" of
	// /tenant-a does not reach /tenant-b's member of "r".
	na.Socket(a).Join("r")
	nb.Socket(b).Join("r")
	if err := na.Broadcast(BroadcastOptions{Rooms: []string{"r"}}, "hello", []byte(`[1]`), nil); err != nil {
		t.Fatal(err)
	}
	if err := nb.Broadcast(BroadcastOptions{}, "marker", nil, nil); err != nil {
		t.Fatal(err)
	}
	w.expect(`42/tenant-a,["hello",1]`)
	w2.expect(`42/tenant-b,["marker"]`)

	// Events reach the resolved handler.
	w2.send(`2/tenant-b,1["message-with-ack","x"]`)
	w2.expect(`43/tenant-b,1["x"]`)

	// Without a resolver, unknown namespaces are refused again; the ones it
	// created stay.
	e.srv.SetResolver(nil)
	w3.send("0/tenant-c,")
	w3.expect(`44/tenant-c,{"message":"Invalid namespace"}`)
	w4 := e.dial(t)
	w4.connect("/tenant-b", "")
	w4.expect(`42/tenant-b,["auth",{}]`)
}

// Concurrent first connections to one dynamic namespace create it once.
func TestResolverConcurrentCreate(t *testing.T) {
	e := newEnv(t, Options{}, nil)
	h := newHandler()
	e.srv.SetResolver(func(name string) NamespaceHandler { return h })
	const n = 8
	ws := make([]*wsClient, n)
	for i := range ws {
		ws[i] = e.dial(t)
	}
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.send("0/room-x,")
		}()
	}
	wg.Wait()
	for _, w := range ws {
		if f := w.next(); !strings.HasPrefix(string(f.data), `40/room-x,{"sid":`) {
			t.Fatalf("connect reply %q", f.data)
		}
	}
	if got := e.srv.Of("/room-x").Len(); got != n {
		t.Fatalf("Len = %d, want %d", got, n)
	}
}
