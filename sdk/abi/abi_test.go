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
	for _, ok := range []string{"kv", "timers", "http", "emit:/admin", "emit:/tenant-*", "emit:/"} {
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

func TestPermitHTTP(t *testing.T) {
	for _, tt := range []struct {
		k      Kind
		f      Func
		socket bool
		want   Code
	}{
		{Event, HTTPRequest, true, OK},
		{Timer, HTTPRequest, false, OK},
		{HTTPResponse, HTTPRequest, false, OK},
		{EngineMessage, HTTPRequest, false, OK},
		{Middleware, HTTPRequest, true, ErrNotAllowed},
		{EventMiddleware, HTTPRequest, true, ErrNotAllowed},
		{Init, HTTPRequest, false, ErrNotAllowed},
		{NoCall, HTTPRequest, false, ErrNotAllowed},
		{HTTPResponse, Emit, true, OK},
		{HTTPResponse, DisconnectSocket, true, OK},
		{HTTPResponse, SetSocketData, true, OK},
		{HTTPResponse, Emit, false, ErrNotAllowed},
		{HTTPResponse, SocketData, false, ErrNotAllowed},
		{HTTPResponse, NsBroadcast, false, OK},
		{HTTPResponse, KVGet, false, OK},
		{HTTPResponse, AckServerEvent, true, ErrNotAllowed},
	} {
		if got := PermitCall(tt.k, tt.f, tt.socket); got != tt.want {
			t.Errorf("PermitCall(%v, %v, %v) = %v, want %v", tt.k, tt.f, tt.socket, got, tt.want)
		}
	}
	if HTTPRequest.Capability() != CapHTTP || CheckGrant("http") != nil {
		t.Fatal("http capability")
	}
}

func TestHTTPAllow(t *testing.T) {
	var allow []HTTPPrefix
	for _, e := range []string{"https://auth.example.com", "http://127.0.0.1:8080/hooks/", "https://API.example.com:8443/v1", "http://[::1]:9000/x/"} {
		p, err := ParseHTTPAllow(e)
		if err != nil {
			t.Fatalf("ParseHTTPAllow(%q): %v", e, err)
		}
		allow = append(allow, p)
	}
	if allow[0].String() != "https://auth.example.com:443/" || allow[3].String() != "http://[::1]:9000/x/" {
		t.Fatalf("normalized: %v", allow)
	}
	for _, tt := range []struct {
		url string
		ok  bool
	}{
		{"https://auth.example.com/verify", true},
		{"https://auth.example.com", true},
		{"https://AUTH.example.com.:443/verify?x=1#f", true},
		{"http://auth.example.com/verify", false},
		{"https://auth.example.com:8443/", false},
		{"https://auth.example.com.evil.com/", false},
		{"https://evil.com/auth.example.com/", false},
		{"https://evilauth.example.com/", false},
		{"http://127.0.0.1:8080/hooks/chat", true},
		{"http://127.0.0.1:8080/hooks/", true},
		{"http://127.0.0.1:8080/hooks", false},
		{"http://127.0.0.1:8080/hooksx/", false},
		{"http://127.0.0.1:8080/hooks%2Fx", false},
		{"http://127.0.0.1/hooks/", false},
		{"http://localhost:8080/hooks/", false},
		{"https://api.example.com:8443/v1", true},
		{"https://api.example.com:8443/v1/users", true},
		{"https://api.example.com:8443/v10", false},
		{"http://[::1]:9000/x/y", true},
	} {
		_, p, err := ParseHTTPURL(tt.url)
		if err != nil {
			t.Fatalf("ParseHTTPURL(%q): %v", tt.url, err)
		}
		if got := HTTPAllowed(allow, p); got != tt.ok {
			t.Errorf("HTTPAllowed(%q) = %v, want %v", tt.url, got, tt.ok)
		}
	}
	for _, bad := range []string{"https://auth.example.com@evil.com/", "https://u:p@auth.example.com/",
		"http://127.0.0.1:8080/hooks/../admin", "http://127.0.0.1:8080/hooks/%2e%2e/admin", "http://127.0.0.1:8080/hooks/..\\admin",
		"ftp://auth.example.com/", "/relative", "https:///nohost", "mailto:a@b", "http://a:/", "https://auth.example.com:x/"} {
		if _, _, err := ParseHTTPURL(bad); err == nil {
			t.Errorf("ParseHTTPURL(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"", "auth.example.com", "https://auth.example.com/?q=1", "https://auth.example.com/#f",
		"https://user@auth.example.com/", "ws://auth.example.com/", "https://auth.example.com/a/../b"} {
		if _, err := ParseHTTPAllow(bad); err == nil {
			t.Errorf("ParseHTTPAllow(%q) accepted", bad)
		}
	}
}

func TestCheckHTTPHeader(t *testing.T) {
	for _, ok := range [][2]string{{"Content-Type", "application/json"}, {"authorization", "Bearer x"}, {"X-A", "a\tb"}} {
		if err := CheckHTTPHeader(ok[0], ok[1]); err != nil {
			t.Errorf("CheckHTTPHeader(%q) = %v", ok, err)
		}
	}
	for _, bad := range [][2]string{{"", "x"}, {"A B", "x"}, {"Host", "evil"}, {"content-length", "1"}, {"Transfer-Encoding", "chunked"},
		{"X", "a\r\nInjected: 1"}, {"X", "a\x00"}, {"Connection", "close"}} {
		if CheckHTTPHeader(bad[0], bad[1]) == nil {
			t.Errorf("CheckHTTPHeader(%q) accepted", bad)
		}
	}
}
