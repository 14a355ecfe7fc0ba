package msgpack

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/sockwasm/sockwasm/protocol/socketio"
	"github.com/vmihailenco/msgpack/v5"
)

// TestAppendJSNumber compares with String(x) in Node.js 20 for the
// doubles of testdata/jsnumbers.txt (node testdata/jsnumbers.js).
func TestAppendJSNumber(t *testing.T) {
	f, err := os.Open("testdata/jsnumbers.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		bitsHex, want, _ := strings.Cut(sc.Text(), " ")
		b, err := hex.DecodeString(bitsHex)
		if err != nil {
			t.Fatal(err)
		}
		x := math.Float64frombits(binary.BigEndian.Uint64(b))
		if got := string(AppendJSNumber(nil, x)); got != want {
			t.Errorf("%v (%s): %s, want %s", x, bitsHex, got, want)
		}
		n++
	}
	if n < 500 {
		t.Fatalf("only %d numbers", n)
	}
	for _, c := range []struct {
		x    float64
		want string
	}{
		{math.Copysign(0, -1), "0"}, {math.NaN(), "NaN"}, {math.Inf(1), "Infinity"}, {math.Inf(-1), "-Infinity"},
		{1e21, "1e+21"}, {1.5e-7, "1.5e-7"}, {0.000001, "0.000001"}, {2.5, "2.5"}, {-1e-7, "-1e-7"},
	} {
		if got := string(AppendJSNumber(nil, c.x)); got != c.want {
			t.Errorf("%v: %s, want %s", c.x, got, c.want)
		}
	}
}

// TestRoundTrip transcodes JSON to msgpack and back.
func TestRoundTrip(t *testing.T) {
	tests := []struct {
		in, out string // out "" means in
		atts    [][]byte
		hex     string // expected msgpack, when given
	}{
		{in: `0`, hex: "00"},
		{in: `-1`, hex: "ff"},
		{in: `255`, hex: "ccff"},
		{in: `256`, hex: "cd0100"},
		{in: `65536`, hex: "ce00010000"},
		{in: `4294967296`, hex: "cf0000000100000000"},
		{in: `-2147483649`, hex: "d3ffffffff7fffffff"},
		{in: `9007199254740992`, hex: "cf0020000000000000"},
		{in: `9007199254740993`, hex: "cf0020000000000001"},
		{in: `18446744073709551615`, hex: "cfffffffffffffffff"},
		{in: `-9223372036854775808`, hex: "d38000000000000000"},
		{in: `18446744073709551616`, out: `18446744073709552000`, hex: "cb43f0000000000000"},
		{in: `1.5`, hex: "cb3ff8000000000000"},
		{in: `1e21`, out: `1e+21`, hex: "cb444b1ae4d6e2ef50"},
		{in: `1e-7`, hex: "cb3e7ad7f29abcaf48"},
		{in: `-0.0`, out: `0`, hex: "00"},
		{in: `-0`, out: `0`, hex: "00"},
		{in: `1.0`, out: `1`, hex: "01"},
		{in: `1E2`, out: `100`, hex: "64"},
		{in: `2.5e-3`, out: `0.0025`},
		{in: `1e400`, out: `null`, hex: "cb7ff0000000000000"},
		{in: `-1e400`, out: `null`, hex: "cbfff0000000000000"},
		{in: `1e-400`, out: `0`, hex: "00"},
		{in: `true`, hex: "c3"},
		{in: `false`, hex: "c2"},
		{in: `null`, hex: "c0"},
		{in: `""`, hex: "a0"},
		{in: `"é€😀"`, hex: "a9c3a9e282acf09f9880"},
		{in: `"\u00e9\/\ud83d\ude00"`, out: `"é/😀"`, hex: "a7c3a92ff09f9880"},
		{in: `"\ud800x"`, out: `"` + "\uFFFD" + `x"`},
		{in: `"\udc00\ud800"`, out: `"` + "\uFFFD\uFFFD" + `"`},
		{in: `"\u0000\u001f\"\\\b\f\n\r\t"`, out: `"\u0000\u001f\"\\\b\f\n\r\t"`},
		{in: `"` + strings.Repeat(`\n`, 40) + `"`, hex: "d928" + strings.Repeat("0a", 40)},
		{in: `"` + strings.Repeat(`\u0041`, 40) + `"`, out: `"` + strings.Repeat("A", 40) + `"`},
		{in: ` [ 1 , { "a" : [ ] , "b" : { } } ] `, out: `[1,{"a":[],"b":{}}]`, hex: "920182a16190a16280"},
		{in: `{"a":{"b":{"c":[1,[2,[3,{"d":null}]]]}}}`},
		{in: `[` + strings.Repeat(`1,`, 15) + `1]`, hex: "dc0010" + strings.Repeat("01", 16)},
		{in: `[` + strings.Repeat(`[],`, 65535) + `[]]`, hex: "dd00010000" + strings.Repeat("90", 65536)},
		{in: `{"_placeholder":true,"num":0}`, atts: [][]byte{{1, 2}}, hex: "c4020102"},
		{in: `["x",{"_placeholder":true,"num":1},[{"_placeholder":true,"num":0}]]`, out: `["x",{"_placeholder":true,"num":0},[{"_placeholder":true,"num":1}]]`, atts: [][]byte{{1}, {2, 3}}, hex: "93a178c402020391c40101"},
		{in: `{"num":0,"_placeholder":true}`, out: `{"_placeholder":true,"num":0}`, atts: [][]byte{{}}, hex: "c400"},
		{in: `{"_placeholder":false,"num":0}`, hex: "82ac5f706c616365686f6c646572c2a36e756d00"},
		{in: `{"_placeholder":true,"num":0,"x":1}`, out: `{"_placeholder":true,"num":0}`, atts: [][]byte{{9}}, hex: "c40109"},
		{in: `[{"_placeholder":true,"num":0}]`, atts: [][]byte{bytes.Repeat([]byte{5}, 256)}, hex: "91c50100" + strings.Repeat("05", 256)},
	}
	for _, c := range tests {
		name := c.in
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			mp, err := AppendMsgpack(nil, []byte(c.in), c.atts, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if c.hex != "" && hex.EncodeToString(mp) != c.hex {
				t.Fatalf("msgpack %x, want %s", mp, c.hex)
			}
			out, atts, err := AppendJSON(nil, mp, nil, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			want := c.out
			if want == "" {
				want = c.in
			}
			if string(out) != want {
				t.Fatalf("JSON %s, want %s", out, want)
			}
			if err := socketio.Validate(out, DefaultMaxDepth); err != nil {
				t.Fatal(err)
			}
			if n, err := socketio.CountPlaceholders(out, DefaultMaxDepth, len(atts)); err != nil || n != len(atts) {
				t.Fatalf("placeholders %d %v, attachments %d", n, err, len(atts))
			}
			checkWithVmihailenco(t, []byte(c.in), c.atts, mp)
		})
	}
}

