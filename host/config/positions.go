package config

import (
	"bytes"
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// positions maps every key of a TOML document to the line that defines
// it, from a walk of the document's syntax tree (go-toml's parser): the
// place of a value is known from the parser, never guessed by searching
// the text. A path is a key's parts, each element of an array of tables
// (or of an array) adding an index part (indexPart), so that the same key
// in two tables, or in two [[namespace]] entries, has two places.
type positions struct {
	starts []int          // the offset of each line's first byte
	at     map[string]int // joined path → line
	// fold is at by the path in lower case: BurntSushi/toml matches a key
	// to a struct field case-insensitively ([Engine] sets engine).
	fold map[string]int
	// plain lists the lines of each path without its index parts, in
	// document order: BurntSushi/toml names undecoded keys that way.
	plain map[string][]int
}

// sep joins the parts of a path; it cannot appear in a TOML key read from
// a file BurntSushi/toml accepted (control characters must be escaped).
const sep = "\x1f"

// indexPart is the path part of element i of an array.
func indexPart(i int) string { return "\x00" + strconv.Itoa(i) }

// newPositions indexes data. A document go-toml cannot walk (it failed to
// parse, which BurntSushi/toml reports with its own position first) gives
// the keys it reached before the failure.
func newPositions(data []byte) *positions {
	ps := &positions{at: map[string]int{}, fold: map[string]int{}, plain: map[string][]int{}, starts: []int{0}}
	for i, b := range data {
		if b == '\n' {
			ps.starts = append(ps.starts, i+1)
		}
	}
	w := walker{ps: ps, arrays: map[string]int{}}
	var p unstable.Parser
	// BurntSushi/toml skips a leading byte-order mark; go-toml would stop
	// at it. It holds no newline: the lines stay.
	for _, bom := range []string{"\xef\xbb\xbf", "\xfe\xff"} {
		data = bytes.TrimPrefix(data, []byte(bom))
	}
	p.Reset(data)
	for p.NextExpression() {
		w.expression(p.Expression())
	}
	return ps
}

// lineAt returns the line of byte offset off.
func (ps *positions) lineAt(off uint32) int {
	return sort.Search(len(ps.starts), func(i int) bool { return ps.starts[i] > int(off) })
}

// lines returns how many lines the document has.
func (ps *positions) lines() int { return len(ps.starts) }

// keyPath converts a key as errors name it — dotted, with "[i]" after an
// array's name ("namespace[2].handler") — to a path.
func keyPath(key string) []string {
	var path []string
	for _, part := range strings.Split(key, ".") {
		if i := strings.IndexByte(part, '['); i > 0 && strings.HasSuffix(part, "]") {
			if n, err := strconv.Atoi(part[i+1 : len(part)-1]); err == nil {
				path = append(path, part[:i], indexPart(n))
				continue
			}
		}
		path = append(path, part)
	}
	return path
}

// line returns the line that defines path, or that of its nearest
// ancestor defined in the document (the table it would go in); 0 when
// none is.
func (ps *positions) line(path ...string) int {
	for n := len(path); n > 0; n-- {
		key := strings.Join(path[:n], sep)
		if l, ok := ps.at[key]; ok {
			return l
		}
		if l, ok := ps.fold[strings.ToLower(key)]; ok {
			return l
		}
	}
	return 0
}

// has reports whether path itself is defined in the document.
func (ps *positions) has(path ...string) bool {
	_, ok := ps.fold[strings.ToLower(strings.Join(path, sep))]
	return ok
}

// walker keeps the state of the walk: the table the key-values go in.
type walker struct {
	ps     *positions
	table  []string
	arrays map[string]int // joined indexed path of an array of tables → elements so far
}

func (w *walker) record(path []string, line int) {
	// A dotted key or header defines its ancestors too: the first mention
	// of a table is its place.
	for n := 1; n <= len(path); n++ {
		key := strings.Join(path[:n], sep)
		if _, ok := w.ps.at[key]; !ok {
			w.ps.at[key] = line
		}
		if _, ok := w.ps.fold[strings.ToLower(key)]; !ok {
			w.ps.fold[strings.ToLower(key)] = line
		}
	}
	var plain []string
	for _, p := range path {
		if !strings.HasPrefix(p, "\x00") {
			plain = append(plain, p)
		}
	}
	pk := strings.Join(plain, sep)
	w.ps.plain[pk] = append(w.ps.plain[pk], line)
}

// keyOf returns the parts of a node's key and the line of its first part.
func (w *walker) keyOf(n *unstable.Node) ([]string, int) {
	var parts []string
	line := 0
	it := n.Key()
	for it.Next() {
		k := it.Node()
		if line == 0 {
			line = w.ps.lineAt(k.Raw.Offset)
		}
		parts = append(parts, string(k.Data))
	}
	return parts, line
}

// resolve turns a header's key into an indexed path: each prefix that is
// an array of tables refers to its last element so far.
func (w *walker) resolve(parts []string) []string {
	var path []string
	for _, p := range parts {
		path = append(path, p)
		if n, ok := w.arrays[strings.Join(path, sep)]; ok {
			path = append(path, indexPart(n-1))
		}
	}
	return path
}

func (w *walker) expression(n *unstable.Node) {
	switch n.Kind {
	case unstable.Table:
		parts, line := w.keyOf(n)
		w.table = w.resolve(parts)
		w.record(w.table, line)
	case unstable.ArrayTable:
		parts, line := w.keyOf(n)
		parent := w.resolve(parts[:len(parts)-1])
		arr := append(parent, parts[len(parts)-1])
		key := strings.Join(arr, sep)
		i := w.arrays[key]
		w.arrays[key] = i + 1
		w.record(arr, line)
		w.table = append(arr, indexPart(i))
		w.record(w.table, line)
	case unstable.KeyValue:
		w.keyValue(w.table, n)
	}
}

// keyValue records a key-value under prefix, and what an inline table or
// an array of them holds.
func (w *walker) keyValue(prefix []string, n *unstable.Node) {
	parts, line := w.keyOf(n)
	path := append(append([]string(nil), prefix...), parts...)
	w.record(path, line)
	w.value(path, n.Value(), line)
}

func (w *walker) value(path []string, v *unstable.Node, line int) {
	switch v.Kind {
	case unstable.InlineTable:
		it := v.Children()
		for it.Next() {
			w.keyValue(path, it.Node())
		}
	case unstable.Array:
		it := v.Children()
		for i := 0; it.Next(); i++ {
			el := append(append([]string(nil), path...), indexPart(i))
			e := it.Node()
			if e.Kind == unstable.InlineTable || e.Kind == unstable.Array {
				w.record(el, line)
				w.value(el, e, line)
			}
		}
	}
}
