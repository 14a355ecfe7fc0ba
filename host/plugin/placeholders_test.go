package plugin

import "testing"

func TestRebasePlaceholders(t *testing.T) {
	tests := []struct {
		in   string
		off  int
		want string
	}{
		{`[1,"x"]`, 3, `[1,"x"]`},
		{`[{"_placeholder":true,"num":0}]`, 0, `[{"_placeholder":true,"num":0}]`},
		{`[{"_placeholder":true,"num":0},{"a":[{"num":1,"_placeholder":true}]}]`, 2, `[{"_placeholder":true,"num":2},{"a":[{"num":3,"_placeholder":true}]}]`},
		{`[ { "num" : 1 , "_placeholder" : true } ]`, 10, `[ { "num" : 11 , "_placeholder" : true } ]`},
		{`[{"_placeholder":false,"num":0},{"num":5},"{\"_placeholder\":true,\"num\":0}"]`, 4, `[{"_placeholder":false,"num":0},{"num":5},"{\"_placeholder\":true,\"num\":0}"]`},
	}
	for _, tc := range tests {
		if got := string(rebasePlaceholders([]byte(tc.in), tc.off)); got != tc.want {
			t.Errorf("rebase(%s, %d) = %s, want %s", tc.in, tc.off, got, tc.want)
		}
	}
}
