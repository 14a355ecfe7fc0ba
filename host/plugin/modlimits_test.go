package plugin

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// guestFunc is a function of a hand-encoded guest: its local groups
// (count, value type) and its code, ending with end (0x0b).
type guestFunc struct {
	locals [][2]uint64
	code   []byte
}

// guestSpec is a hand-encoded guest: the ABI marker, sockwasm_handle
// (handle), extra functions, globals and one table.
type guestSpec struct {
	handle  guestFunc
	extra   int         // more functions (type () -> ())
	globals int         // i32 globals
	table   *tableShape // nil: no table
	pad     int         // bytes of custom section, to make the module large
}

// encodeGuest encodes spec as a WebAssembly binary.
func encodeGuest(spec guestSpec) []byte {
	uleb := func(n uint64) []byte { return leb(int(n)) }
	out := []byte{0, 'a', 's', 'm', 1, 0, 0, 0}
	// Types: 0 () -> (), 1 (i32, i32) -> i32.
	out = append(out, section(1, []byte{2, 0x60, 0, 0, 0x60, 2, 0x7f, 0x7f, 1, 0x7f})...)
	nf := 2 + spec.extra
	funcs := uleb(uint64(nf))
	funcs = append(funcs, 0, 1) // marker, handle
	for range spec.extra {
		funcs = append(funcs, 0)
	}
	out = append(out, section(3, funcs)...)
	if t := spec.table; t != nil {
		tb := []byte{1, 0x70}
		if t.hasMax {
			tb = append(append(append(tb, 1), uleb(t.min)...), uleb(t.max)...)
		} else {
			tb = append(append(tb, 0), uleb(t.min)...)
		}
		out = append(out, section(4, tb)...)
	}
	out = append(out, section(5, []byte{1, 0, 1})...)
	if spec.globals > 0 {
		g := uleb(uint64(spec.globals))
		for range spec.globals {
			g = append(g, 0x7f, 0, 0x41, 0, 0x0b) // i32 const 0
		}
		out = append(out, section(6, g)...)
	}
	exports := []byte{3}
	exports = append(append(exports, name(ExportMarker)...), 0, 0)
	exports = append(append(exports, name(ExportHandle)...), 0, 1)
	exports = append(append(exports, name(ExportMemory)...), 2, 0)
	out = append(out, section(7, exports)...)
	body := func(f guestFunc) []byte {
		b := uleb(uint64(len(f.locals)))
		for _, l := range f.locals {
			b = append(append(b, uleb(l[0])...), byte(l[1]))
		}
		b = append(b, f.code...)
		return append(uleb(uint64(len(b))), b...)
	}
	code := uleb(uint64(nf))
	code = append(code, body(guestFunc{code: []byte{0x0b}})...)
	code = append(code, body(spec.handle)...)
	for range spec.extra {
		code = append(code, body(guestFunc{code: []byte{0x0b}})...)
	}
	out = append(out, section(10, code)...)
	if spec.pad > 0 {
		out = append(out, section(0, append(name("pad"), make([]byte, spec.pad)...))...)
	}
	return out
}

// returnZero is a handle body: return 0.
var returnZero = guestFunc{code: []byte{0x41, 0, 0x0b}}

func writeGuest(t *testing.T, name string, spec guestSpec) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".wasm")
	if err := os.WriteFile(path, encodeGuest(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// heapInuse returns the Go heap in use after a GC.
func heapInuse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// Modules over a module limit are refused before wazero decodes them,
// each with the file, the limit's key and the numbers; none costs the
// host more than a few megabytes.
func TestModuleLimits(t *testing.T) {
	for _, tt := range []struct {
		name string
		spec guestSpec
		lim  ModuleLimits
		want string
	}{
		// 200 million locals in a 100-byte module: 44 s and 5 GB to
		// compile without the bound.
		{"locals", guestSpec{handle: guestFunc{locals: [][2]uint64{{200_000_000, 0x7f}}, code: []byte{0x41, 0, 0x0b}}}, ModuleLimits{},
			"locals in all functions: 200000000, over max_locals = 1000000"},
		{"locals over several functions", guestSpec{handle: guestFunc{locals: [][2]uint64{{600_000, 0x7f}, {600_000, 0x7e}}, code: []byte{0x41, 0, 0x0b}}}, ModuleLimits{},
			"over max_locals = 1000000"},
		{"functions", guestSpec{handle: returnZero, extra: 200}, ModuleLimits{MaxFunctions: 100}, "functions: 202, over max_functions = 100"},
		{"globals", guestSpec{handle: returnZero, globals: 50}, ModuleLimits{MaxGlobals: 10}, "globals: 50, over max_globals = 10"},
		{"table", guestSpec{handle: returnZero, table: &tableShape{min: 2_000_000}}, ModuleLimits{}, "table 0 declares 2000000, over max_table_elements = 100000"},
		{"function bytes", guestSpec{handle: guestFunc{code: append(make([]byte, 5000), 0x41, 0, 0x0b)}}, ModuleLimits{MaxFunctionBytes: 4096}, "over max_function_bytes = 4096"},
		{"module bytes", guestSpec{handle: returnZero, pad: 3 << 20}, ModuleLimits{MaxBytes: 2 << 20}, "over max_module_bytes = 2097152"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := writeGuest(t, "bomb", tt.spec)
			before := heapInuse()
			_, err := LoadFile(context.Background(), path, Options{Logger: testLogger(t), Limits: Limits{Module: tt.lim}}, nil)
			if err == nil || !errors.Is(err, ErrInvalidModule) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one naming %s and %q", err, path, tt.want)
			}
			if grew := int64(heapInuse()) - int64(before); grew > 16<<20 {
				t.Fatalf("refusing the module grew the heap by %d MiB", grew>>20)
			}
		})
	}
}