// checkWithVmihailenco decodes mp with github.com/vmihailenco/msgpack, an
// independent decoder, and compares with what encoding/json reads from
// the JSON input (placeholders replaced by their attachments).
func checkWithVmihailenco(t *testing.T, in []byte, atts [][]byte, mp []byte) {
	t.Helper()
	var got any
	if err := msgpack.Unmarshal(mp, &got); err != nil {
		t.Fatalf("vmihailenco: %v", err)
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(in))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	if want := normalize(reconstruct(v, atts)); !reflect.DeepEqual(normalize(got), want) {
		t.Fatalf("vmihailenco decodes %#v, want %#v", got, want)
	}
}

// reconstruct replaces placeholders by attachments and turns json.Number
// values into exact integers or float64.
func reconstruct(v any, atts [][]byte) any {
	switch t := v.(type) {
	case json.Number:
		s := string(t)
		if u, err := strconv.ParseUint(s, 10, 64); err == nil {
			return u
		}
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i
		}
		f, _ := strconv.ParseFloat(s, 64)
		return f
	case []any:
		for i := range t {
			t[i] = reconstruct(t[i], atts)
		}
	case map[string]any:
		if t["_placeholder"] == true {
			n, _ := strconv.Atoi(string(t["num"].(json.Number)))
			return atts[n]
		}
		for k := range t {
			t[k] = reconstruct(t[k], atts)
		}
	}
	return v
}

