//go:build !wasip1

package sockwasm

import (
	"strings"
	"testing"
)

func TestParseSockets(t *testing.T) {
	got := parseSockets(Value(`[{"id":"a","rooms":["a","r"],"data":{"u":1}}, {"id":"b","rooms":["b"],"data":null}]`))
	if len(got) != 2 || got[0].ID != "a" || strings.Join(got[0].Rooms, ",") != "a,r" || string(got[0].Data) != `{"u":1}` ||
		got[1].ID != "b" || !got[1].Data.IsNull() {
		t.Fatalf("%+v", got)
	}
	if got := parseSockets(Value(`[]`)); len(got) != 0 {
		t.Fatalf("%+v", got)
	}
}

func TestParseReplies(t *testing.T) {
	got := parseReplies(Value(`[["a","ok",{"n":[1,2]}],["b"]]`))
	if len(got) != 2 || got[0].SocketID != "a" || string(got[0].Args) != `["ok",{"n":[1,2]}]` ||
		got[1].SocketID != "b" || string(got[1].Args) != `[]` {
		t.Fatalf("%+v", got)
	}
	r := &AckResponse{args: []byte(`[["x",1]]`)}
	if r.IsBroadcast() || r.Replies() != nil {
		t.Fatal("not a broadcast answer")
	}
	r.broadcast = true
	if rs := r.Replies(); len(rs) != 1 || rs[0].SocketID != "x" || string(rs[0].Args) != "[1]" {
		t.Fatalf("%+v", rs)
	}
}

func TestValueFields(t *testing.T) {
	var keys []string
	Value(`{"a":1, "b\"c" : [2,{"x":3}] ,"d":"e"}`).fields(func(k string, v Value) {
		keys = append(keys, k+"="+string(v))
	})
	if got := strings.Join(keys, ";"); got != `a=1;b"c=[2,{"x":3}];d="e"` {
		t.Fatal(got)
	}
}

func TestBroadcastFlags(t *testing.T) {
	b := In("r").Volatile().Compress(true)
	if b.flags != broadcastVolatile|broadcastCompress || strings.Join(b.rooms, ",") != "r" {
		t.Fatalf("%+v", b)
	}
	if b.Compress(false).flags != broadcastVolatile {
		t.Fatal("compress not cleared")
	}
	s := &Socket{id: "me"}
	if v := s.Volatile(); strings.Join(v.rooms, ",") != "me" || v.flags != broadcastVolatile {
		t.Fatalf("%+v", v)
	}
	curSock = Socket{id: "me"}
	defer func() { curSock = Socket{} }()
	_, e := s.To("r").Except("x").lists()
	if got := string(e); !strings.Contains(got, "x") || !strings.Contains(got, "me") {
		t.Fatalf("except list %q", got)
	}
	if _, e := In("r").lists(); len(e) != 0 {
		t.Fatalf("In excludes %q", e)
	}
}

func TestEventMiddlewareDispatch(t *testing.T) {
	var seen string
	OnEventMiddleware(func(s *Socket, e *Event) *Rejection {
		seen = e.Name + " " + string(e.Args())
		if e.Name == "bad" {
			return &Rejection{Message: "nope", Data: []byte(`{"c":1}`)}
		}
		return nil
	})
	defer func() { eventMiddleware = nil }()
	nativeRejection = &Rejection{}
	defer func() { nativeRejection = nil }()

	nativeFrame = eventFrame("good", `[1]`, 0)
	nativeFrame[1] = kindEventMiddleware
	defer func() { nativeFrame = nil }()
	if rc := dispatch(kindEventMiddleware, int32(len(nativeFrame))); rc != 0 || seen != "good [1]" || nativeRejection.Message != "" {
		t.Fatalf("rc %d seen %q rejection %+v", rc, seen, nativeRejection)
	}
	nativeFrame = eventFrame("bad", `[]`, 2)
	nativeFrame[1] = kindEventMiddleware
	if rc := dispatch(kindEventMiddleware, int32(len(nativeFrame))); rc != 0 || nativeRejection.Message != "nope" || string(nativeRejection.Data) != `{"c":1}` {
		t.Fatalf("rc %d rejection %+v", rc, nativeRejection)
	}
	if Reject("x").Error() != "event rejected: x" {
		t.Fatal(Reject("x").Error())
	}
}
