package plugin

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero/api"

	"github.com/sockwasm/sockwasm/sdk/abi"
)

// The ABI is defined once, in sdk/abi (names, kinds, codes) and this
// package's hostFuncs (signatures). These tests fail when sdk/ABI.md or
// an SDK (Go, AssemblyScript, C, Rust) says otherwise.

// decl is a host function as a document or an SDK declares it.
type decl struct {
	params    []api.ValueType
	hasResult bool
}

func (d decl) String() string {
	var b strings.Builder
	b.WriteByte('(')
	for i, p := range d.params {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(api.ValueTypeName(p))
	}
	b.WriteString(") → ")
	if d.hasResult {
		b.WriteString("i32")
	} else {
		b.WriteString("()")
	}
	return b.String()
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkDecls compares decls (from where) with the host's functions:
// every function declared, with its signature, and no other.
func checkDecls(t *testing.T, where string, decls map[string]decl) {
	t.Helper()
	for name, d := range decls {
		f, ok := abi.FuncByName(name)
		if !ok {
			t.Errorf("%s declares %s, which the host does not have", where, name)
			continue
		}
		h := hostFuncs[f]
		want := decl{params: h.params, hasResult: len(h.results) > 0}
		if d.String() != want.String() {
			t.Errorf("%s: %s is %s, the host's %s", where, name, d, want)
		}
	}
	for f := abi.Func(0); f < abi.NumFuncs; f++ {
		if _, ok := decls[f.String()]; !ok {
			t.Errorf("%s does not declare %s", where, f)
		}
	}
	if len(decls) == 0 {
		t.Errorf("%s: no declaration found", where)
	}
}

// typesOf maps parameter declarations to value types: is64 tells the
// 64-bit ones (a pointer is never one).
func typesOf(params string, is64 func(string) bool) []api.ValueType {
	var out []api.ValueType
	for _, p := range strings.Split(params, ",") {
		if p = strings.TrimSpace(p); p == "" || p == "void" {
			continue
		}
		if is64(p) {
			out = append(out, api.ValueTypeI64)
		} else {
			out = append(out, api.ValueTypeI32)
		}
	}
	return out
}

func oneLine(s string) string { return regexp.MustCompile(`\s+`).ReplaceAllString(s, " ") }

// sdk/ABI.md's tables of host functions: "| `name` | `(a, b i32, c i64) → i32` |".
func TestABIDocFunctions(t *testing.T) {
	row := regexp.MustCompile("(?m)^\\| `(\\w+)` \\| `\\(([^)]*)\\) → (i32|\\(\\))` \\|")
	decls := map[string]decl{}
	for _, m := range row.FindAllStringSubmatch(read(t, "../../sdk/ABI.md"), -1) {
		// "(key_ptr, key_len i32, delta i64, out_ptr i32)": a type closes a group of names.
		var params []api.ValueType
		pending := 0
		for _, p := range strings.Split(m[2], ",") {
			f := strings.Fields(p)
			if len(f) == 0 {
				continue
			}
			pending++
			if len(f) == 2 {
				typ := api.ValueTypeI32
				if f[1] == "i64" {
					typ = api.ValueTypeI64
				}
				for ; pending > 0; pending-- {
					params = append(params, typ)
				}
			}
		}
		if pending > 0 {
			t.Errorf("ABI.md: %s: parameters without a type", m[1])
		}
		decls[m[1]] = decl{params: params, hasResult: m[3] == "i32"}
	}
	checkDecls(t, "sdk/ABI.md", decls)
}

// sdk/ABI.md's tables of call kinds and result codes.
func TestABIDocKindsAndCodes(t *testing.T) {
	doc := read(t, "../../sdk/ABI.md")
	kinds := regexp.MustCompile(`(?m)^\| (\d+) \| ([A-Z_]+) \|`).FindAllStringSubmatch(doc, -1)
	if len(kinds) != abi.NumKinds-1 {
		t.Errorf("ABI.md lists %d call kinds, sdk/abi %d", len(kinds), abi.NumKinds-1)
	}
	for _, m := range kinds {
		n, _ := strconv.Atoi(m[1])
		if want := strings.ToUpper(strings.ReplaceAll(abi.Kind(n).String(), "-", "_")); m[2] != want {
			t.Errorf("ABI.md: kind %d is %s, sdk/abi says %s", n, m[2], want)
		}
	}
	codes := regexp.MustCompile("(?m)^\\| −(\\d+) \\| `([A-Z_]+)` \\|").FindAllStringSubmatch(doc, -1)
	for _, m := range codes {
		n, _ := strconv.Atoi(m[1])
		if want := abi.Code(-n).String(); m[2] != want {
			t.Errorf("ABI.md: code −%d is %s, sdk/abi says %s", n, m[2], want)
		}
	}
	if abi.Code(-len(codes)-1).String() != "ERR_UNKNOWN" || len(codes) == 0 {
		t.Errorf("ABI.md lists %d error codes; sdk/abi has more", len(codes))
	}
}

// The Go SDK's //go:wasmimport declarations.
func TestGoSDKImports(t *testing.T) {
	files, _ := filepath.Glob("../../sdk/go/imports*_wasip1.go")
	decls := map[string]decl{}
	re := regexp.MustCompile(`//go:wasmimport sockwasm_v1 (\w+)\nfunc \w+\(([^)]*)\)( \w+)?`)
	for _, f := range files {
		for _, m := range re.FindAllStringSubmatch(read(t, f), -1) {
			decls[m[1]] = decl{
				params:    typesOf(m[2], func(p string) bool { return strings.HasSuffix(p, "int64") }),
				hasResult: m[3] != "",
			}
		}
	}
	checkDecls(t, "sdk/go", decls)
}

// The AssemblyScript SDK's @external declarations, and its constants.
func TestAssemblyScriptSDK(t *testing.T) {
	host := read(t, "../../sdk/assemblyscript/assembly/host.ts")
	re := regexp.MustCompile(`@external\("sockwasm_v1", "(\w+)"\)\s*export declare function \w+\(([^)]*)\): (\w+);`)
	decls := map[string]decl{}
	for _, m := range re.FindAllStringSubmatch(host, -1) {
		decls[m[1]] = decl{
			params: typesOf(m[2], func(p string) bool {
				return strings.HasSuffix(p, ": i64") || strings.HasSuffix(p, ": u64")
			}),
			hasResult: m[3] != "void",
		}
	}
	checkDecls(t, "sdk/assemblyscript", decls)
	index := read(t, "../../sdk/assemblyscript/assembly/index.ts")
	checkConsts(t, "sdk/assemblyscript", index,
		regexp.MustCompile(`export const ([A-Z_]+): i32 = (-\d+);`), "ERR_%s",
		regexp.MustCompile(`@inline const KIND_([A-Z_]+) = (\d+);`))
}

// The C header's declarations and constants.
func TestCSDK(t *testing.T) {
	h := oneLine(read(t, "../../sdk/c/sockwasm.h"))
	re := regexp.MustCompile(`SW_IMPORT\("(\w+)"\) (\w+) \w+\(([^)]*)\);`)
	decls := map[string]decl{}
	for _, m := range re.FindAllStringSubmatch(h, -1) {
		decls[m[1]] = decl{
			params: typesOf(m[3], func(p string) bool {
				return !strings.Contains(p, "*") && (strings.HasPrefix(p, "int64_t") || strings.HasPrefix(p, "uint64_t"))
			}),
			hasResult: m[2] != "void",
		}
	}
	checkDecls(t, "sdk/c/sockwasm.h", decls)
	checkConsts(t, "sdk/c/sockwasm.h", h,
		regexp.MustCompile(`SW_ERR_([A-Z_]+) = (-\d+)`), "ERR_%s",
		regexp.MustCompile(`SW_KIND_([A-Z_]+) = (\d+)`))
}

// The Rust SDK's extern block and constants.
func TestRustSDK(t *testing.T) {
	src := read(t, "../../sdk/rust/sockwasm.rs")
	start := strings.Index(src, `#[link(wasm_import_module = "sockwasm_v1")]`)
	if start < 0 {
		t.Fatal("no extern block for sockwasm_v1")
	}
	end := strings.Index(src[start:], "\n    }\n")
	block := oneLine(src[start : start+end])
	decls := map[string]decl{}
	for _, m := range regexp.MustCompile(`pub fn (\w+)\(([^)]*)\)( -> \w+)?;`).FindAllStringSubmatch(block, -1) {
		decls[m[1]] = decl{
			params: typesOf(m[2], func(p string) bool {
				return strings.HasSuffix(p, ": i64") || strings.HasSuffix(p, ": u64")
			}),
			hasResult: m[3] != "",
		}
	}
	checkDecls(t, "sdk/rust/sockwasm.rs", decls)
	kinds := regexp.MustCompile(`(?m)^    ([A-Z][A-Za-z]+) = (\d+),$`)
	checkConsts(t, "sdk/rust/sockwasm.rs", src,
		regexp.MustCompile(`pub const ([A-Z_]+): Error = Error\((-\d+)\);`), "ERR_%s", nil)
	for _, m := range kinds.FindAllStringSubmatch(src, -1) {
		n, _ := strconv.Atoi(m[2])
		if n == 0 {
			continue // Unknown
		}
		want := strings.ReplaceAll(abi.Kind(n).String(), "-", "")
		if strings.ToLower(m[1]) != want {
			t.Errorf("sockwasm.rs: Kind::%s = %d, sdk/abi says %s", m[1], n, abi.Kind(n))
		}
	}
}

// checkConsts compares an SDK's error codes (codeFmt names them as
// sdk/abi does) and call kinds (nil: not checked here) with sdk/abi's.
func checkConsts(t *testing.T, where, src string, codes *regexp.Regexp, codeFmt string, kinds *regexp.Regexp) {
	t.Helper()
	nc := 0
	for _, m := range codes.FindAllStringSubmatch(src, -1) {
		n, _ := strconv.Atoi(m[2])
		if got, want := fmt.Sprintf(codeFmt, m[1]), abi.Code(n).String(); got != want {
			t.Errorf("%s: code %d is %s, sdk/abi says %s", where, n, got, want)
		}
		nc++
	}
	if abi.Code(-nc-1).String() != "ERR_UNKNOWN" || nc == 0 {
		t.Errorf("%s has %d error codes; sdk/abi has more", where, nc)
	}
	if kinds == nil {
		return
	}
	nk := 0
	for _, m := range kinds.FindAllStringSubmatch(src, -1) {
		n, _ := strconv.Atoi(m[2])
		if want := strings.ToUpper(strings.ReplaceAll(abi.Kind(n).String(), "-", "_")); m[1] != want {
			t.Errorf("%s: kind %d is %s, sdk/abi says %s", where, n, m[1], want)
		}
		nk++
	}
	if nk != abi.NumKinds-1 {
		t.Errorf("%s has %d call kinds, sdk/abi %d", where, nk, abi.NumKinds-1)
	}
}
