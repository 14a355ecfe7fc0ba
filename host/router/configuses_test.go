package router

import (
	"testing"

	"github.com/sockwasm/sockwasm/host/config"
)

// ConfigUses answers from the configuration as Table.Lookup(...).Uses
// would: the exact namespace first, else the longest pattern, and every
// kind of route counts.
func TestConfigUses(t *testing.T) {
	nsps := []config.Namespace{
		{Name: "/", Handler: "chat"},
		{Name: "/t-*", Middleware: []string{"auth"}, Handler: "tenant"},
		{Name: "/t-admin*", EventMiddleware: []string{"audit"}, Events: map[string]string{"x:*": "admin"}},
		{Name: "/t-admin", Handler: "exact"},
	}
	for _, c := range []struct {
		nsp, plugin string
		want        bool
	}{
		{"/", "chat", true},
		{"/", "tenant", false},
		{"/t-1", "auth", true},
		{"/t-1", "tenant", true},
		{"/t-admin2", "audit", true},
		{"/t-admin2", "admin", true},
		{"/t-admin2", "tenant", false}, // the longer pattern wins
		{"/t-admin", "exact", true},
		{"/t-admin", "admin", false}, // the exact name wins
		{"/other", "chat", false},
	} {
		if got := ConfigUses(nsps, c.nsp, c.plugin); got != c.want {
			t.Errorf("ConfigUses(%s, %s) = %v, want %v", c.nsp, c.plugin, got, c.want)
		}
	}
}