// normalize maps numbers to uint64 (non-negative integers), int64
// (negative integers) or float64, and nil []byte to empty.
func normalize(v any) any {
	switch t := v.(type) {
	case float64:
		switch {
		case t == 0:
			return uint64(0)
		case t == math.Trunc(t) && t > 0 && t < 1<<64:
			return uint64(t)
		case t == math.Trunc(t) && t < 0 && t >= -(1<<63):
			return int64(t)
		}
		return t
	case float32:
		return normalize(float64(t))
	case int8, int16, int32, int64, int:
		i := reflect.ValueOf(t).Int()
		if i >= 0 {
			return uint64(i)
		}
		return i
	case uint8, uint16, uint32, uint64, uint:
		return reflect.ValueOf(t).Uint()
	case []byte:
		if t == nil {
			return []byte{}
		}
		return t
	case []any:
		out := make([]any, len(t))
		for i := range t {
			out[i] = normalize(t[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = normalize(e)
		}
		return out
	}
	return v
}

func TestDecodeErrors(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("91", n) + "c0" }
	tests := []struct {
		hex  string
		lim  Limits
		want error
	}{
		{"", Limits{}, ErrInvalidMsgpack},
		{"c1", Limits{}, ErrInvalidMsgpack},
		{"92c0", Limits{}, ErrInvalidMsgpack},                         // truncated array
		{"c0c0", Limits{}, ErrInvalidMsgpack},                         // trailing bytes
		{"a3616263c0", Limits{}, ErrInvalidMsgpack},                   // trailing bytes
		{"a461", Limits{}, ErrInvalidMsgpack},                         // short str
		{"dcffff", Limits{}, ErrInvalidMsgpack},                       // count beyond input
		{"ddffffffff00", Limits{}, ErrInvalidMsgpack},                 // count beyond input
		{"df0000000100", Limits{}, ErrInvalidMsgpack},                 // map needs 2 bytes per entry
		{"c6ffffffff", Limits{}, ErrInvalidMsgpack},                   // bin beyond input
		{"dbffffffff41", Limits{}, ErrInvalidMsgpack},                 // str beyond input
		{"c70bff0000000000000000000000", Limits{}, ErrInvalidMsgpack}, // timestamp 96 of 11 bytes
		{"cb00", Limits{}, ErrInvalidMsgpack},
		{"81c3c0", Limits{}, ErrMapKey},
		{"81c0c0", Limits{}, ErrMapKey},
		{"8190c0", Limits{}, ErrMapKey},
		{"81c40161c0", Limits{}, ErrMapKey},
		{"81d40000c0", Limits{}, ErrMapKey},
		{deep(64), Limits{}, nil},
		{deep(65), Limits{}, ErrTooDeep},
		{deep(3), Limits{MaxDepth: 2}, ErrTooDeep},
		{strings.Repeat("91", 63) + "c400", Limits{}, nil},
		{strings.Repeat("91", 64) + "c400", Limits{}, ErrTooDeep}, // the placeholder is one level
		{strings.Repeat("91", 62) + "d40107", Limits{}, nil},
		{strings.Repeat("91", 63) + "d40107", Limits{}, ErrTooDeep},
		{"9b" + strings.Repeat("c400", 11), Limits{}, ErrTooManyAttachments},
		{"9a" + strings.Repeat("c400", 10), Limits{}, nil},
		{"93c400c400c400", Limits{MaxAttachments: 2}, ErrTooManyAttachments},
		{"81a9__proto__" + deep(65), Limits{}, ErrTooDeep},
	}
	for _, c := range tests {
		msg, err := hex.DecodeString(strings.ReplaceAll(c.hex, "__proto__", "5f5f70726f746f5f5f"))
		if err != nil {
			t.Fatal(c.hex, err)
		}
		out, atts, err := AppendJSON([]byte("x"), msg, nil, c.lim)
		if !errors.Is(err, c.want) || (err == nil) != (c.want == nil) {
			t.Errorf("%.40s: %v, want %v", c.hex, err, c.want)
		}
		if err != nil && (string(out) != "x" || atts != nil) { // nil in, nil out
			t.Errorf("%.40s: output not rolled back", c.hex)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		in   string
		atts int
		want error
	}{
		{``, 0, ErrInvalidJSON},
		{`[1,]`, 0, ErrInvalidJSON},
		{`[1] 2`, 0, ErrInvalidJSON},
		{`{"a"}`, 0, ErrInvalidJSON},
		{`{"a":1,}`, 0, ErrInvalidJSON},
		{`01`, 0, ErrInvalidJSON},
		{`1.`, 0, ErrInvalidJSON},
		{`-`, 0, ErrInvalidJSON},
		{`1e`, 0, ErrInvalidJSON},
		{`"\x"`, 0, ErrInvalidJSON},
		{`"\u12"`, 0, ErrInvalidJSON},
		{"\"\x01\"", 0, ErrInvalidJSON},
		{"\"\xff\"", 0, ErrInvalidJSON},
		{`"abc`, 0, ErrInvalidJSON},
		{`tru`, 0, ErrInvalidJSON},
		{`nul`, 0, ErrInvalidJSON},
		{`{"_placeholder":true,"num":1}`, 1, ErrBadPlaceholder},
		{`{"_placeholder":true}`, 1, ErrBadPlaceholder},
		{`{"_placeholder":true,"num":-1}`, 1, ErrBadPlaceholder},
		{`{"_placeholder":true,"num":0.5}`, 1, ErrBadPlaceholder},
		{`{"_placeholder":true,"num":"0"}`, 1, ErrBadPlaceholder},
		{strings.Repeat("[", 64) + strings.Repeat("]", 64), 0, nil},
		{strings.Repeat("[", 65) + strings.Repeat("]", 65), 0, ErrTooDeep},
		{strings.Repeat("[", 63) + `{"_placeholder":true,"num":0}` + strings.Repeat("]", 63), 1, nil},
		{strings.Repeat("[", 64) + `{"_placeholder":true,"num":0}` + strings.Repeat("]", 64), 1, ErrTooDeep},
	}
	for _, c := range tests {
		atts := make([][]byte, c.atts)
		out, err := AppendMsgpack([]byte("x"), []byte(c.in), atts, Limits{})
		if !errors.Is(err, c.want) || (err == nil) != (c.want == nil) {
			t.Errorf("%.40q: %v, want %v", c.in, err, c.want)
		}
		if err != nil && string(out) != "x" {
			t.Errorf("%.40q: output not rolled back", c.in)
		}
		var se *SyntaxError
		if errors.Is(err, ErrInvalidJSON) && !errors.As(err, &se) {
			t.Errorf("%q: %v is not a *SyntaxError", c.in, err)
		}
	}
}

// TestDecodeBound checks that hostile messages make outputs of a small
// multiple of their size.
func TestDecodeBound(t *testing.T) {
	for _, body := range []string{
		strings.Repeat("c0", 1000),                   // null,
		strings.Repeat("e0", 1000),                   // -32,
		strings.Repeat("d40000", 300),                // undefined -> null,
		"da03e8" + strings.Repeat("01", 1000),        // control characters
		strings.Repeat("81a0c0", 300),                // {"":null}
		strings.Repeat("d6ff00000000", 150),          // dates
		strings.Repeat("ca00000001", 200),            // float32 denormals
		strings.Repeat("81cbbff0000000000001c0", 90), // float keys
	} {
		n := len(body) / 2
		var head string
		if strings.HasPrefix(body, "da03e8") {
			head = ""
		} else {
			count := n
			switch {
			case strings.HasPrefix(body, "d40000"):
				count = n / 3
			case strings.HasPrefix(body, "81a0"):
				count = n / 3
			case strings.HasPrefix(body, "d6ff"):
				count = n / 6
			case strings.HasPrefix(body, "ca"):
				count = n / 5
			case strings.HasPrefix(body, "81cb"):
				count = n / 11
			}
			head = hex.EncodeToString(AppendArrayHeader(nil, count))
		}
		msg, _ := hex.DecodeString(head + body)
		out, _, err := AppendJSON(nil, msg, nil, Limits{})
		if err != nil {
			t.Fatal(body[:10], err)
		}
		if len(out) > 6*len(msg) {
			t.Errorf("%.10s...: %d bytes of JSON from %d of msgpack", body, len(out), len(msg))
		}
	}
}

func TestJSString(t *testing.T) {
	for in, want := range map[string]string{
		"abc":              "abc",
		"\xe2\x82A\xff":    "\uFFFDA\uFFFD",
		"\xf0\x9f\x98":     "\uFFFD",
		"\xed\xa0\x80":     "\uFFFD\uFFFD\uFFFD",
		"\xc0\xaf":         "\uFFFD\uFFFD",
		"\xf4\x90\x80\x80": "\uFFFD\uFFFD\uFFFD\uFFFD",
		"\xe0\x80\x80":     "\uFFFD\uFFFD\uFFFD",
		"\xf4\x8f\xbf\xbf": "\U0010FFFF",
	} {
		if got := socketio.NodeString([]byte(in)); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
		if got := string(appendJSONString(nil, []byte(in))); got != `"`+want+`"` {
			t.Errorf("%q: JSON %q, want %q", in, got, want)
		}
	}
}

// TestDates compares legacy millisecond dates (fixext 8 of type 0) with
// JSON.stringify(new Date(ms)) in Node.js 20.
func TestDates(t *testing.T) {
	for ms, want := range map[int64]string{
		-8.64e15:        `"-271821-04-20T00:00:00.000Z"`,
		8.64e15:         `"+275760-09-13T00:00:00.000Z"`,
		8.64e15 + 1:     `null`,
		-62198755200000: `"-000001-01-01T00:00:00.000Z"`,
		-62230291200000: `"-000002-01-01T00:00:00.000Z"`,
		-62167219200000: `"0000-01-01T00:00:00.000Z"`,
		253402300799999: `"9999-12-31T23:59:59.999Z"`,
		253402300800000: `"+010000-01-01T00:00:00.000Z"`,
		-1:              `"1969-12-31T23:59:59.999Z"`,
		0:               `"1970-01-01T00:00:00.000Z"`,
	} {
		msg := binary.BigEndian.AppendUint64([]byte{0xd7, 0}, uint64(ms))
		got, _, err := AppendJSON(nil, msg, nil, Limits{})
		if err != nil || string(got) != want {
			t.Errorf("%d: %s %v, want %s", ms, got, err, want)
		}
	}
}
