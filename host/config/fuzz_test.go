package config

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"
)

// Any document: Parse never panics, and every error it reports has a line
// within the document.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"",
		"listen = \"127.0.0.1:3000\"\n[engine]\nmax_payload = 20000000\n",
		"[plugin.chat]\ncall_timeout = \"-1s\"\n[plugins]\ncall_timeout = \"2s\"\n",
		"[[namespace]]\nname = \"/\"\nevents = { \"a**\" = \"chat\" }\n[[namespace]]\nname = \"/b\"\n[namespace.events]\n\"c\" = \"bad name\"\n",
		"plugin.chat = { grants = [\"kv\", \"kv\"], config = { a = [ { b = 1 } ] } }\n[[engine_endpoint]]\npath = \"x\"\n",
		"[adapter]\nkind = \"redis\"\nsubscription_mode = 1\n",
		"a = \"\"\"\n[x]\n\"\"\"\nb = 'c'\n[d.e]\nf = 1979-05-27T07:32:00Z\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		slow := time.AfterFunc(2*time.Second, func() { panic(fmt.Sprintf("Parse of %q takes over 2 s", doc)) })
		_, err := Parse("fuzz.toml", doc)
		slow.Stop()
		if err == nil {
			return
		}
		var errs Errors
		if !errors.As(err, &errs) {
			t.Fatalf("error of type %T: %v", err, err)
		}
		lines := bytes.Count(doc, []byte("\n")) + 1
		for _, e := range errs {
			if e.Line < 1 || e.Line > lines {
				t.Fatalf("%q: error at line %d of %d: %v", doc, e.Line, lines, e)
			}
		}
	})
}
