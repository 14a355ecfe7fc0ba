package abi

import "testing"

func TestFuncNames(t *testing.T) {
	seen := map[string]bool{}
	for f := Func(0); f < NumFuncs; f++ {
		name := f.String()
		if name == "" || name == "unknown" || seen[name] {
			t.Fatalf("func %d has name %q (seen before: %v)", f, name, seen[name])
		}
		seen[name] = true
		if g, ok := FuncByName(name); !ok || g != f {
			t.Fatalf("FuncByName(%q) = %v, %v", name, g, ok)
		}
	}
	if _, ok := FuncByName("open_file"); ok {
		t.Fatal("unknown name found")
	}
}

// Spot checks of the permission table against sdk/ABI.md, section 2.
func TestPermit(t *testing.T) {
	for _, tt := range []struct {
		k    Kind
		f    Func
		want Code
	}{
		{NoCall, Log, OK},
		{NoCall, ReadInput, ErrNotAllowed},
		{NoCall, KVGet, ErrNotAllowed},
		{Event, Emit, OK},
		{Middleware, Emit, ErrNotAllowed},
		{Middleware, Join, OK},
		{Middleware, Reject, OK},
		{Event, Reject, ErrNotAllowed},
		{EventMiddleware, RejectEvent, OK},
		{EventMiddleware, Emit, ErrNotAllowed},
		{EventMiddleware, SocketsJoin, ErrNotAllowed},
		{EventMiddleware, SetSocketData, OK},
		{Disconnect, Emit, ErrDisconnected},
		{Disconnect, Broadcast, OK},
		{Disconnect, BroadcastWithAck, ErrDisconnected},
		{Disconnect, DisconnectSockets, OK},
		{Init, NsBroadcast, OK},
		{Init, Emit, ErrNotAllowed},
		{Timer, Namespace, ErrNotAllowed},
		{Timer, SocketID, OK},
		{Timer, KVCAS, OK},
		{EngineMessage, EngineSend, OK},
		{EngineClose, EngineSend, ErrDisconnected},
		{Event, EngineSend, ErrNotAllowed},
		{Kind(99), Log, ErrNotAllowed},
		{Event, Func(200), ErrNotAllowed},
	} {
		if got := Permit(tt.k, tt.f); got != tt.want {
			t.Errorf("Permit(%v, %v) = %v, want %v", tt.k, tt.f, got, tt.want)
		}
	}
}

func TestCheckGrant(t *testing.T) {
	for _, ok := range []string{"kv", "timers", "emit:/admin", "emit:/tenant-*", "emit:/"} {
		if err := CheckGrant(ok); err != nil {
			t.Errorf("CheckGrant(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "fs", "emit:", "emit:admin", "emit:/a*b", "KV"} {
		if CheckGrant(bad) == nil {
			t.Errorf("CheckGrant(%q) accepted", bad)
		}
	}
}

func TestCodeAndKindNames(t *testing.T) {
	if ErrLimit.String() != "ERR_LIMIT" || Code(5).String() != "OK" || Code(-99).String() != "ERR_UNKNOWN" {
		t.Fatal("code names")
	}
	if AckResponse.String() != "ack-response" || Kind(42).String() != "unknown" {
		t.Fatal("kind names")
	}
}
