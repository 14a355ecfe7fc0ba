package router

import (
	"errors"
	"strings"
	"testing"

	"github.com/sockwasm/sockwasm/host/config"
	"github.com/sockwasm/sockwasm/host/plugin"
)

// fakes returns a Lookup of distinct placeholder plugins, one per name;
// routing compares them by identity only.
func fakes(names ...string) (Lookup, map[string]*plugin.Plugin) {
	m := map[string]*plugin.Plugin{}
	for _, n := range names {
		m[n] = new(plugin.Plugin)
	}
	return func(name string) *plugin.Plugin { return m[name] }, m
}

func TestRoutePrecedence(t *testing.T) {
	lookup, p := fakes("chat", "admin", "ping", "catch", "all")
	r, err := New(config.Namespace{Name: "/", Handler: "catch", Events: map[string]string{
		"chat:*":       "chat",
		"chat:admin:*": "admin",
		"chat:admin:x": "ping",
		"*":            "all",
	}}, lookup)
	if err != nil {
		t.Fatal(err)
	}
	for ev, want := range map[string]string{
		"chat:say":     "chat",
		"chat:admin:y": "admin",
		"chat:admin:x": "ping", // exact beats every pattern
		"chat:":        "chat",
		"other":        "all", // "*" is the empty prefix: below every other route
	} {
		if got := r.Route(ev); got != p[want] {
			t.Errorf("Route(%q) is not %s", ev, want)
		}
	}
	r2, _ := New(config.Namespace{Name: "/", Handler: "catch", Events: map[string]string{"chat:*": "chat"}}, lookup)
	if r2.Route("other") != p["catch"] {
		t.Error("unrouted event does not reach the handler")
	}
	r3, _ := New(config.Namespace{Name: "/", Events: map[string]string{"a": "chat"}}, lookup)
	if r3.Route("b") != nil {
		t.Error("event without route nor handler is not dropped")
	}
}

func TestTableLookupAndSwap(t *testing.T) {
	lookup, _ := fakes("a", "b", "c")
	t1, err := Build([]config.Namespace{
		{Name: "/", Handler: "a"},
		{Name: "/tenant-*", Handler: "b"},
		{Name: "/tenant-vip-*", Handler: "c"},
		{Name: "/tenant-x", Handler: "a"},
	}, lookup)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"/": "/", "/tenant-1": "/tenant-*", "/tenant-vip-9": "/tenant-vip-*", "/tenant-x": "/tenant-x", "/tenant-": "/tenant-*",
	} {
		if n := t1.Lookup(name); n == nil || n.Name() != want {
			t.Errorf("Lookup(%q) = %v, want %s", name, n, want)
		}
	}
	if t1.Lookup("/other") != nil || t1.Lookup("/tenant") != nil {
		t.Error("unmatched namespace resolved")
	}
	if got := strings.Join(t1.Exact(), ","); got != "/,/tenant-x" {
		t.Errorf("Exact = %s", got)
	}

	rt := NewRouter(t1)
	if rt.Resolve("/other") != nil || rt.Resolve("/tenant-7") == nil {
		t.Error("Resolve")
	}
	h := rt.Handler("/tenant-7").(*binding)
	// A table without the namespace: new connections refused, the routes
	// last known kept for the sockets already there.
	t2, err := Build([]config.Namespace{{Name: "/", Handler: "a"}}, lookup)
	if err != nil {
		t.Fatal(err)
	}
	if rt.Swap(t2) != t1 || rt.Table() != t2 {
		t.Fatal("Swap")
	}
	if cerr := h.Authorize(nil); cerr == nil || cerr.Message != "Invalid namespace" {
		t.Errorf("Authorize after removal = %v", cerr)
	}
	if n, ok := h.current(); ok || n == nil || n.Name() != "/tenant-*" {
		t.Errorf("current after removal = %v %v", n, ok)
	}
	if rt.Resolve("/tenant-7") != nil {
		t.Error("removed pattern still resolves")
	}
}

func TestMissingPlugins(t *testing.T) {
	lookup, _ := fakes("a")
	_, err := Build([]config.Namespace{
		{Name: "/", Handler: "a", EventMiddleware: []string{"rl"}},
		{Name: "/x", Middleware: []string{"auth"}, Events: map[string]string{"e:*": "gone", "f": "gone"}},
	}, lookup)
	var me *MissingPluginError
	if !errors.As(err, &me) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{`"/" routes to plugins that are not loaded: [rl]`, `"/x" routes to plugins that are not loaded: [auth gone]`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v does not contain %s", err, want)
		}
	}
}
