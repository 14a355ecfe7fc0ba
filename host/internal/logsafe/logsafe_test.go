package logsafe

import "testing"

func TestText(t *testing.T) {
	for _, tt := range []struct {
		in   string
		max  int
		want string
	}{
		{"hello, wörld 🎉", -1, "hello, wörld 🎉"},
		{"line1\n2026-12-01T00:00:00Z INF forged", -1, `line1\n2026-12-01T00:00:00Z INF forged`},
		{"a\rb\tc\x00d\x1b[31m", -1, `a\rb\tc\x00d\x1b[31m`},
		{`back\slash`, -1, `back\\slash`},
		{"bad \xff\xfe utf8", -1, `bad \xff\xfe utf8`},
		{"c1 \u009b and \u2028", -1, `c1 \xc2\x9b and \xe2\x80\xa8`},
		{"abcdef", 3, "abc…"},
		{"a\nbcdef", 3, `a\nb…`},
		{"", -1, ""},
	} {
		if got := Text([]byte(tt.in), tt.max); got != tt.want {
			t.Errorf("Text(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestTextCleanDoesNotCopyTwice(t *testing.T) {
	b := []byte("plain ascii log line")
	if n := testing.AllocsPerRun(100, func() { _ = Text(b, -1) }); n > 1 {
		t.Fatalf("Text allocates %v times on clean input", n)
	}
}