// Compilation has a deadline: a module compiled under one that passes is
// refused, naming compile_timeout.
func TestCompileTimeout(t *testing.T) {
	path := writeGuest(t, "slow", guestSpec{handle: returnZero, extra: 2000})
	_, err := LoadFile(context.Background(), path, Options{Logger: testLogger(t), Limits: Limits{Module: ModuleLimits{CompileTimeout: time.Nanosecond}}}, nil)
	if err == nil || !strings.Contains(err.Error(), "compile_timeout") {
		t.Fatalf("err = %v", err)
	}
	if _, err := LoadFile(context.Background(), path, Options{Logger: testLogger(t)}, nil); err != nil {
		t.Fatalf("with the default deadline: %v", err)
	}
}

// tableGrowGuest grows table 0 by delta and returns table.grow's result
// (-1 when refused).
func tableGrowGuest(delta uint32) guestSpec {
	// if kind == INIT { return 0 }; ref.null func; i32.const delta
	code := []byte{0x20, 0, 0x41, byte(KindInit), 0x46, 0x04, 0x40, 0x41, 0, 0x0f, 0x0b, 0xd0, 0x70, 0x41}
	v := int64(int32(delta))
	for { // signed LEB128
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			code = append(code, c)
			break
		}
		code = append(code, c|0x80)
	}
	code = append(code, 0xfc, 15, 0, 0x0b) // table.grow 0; end
	return guestSpec{handle: guestFunc{code: code}, table: &tableShape{min: 1}}
}

