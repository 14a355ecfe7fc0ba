package router

import (
	"testing"

	"github.com/sockwasm/sockwasm/host/config"
)

// BenchmarkRoute is the routing work of one event, as binding.OnEvent
// does it before and after the plugin call: the namespace's routes in the
// table in use, the event's route, and the event's counter.
func BenchmarkRoute(b *testing.B) {
	lookup, _ := fakes("chat", "admin", "catch")
	tab, err := Build([]config.Namespace{
		{Name: "/", Handler: "catch", Events: map[string]string{"message": "chat", "chat:*": "chat", "admin:*": "admin"}},
		{Name: "/tenant-*", Handler: "catch"},
	}, lookup)
	if err != nil {
		b.Fatal(err)
	}
	r := NewRouter(tab)
	for _, bc := range []struct{ name, nsp, event string }{
		{"exact", "/", "message"},
		{"prefix", "/", "chat:say"},
		{"handler", "/", "other"},
		{"dynamic-namespace", "/tenant-42", "message"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				n := r.Table().Lookup(bc.nsp)
				p, key := n.route(bc.event)
				if p == nil {
					b.Fatal("not routed")
				}
				r.count(Count{Kind: "event", Namespace: n.Name(), Key: key, Outcome: "routed"})
			}
		})
	}
}
