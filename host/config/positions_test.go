package config

import "testing"

// Every key's line comes from the parser: a key repeated in several
// tables, arrays of tables (nested too), inline tables and dotted keys
// each have their own place.
func TestPositions(t *testing.T) {
	doc := `# comment
listen = "x"   # 2
[plugin.chat]
call_timeout = "2s"
s = """
[plugins]
call_timeout = 1
"""
[plugins]
call_timeout = "-1s"
[[namespace]]
name = "/"
events = { "chat.msg" = "chat", "a:*" = "b" }
[[namespace]]
name = "/b"
[namespace.events]
"chat.msg" = "x"
[[engine_endpoint]]
path = "/e/"
plugin.inline = { grants = ["kv"], config = { deep = [ { k = 1 } ] } }
a.b.c = 1
`
	ps := newPositions([]byte(doc))
	for _, c := range []struct {
		path []string
		want int
	}{
		{[]string{"listen"}, 2},
		{[]string{"plugin", "chat", "call_timeout"}, 4},
		{[]string{"plugins", "call_timeout"}, 10},
		{[]string{"plugins"}, 9},
		{[]string{"plugins", "absent"}, 9},
		{[]string{"namespace", indexPart(0), "name"}, 12},
		{[]string{"namespace", indexPart(0), "events", "chat.msg"}, 13},
		{[]string{"namespace", indexPart(0), "events", "a:*"}, 13},
		{[]string{"namespace", indexPart(1), "name"}, 15},
		{[]string{"namespace", indexPart(1), "events", "chat.msg"}, 17},
		{[]string{"namespace", indexPart(1), "handler"}, 14},
		{[]string{"engine_endpoint", indexPart(0), "path"}, 19},
		{[]string{"engine_endpoint", indexPart(0), "plugin", "inline", "config", "deep", indexPart(0), "k"}, 20},
		{[]string{"engine_endpoint", indexPart(0), "a", "b", "c"}, 21},
		{[]string{"nowhere"}, 0},
	} {
		if got := ps.line(c.path...); got != c.want {
			t.Errorf("line%q = %d, want %d", c.path, got, c.want)
		}
	}
	if got := ps.plain["namespace"+sep+"name"]; len(got) != 2 || got[0] != 12 || got[1] != 15 {
		t.Errorf("plain namespace.name = %v", got)
	}
}