// A table without a maximum gets max_table_elements as its maximum:
// table.grow fails (-1) beyond it instead of allocating.
func TestTableGrowBounded(t *testing.T) {
	p, err := LoadFile(context.Background(), writeGuest(t, "grow", tableGrowGuest(50)), Options{Logger: testLogger(t)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	s := newNS("/").sock("A", "")
	c := p.newCall(KindEvent)
	c.sock = s
	c.frame = encodeFrame(c.frame, c.kind, &frameFields{})
	if f := p.invoke(c); f != nil { // grows 1 → 51: returns the old size, 1
		if f.reason != "handler returned 1" {
			t.Fatalf("a small grow: %+v", f)
		}
	}
	freeCall(c)
}

// With a huge delta (2³¹−1 elements, 16 GiB of table) the guest's call
// fails with table.grow's -1, the host allocates nothing. It runs in a
// child process under a 3 GB address-space cap (ulimit -v), so that a
// regression fails this test instead of taking the machine down.
func TestTableGrowHugeUnderAddressSpaceCap(t *testing.T) {
	if os.Getenv("SOCKWASM_TABLE_GROW_CHILD") == "1" {
		tableGrowChild(t)
		return
	}
	if raceEnabled {
		t.Skip("the race detector reserves more address space than the cap; `make unit` runs this test without -race")
	}
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-c", `ulimit -v 3000000 && exec "$0" -test.run='^TestTableGrowHugeUnderAddressSpaceCap$' -test.v`, bin)
	cmd.Env = append(os.Environ(), "SOCKWASM_TABLE_GROW_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "table.grow refused") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func tableGrowChild(t *testing.T) {
	p, err := LoadFile(context.Background(), writeGuest(t, "growbomb", tableGrowGuest(1<<31-1)), Options{Logger: testLogger(t)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	s := newNS("/").sock("A", "")
	for range 3 {
		p.event(s, ev("grow", `[]`, 0))
	}
	if st := p.Stats(); st.Faults != 3 {
		t.Fatalf("faults = %d", st.Faults)
	}
	t.Log("table.grow refused three times; heap in use:", heapInuse()>>20, "MiB")
}

// A TTL is range-checked before any arithmetic: no value overflows into
// "never expires".
func TestKVTTLRange(t *testing.T) {
	max := uint64(MaxKVTTL.Milliseconds())
	for _, tt := range []struct {
		ms   uint64
		code int32
	}{
		{0, 0}, {1, 0}, {max, 0}, {max + 1, ErrInvalid},
		{1 << 62, ErrInvalid}, {1<<63 - 1, ErrInvalid}, {1 << 63, ErrInvalid}, {^uint64(0), ErrInvalid},
	} {
		if _, code := kvTTL(tt.ms); code != tt.code {
			t.Errorf("kvTTL(%d) = %d, want %d", tt.ms, code, tt.code)
		}
	}
}

// A socket that has left causes no further calls: what would come back to
// it (acks, broadcasts with acks) and what changes it are ERR_DISCONNECTED
// in any call about it, so nothing reaches the socketio layer.
func TestLeftSocketCannotKeepCalling(t *testing.T) {
	p := loadGuest(t, "hostile", Options{Settings: map[string]Settings{"hostile": {Grants: []string{CapKV, CapTimers}}}})
	ns := newNS("/")
	s := ns.sock("A", "")
	s.gone = true
	for _, event := range []string{"chain", "ackctx", "flood", "rooms"} {
		p.event(s, ev(event, `[10,1]`, 1))
		if out, bc := s.take(), ns.take(); len(out) != 0 || len(bc) != 0 {
			t.Errorf("%s on a socket that left sent %+v, broadcast %+v", event, out, bc)
		}
	}
	if rooms := s.Rooms(); len(rooms) != 1 {
		t.Errorf("a socket that left joined %v", rooms)
	}
	if st := p.Stats(); st.Faults != 0 {
		t.Errorf("faults %d", st.Faults)
	}
}

// Modules whose counts claim more than their bytes hold, or more than a
// limit allows, in any of the vectors wazero's decoder allocates for
// before reading them: each is refused by checkModule, so none reaches
// the decoder (which would die of "out of memory", a fatal error).
func TestModuleCountsBounded(t *testing.T) {
	huge := []byte{0xff, 0xff, 0xff, 0xff, 0x0f} // 2³²−1
	mod := func(secs ...[]byte) []byte {
		out := []byte{0, 'a', 's', 'm', 1, 0, 0, 0}
		for _, s := range secs {
			out = append(out, s...)
		}
		return out
	}
	manyTables := leb(1000)
	for range 1000 {
		manyTables = append(manyTables, 0x70, 1, 0xa0, 0x8d, 0x06, 0xa0, 0x8d, 0x06) // min = max = 100 000
	}
	for _, tt := range []struct {
		name string
		bin  []byte
		want string
	}{
		{"element segments", mod(section(9, huge)), "element segments: 4294967295 declared"},
		{"element items", mod(section(9, append([]byte{1, 1, 0}, huge...))), "items of an element segment: 4294967295 declared"},
		{"tables", mod(section(4, manyTables)), "1000 tables, more than the 8"},
		{"types", mod(section(1, huge)), "types: 4294967295 declared"},
		{"parameters", mod(section(1, append([]byte{1, 0x60}, huge...))), "parameters or results of a type: 4294967295 declared"},
		{"exports", mod(section(7, huge)), "exports: 4294967295 declared"},
		{"imports", mod(section(2, huge)), "imports: 4294967295 declared"},
		{"data bytes", mod(section(11, append([]byte{1, 1}, huge...))), "section 11: truncated"},
		{"data count", mod(section(12, huge)), "data segments: 4294967295, over max_functions"},
		{"function names", mod(section(0, append(append(name("name"), 1, 5), huge...))), "function names: 4294967295 declared"},
		{"local names", mod(section(0, append(append(name("name"), 2, 7, 1, 0), huge...))), "local names: 4294967295 declared"},
		{"memories", mod(section(5, []byte{2, 0, 1, 0, 1})), "2 memories"},
		// A long function name would be copied into every fault's stack trace.
		{"long name", mod(section(0, append(append(name("name"), 1, 0xd4, 0x0f, 1, 0), name(strings.Repeat("x", 2000))...))), "a name of 2000 bytes, over 1024"},
		{"constant expression", mod(section(6, []byte{1, 0x7f, 0, 0x00, 0x0b})), "instruction 0x0 in a constant expression"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := checkModule(tt.bin, ModuleLimits{}.withDefaults())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("checkModule = %v, want %q", err, tt.want)
			}
		})
	}
}

// An INIT stage at max_kv_entries cannot record a deletion: kv_delete says
// ERR_LIMIT, and the key stays (it was not deleted).
func TestStagedDeleteAtLimit(t *testing.T) {
	var base kvStore
	base.init(10, 1<<20)
	base.set("a", []byte("1"), 0)
	s := stagedStore{st: &stage{}, base: &base, lim: Limits{MaxKVEntries: 1, MaxKVBytes: 1 << 20}}
	ctx := context.Background()
	if code := s.Set(ctx, "b", []byte("2"), 0); code != 0 {
		t.Fatal(code)
	}
	deleted, code := s.Delete(ctx, "a")
	if _, _, still := s.Get(ctx, "a"); deleted || code != ErrLimit || still != 0 {
		t.Fatalf("delete = %v, %d; a still there: %v", deleted, code, still)
	}
}

// The log limiter's summary reads the rate under its lock (-race).
func TestLogLimiterSummaryRace(t *testing.T) {
	log := zerolog.Nop()
	var l logLimiter
	l.init(&log, 1, "lines")
	for deadline := time.Now().Add(1200 * time.Millisecond); time.Now().Before(deadline); {
		l.allow(2)
		time.Sleep(200 * time.Microsecond)
	}
	l.stop()
	if l.dropped.Load() == 0 {
		t.Fatal("nothing dropped at 1 line a second")
	}
}
