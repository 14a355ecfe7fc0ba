package plugin

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// moduleShape is what a pass over a module's sections finds, before
// wazero decodes or compiles anything: what decoding, compilation and
// every instance will cost is bounded by it.
type moduleShape struct {
	functions    uint64 // imported and defined
	globals      uint64 // imported and defined
	maxBodyBytes uint64 // the largest function body
	locals       uint64 // locals declared by all functions
	tables       []tableShape
	// importedTables counts the tables among tables that are imported.
	importedTables int
	// tableSec is the table section's place in the binary, [start, end)
	// including its id and size; zero when there is none.
	tableSec [2]int
}

type tableShape struct {
	refType byte
	min     uint64
	max     uint64
	hasMax  bool
}

// errTruncated reports a module that ends inside a section.
var errTruncated = errors.New("truncated or malformed section")

// reader walks a WebAssembly binary.
type reader struct {
	b   []byte
	pos int
}

func (r *reader) rest() int { return len(r.b) - r.pos }

func (r *reader) byte() (byte, error) {
	if r.pos >= len(r.b) {
		return 0, errTruncated
	}
	c := r.b[r.pos]
	r.pos++
	return c, nil
}

// u32 reads an unsigned LEB128 of at most 32 bits.
func (r *reader) u32() (uint64, error) {
	var v uint64
	for shift := 0; shift < 35; shift += 7 {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			if v > 1<<32-1 {
				return 0, errTruncated
			}
			return v, nil
		}
	}
	return 0, errTruncated
}

// sleb skips a signed LEB128 of at most 64 bits.
func (r *reader) sleb() error {
	for range 10 {
		c, err := r.byte()
		if err != nil {
			return err
		}
		if c&0x80 == 0 {
			return nil
		}
	}
	return errTruncated
}

func (r *reader) skip(n uint64) error {
	if n > uint64(r.rest()) {
		return errTruncated
	}
	r.pos += int(n)
	return nil
}

// bytes reads a length-prefixed byte vector (bounded by the bytes left).
func (r *reader) bytes() ([]byte, error) {
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	start := r.pos
	if err := r.skip(n); err != nil {
		return nil, err
	}
	return r.b[start:r.pos], nil
}

// limits reads the limits of a table or memory.
func (r *reader) limits() (min, max uint64, hasMax bool, err error) {
	flag, err := r.byte()
	if err != nil {
		return 0, 0, false, err
	}
	if flag&^1 != 0 {
		return 0, 0, false, fmt.Errorf("limits with flags %#x (shared or 64-bit) are not supported", flag)
	}
	if min, err = r.u32(); err != nil {
		return 0, 0, false, err
	}
	if flag&1 != 0 {
		if max, err = r.u32(); err != nil {
			return 0, 0, false, err
		}
		hasMax = true
	}
	return min, max, hasMax, nil
}

// valType reads a value type: one byte, or a reference type prefix (0x63,
// 0x64) and its heap type.
func (r *reader) valType() error {
	c, err := r.byte()
	if err != nil {
		return err
	}
	if c == 0x63 || c == 0x64 {
		return r.sleb()
	}
	return nil
}

// constExpr skips a constant expression, up to and including its end,
// with the instructions wazero accepts in one.
func (r *reader) constExpr() error {
	for {
		op, err := r.byte()
		if err != nil {
			return err
		}
		switch op {
		case 0x0b: // end
			return nil
		case 0x41, 0x42: // i32.const, i64.const
			err = r.sleb()
		case 0x43: // f32.const
			err = r.skip(4)
		case 0x44: // f64.const
			err = r.skip(8)
		case 0x23, 0xd2: // global.get, ref.func
			_, err = r.u32()
		case 0xd0: // ref.null
			err = r.valType()
		case 0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e: // extended-const arithmetic
		case 0xfd: // v128.const
			var sub uint64
			if sub, err = r.u32(); err == nil && sub != 12 {
				return fmt.Errorf("vector instruction %d in a constant expression", sub)
			}
			if err == nil {
				err = r.skip(16)
			}
		default:
			return fmt.Errorf("instruction %#x in a constant expression", op)
		}
		if err != nil {
			return err
		}
	}
}

// Section ids of the binary format.
const (
	secCustom    = 0
	secType      = 1
	secImport    = 2
	secFunction  = 3
	secTable     = 4
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secStart     = 8
	secElement   = 9
	secCode      = 10
	secData      = 11
	secDataCount = 12
	secTag       = 13
)

// maxTables bounds the tables of a module: each may hold
// max_table_elements.
const maxTables = 8

// maxModuleName bounds a name in a module (an import, an export, a
// function or local in the name section): wazero puts function names in
// the stack trace of every fault's error.
const maxModuleName = 1024

// name reads a name of at most maxModuleName bytes.
func (r *reader) name() ([]byte, error) {
	b, err := r.bytes()
	if err == nil && len(b) > maxModuleName {
		err = fmt.Errorf("%w: a name of %d bytes, over %d", ErrModuleLimit, len(b), maxModuleName)
	}
	return b, err
}

// walker reads a module's sections and refuses, before wazero allocates
// anything for them, every count that is over a limit or over what the
// bytes that follow it can hold. Every vector of the format is walked:
// wazero makes a slice of the declared length before it reads the items.
type walker struct {
	lim   ModuleLimits
	shape moduleShape
	items uint64 // element segment items, all segments
}

// overErr is an ErrModuleLimit naming what was found and the key.
func overErr(what string, got uint64, limit int, key string) error {
	return fmt.Errorf("%w: %s %d, over %s = %d", ErrModuleLimit, what, got, key, limit)
}

// vec reads a vector's count, which must fit in the bytes left (every
// item takes at least minItem) and in limit.
func (w *walker) vec(r *reader, minItem int, limit int, what, key string) (uint64, error) {
	n, err := r.u32()
	if err != nil {
		return 0, err
	}
	if n > uint64(r.rest()/minItem) {
		return 0, fmt.Errorf("%s: %d declared, more than the section can hold", what, n)
	}
	if n > uint64(limit) {
		return 0, overErr(what+":", n, limit, key)
	}
	return n, nil
}

// inspectModule walks bin and checks its shape against l.
func inspectModule(bin []byte, l ModuleLimits) (*moduleShape, error) {
	if len(bin) < 8 || string(bin[:4]) != "\x00asm" || binary.LittleEndian.Uint32(bin[4:8]) != 1 {
		return nil, errors.New("not a WebAssembly binary module (version 1)")
	}
	w := &walker{lim: l}
	r := &reader{b: bin, pos: 8}
	for r.pos < len(bin) {
		secStart := r.pos
		id, err := r.byte()
		if err != nil {
			return nil, err
		}
		size, err := r.u32()
		if err != nil {
			return nil, err
		}
		if size > uint64(r.rest()) {
			return nil, fmt.Errorf("section %d: %w", id, errTruncated)
		}
		sec := &reader{b: bin[r.pos : r.pos+int(size)]}
		r.pos += int(size)
		if id == secTable {
			w.shape.tableSec = [2]int{secStart, r.pos}
		}
		if err := w.section(id, sec); err != nil {
			if errors.Is(err, ErrModuleLimit) {
				return nil, err
			}
			return nil, fmt.Errorf("section %d: %w", id, err)
		}
	}
	return &w.shape, nil
}

func (w *walker) section(id byte, r *reader) error {
	lim := &w.lim
	switch id {
	case secCustom:
		name, err := r.bytes()
		if err == nil && string(name) == "name" {
			err = w.names(r)
		}
		return err
	case secType:
		n, err := w.vec(r, 3, lim.MaxFunctions, "types", "max_functions")
		for range n {
			var form byte
			if form, err = r.byte(); err == nil && form != 0x60 {
				err = fmt.Errorf("type form %#x is not supported", form)
			}
			for range 2 { // parameters, results
				var m uint64
				if err == nil {
					m, err = w.vec(r, 1, lim.MaxLocals, "parameters or results of a type", "max_locals")
				}
				for range m {
					if err == nil {
						err = r.valType()
					}
				}
			}
			if err != nil {
				return err
			}
		}
		return err
	case secImport:
		return w.imports(r)
	case secFunction:
		n, err := w.vec(r, 1, lim.MaxFunctions, "functions", "max_functions")
		if err != nil {
			return err
		}
		w.shape.functions += n
		if w.shape.functions > uint64(lim.MaxFunctions) {
			return overErr("functions:", w.shape.functions, lim.MaxFunctions, "max_functions")
		}
		return nil
	case secTable:
		return w.tables(r)
	case secMemory:
		n, err := r.u32()
		if err == nil && n > 1 {
			err = fmt.Errorf("%d memories: a plugin has one", n)
		}
		for range n {
			if err == nil {
				_, _, _, err = r.limits()
			}
		}
		return err
	case secGlobal:
		n, err := w.vec(r, 3, lim.MaxGlobals, "globals", "max_globals")
		if err != nil {
			return err
		}
		w.shape.globals += n
		if w.shape.globals > uint64(lim.MaxGlobals) {
			return overErr("globals:", w.shape.globals, lim.MaxGlobals, "max_globals")
		}
		for range n {
			if err = r.valType(); err == nil {
				if _, err = r.byte(); err == nil { // mutability
					err = r.constExpr()
				}
			}
			if err != nil {
				return err
			}
		}
		return nil
	case secExport:
		n, err := w.vec(r, 3, lim.MaxFunctions, "exports", "max_functions")
		for range n {
			if _, err = r.name(); err == nil {
				if _, err = r.byte(); err == nil {
					_, err = r.u32()
				}
			}
			if err != nil {
				return err
			}
		}
		return err
	case secStart:
		_, err := r.u32()
		return err
	case secElement:
		return w.elements(r)
	case secCode:
		return w.code(r)
	case secData:
		return w.data(r)
	case secDataCount:
		n, err := r.u32()
		if err == nil && n > uint64(lim.MaxFunctions) {
			err = overErr("data segments:", n, lim.MaxFunctions, "max_functions")
		}
		return err
	case secTag:
		n, err := w.vec(r, 2, lim.MaxFunctions, "tags", "max_functions")
		for range n {
			if _, err = r.byte(); err == nil {
				_, err = r.u32()
			}
			if err != nil {
				return err
			}
		}
		return err
	}
	return fmt.Errorf("unknown section id %d", id)
}

func (w *walker) imports(r *reader) error {
	n, err := w.vec(r, 4, w.lim.MaxFunctions, "imports", "max_functions")
	if err != nil {
		return err
	}
	for range n {
		if _, err := r.name(); err != nil {
			return err
		}
		if _, err := r.name(); err != nil {
			return err
		}
		kind, err := r.byte()
		if err != nil {
			return err
		}
		switch kind {
		case 0: // function: type index
			w.shape.functions++
			_, err = r.u32()
		case 1: // table: reftype, limits
			var t tableShape
			if t.refType, err = r.byte(); err == nil {
				t.min, t.max, t.hasMax, err = r.limits()
				w.shape.tables = append(w.shape.tables, t)
				w.shape.importedTables++
			}
		case 2: // memory: limits
			_, _, _, err = r.limits()
		case 3: // global: valtype, mutability
			w.shape.globals++
			if err = r.valType(); err == nil {
				_, err = r.byte()
			}
		case 4: // tag: attribute, type index
			if _, err = r.byte(); err == nil {
				_, err = r.u32()
			}
		default:
			return fmt.Errorf("unknown import kind %d", kind)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) tables(r *reader) error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	if n+uint64(len(w.shape.tables)) > maxTables {
		return fmt.Errorf("%w: %d tables, more than the %d a module may declare", ErrModuleLimit, n+uint64(len(w.shape.tables)), maxTables)
	}
	for range n {
		var t tableShape
		if t.refType, err = r.byte(); err != nil {
			return err
		}
		if t.refType != 0x70 && t.refType != 0x6f { // funcref, externref
			return fmt.Errorf("table encoding %#x is not supported", t.refType)
		}
		if t.min, t.max, t.hasMax, err = r.limits(); err != nil {
			return err
		}
		w.shape.tables = append(w.shape.tables, t)
	}
	return nil
}

// elements walks the element segments (their eight encodings), counting
// their items against MaxTableElements.
func (w *walker) elements(r *reader) error {
	n, err := w.vec(r, 2, w.lim.MaxFunctions, "element segments", "max_functions")
	if err != nil {
		return err
	}
	for range n {
		prefix, err := r.u32()
		if err != nil {
			return err
		}
		if prefix > 7 {
			return fmt.Errorf("element segment encoding %d is not supported", prefix)
		}
		if prefix == 2 || prefix == 6 { // table index
			if _, err := r.u32(); err != nil {
				return err
			}
		}
		if prefix&1 == 0 { // active: offset
			if err := r.constExpr(); err != nil {
				return err
			}
		}
		if prefix&3 != 0 { // element kind or reference type
			if prefix&4 == 0 {
				_, err = r.byte()
			} else {
				err = r.valType()
			}
			if err != nil {
				return err
			}
		}
		m, err := w.vec(r, 1, w.lim.MaxTableElements, "items of an element segment", "max_table_elements")
		if err != nil {
			return err
		}
		if w.items += m; w.items > uint64(w.lim.MaxTableElements) {
			return overErr("items of all element segments:", w.items, w.lim.MaxTableElements, "max_table_elements")
		}
		for range m {
			if prefix&4 == 0 {
				_, err = r.u32() // function index
			} else {
				err = r.constExpr()
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *walker) code(r *reader) error {
	n, err := w.vec(r, 2, w.lim.MaxFunctions, "function bodies", "max_functions")
	if err != nil {
		return err
	}
	for range n {
		size, err := r.u32()
		if err != nil {
			return err
		}
		if size > uint64(r.rest()) {
			return errTruncated
		}
		body := &reader{b: r.b[r.pos : r.pos+int(size)]}
		r.pos += int(size)
		w.shape.maxBodyBytes = max(w.shape.maxBodyBytes, size)
		groups, err := body.u32()
		if err != nil {
			return err
		}
		if groups > uint64(body.rest()/2) {
			return errTruncated
		}
		for range groups {
			c, err := body.u32()
			if err != nil {
				return err
			}
			if err := body.valType(); err != nil {
				return err
			}
			// A group takes at least 2 bytes: a module of at most 2^32
			// bytes declares fewer than 2^31 groups of at most 2^32
			// locals, so the sum stays below 2^63.
			w.shape.locals += c
		}
		if w.shape.locals > uint64(w.lim.MaxLocals) {
			return overErr("locals in all functions:", w.shape.locals, w.lim.MaxLocals, "max_locals")
		}
	}
	return nil
}

func (w *walker) data(r *reader) error {
	n, err := w.vec(r, 2, w.lim.MaxFunctions, "data segments", "max_functions")
	if err != nil {
		return err
	}
	for range n {
		mode, err := r.u32()
		if err != nil {
			return err
		}
		switch mode {
		case 0: // active, memory 0
			err = r.constExpr()
		case 1: // passive
		case 2: // active, memory index
			if _, err = r.u32(); err == nil {
				err = r.constExpr()
			}
		default:
			return fmt.Errorf("data segment encoding %d is not supported", mode)
		}
		if err == nil {
			_, err = r.bytes()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// names walks the "name" custom section: the function and local name maps
// wazero decodes are bounded like the functions and locals they name.
func (w *walker) names(r *reader) error {
	var locals uint64
	for r.rest() > 0 {
		id, err := r.byte()
		if err != nil {
			return err
		}
		size, err := r.u32()
		if err != nil {
			return err
		}
		if size > uint64(r.rest()) {
			return errTruncated
		}
		sub := &reader{b: r.b[r.pos : r.pos+int(size)]}
		r.pos += int(size)
		nameMap := func(limit int, what, key string) (uint64, error) {
			n, err := w.vec(sub, 2, limit, what, key)
			for range n {
				if _, err = sub.u32(); err == nil {
					_, err = sub.name()
				}
				if err != nil {
					return 0, err
				}
			}
			return n, err
		}
		switch id {
		case 1: // function names
			if _, err := nameMap(w.lim.MaxFunctions, "function names", "max_functions"); err != nil {
				return err
			}
		case 2: // local names: per function, a name map
			n, err := w.vec(sub, 2, w.lim.MaxFunctions, "functions with local names", "max_functions")
			if err != nil {
				return err
			}
			for range n {
				if _, err := sub.u32(); err != nil {
					return err
				}
				m, err := nameMap(w.lim.MaxLocals, "local names", "max_locals")
				if err != nil {
					return err
				}
				if locals += m; locals > uint64(w.lim.MaxLocals) {
					return overErr("local names:", locals, w.lim.MaxLocals, "max_locals")
				}
			}
		}
	}
	return nil
}

// ModuleLimits bound what compiling a module and creating its instances
// may cost the host. A module over any of them is refused before wazero
// decodes it. Zero fields take the defaults.
type ModuleLimits struct {
	// MaxBytes bounds the module file. Default 32 MiB.
	MaxBytes int
	// MaxFunctions bounds functions, imported and defined. Default 100 000.
	MaxFunctions int
	// MaxGlobals bounds globals, imported and defined. Default 100 000.
	MaxGlobals int
	// MaxLocals bounds the locals all functions declare together (a local
	// costs compiled code and compile time). Default 1 000 000.
	MaxLocals int
	// MaxFunctionBytes bounds one function body. Default 1 MiB.
	MaxFunctionBytes int
	// MaxTableElements bounds every table: a table declaring more is
	// refused; one declaring no maximum, or a larger one, gets this
	// maximum, so table.grow fails (returns -1) beyond it. Default 100 000.
	MaxTableElements int
	// CompileTimeout bounds compilation: a Compiler process is killed when
	// it passes; in process, wazero stops between functions. Default 30s.
	CompileTimeout time.Duration
	// CompileMemory caps the address space of a Compiler process, in
	// bytes. Default 4 GiB (a 3 MiB Go guest compiles in under 1.5 GiB).
	CompileMemory int64
}

// Defaults of ModuleLimits.
const (
	DefaultMaxModuleBytes   = 32 << 20
	DefaultMaxFunctions     = 100_000
	DefaultMaxGlobals       = 100_000
	DefaultMaxLocals        = 1_000_000
	DefaultMaxFunctionBytes = 1 << 20
	DefaultMaxTableElements = 100_000
	DefaultCompileTimeout   = 30 * time.Second
	DefaultCompileMemory    = 4 << 30
)

func (l ModuleLimits) withDefaults() ModuleLimits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxBytes, DefaultMaxModuleBytes)
	def(&l.MaxFunctions, DefaultMaxFunctions)
	def(&l.MaxGlobals, DefaultMaxGlobals)
	def(&l.MaxLocals, DefaultMaxLocals)
	def(&l.MaxFunctionBytes, DefaultMaxFunctionBytes)
	def(&l.MaxTableElements, DefaultMaxTableElements)
	if l.CompileTimeout <= 0 {
		l.CompileTimeout = DefaultCompileTimeout
	}
	if l.CompileMemory <= 0 {
		l.CompileMemory = DefaultCompileMemory
	}
	return l
}

// ErrModuleLimit is wrapped by the errors of checkModule: the module is
// over a bound of ModuleLimits.
var ErrModuleLimit = errors.New("over a module limit")

// checkModule refuses a module over l and returns the binary to compile:
// bin itself, or a copy whose tables carry the maximum l allows. Every
// count wazero's decoder would allocate for is bounded here first.
func checkModule(bin []byte, l ModuleLimits) ([]byte, error) {
	if len(bin) > l.MaxBytes {
		return nil, overErr("module of", uint64(len(bin)), l.MaxBytes, "max_module_bytes")
	}
	shape, err := inspectModule(bin, l)
	if err != nil {
		return nil, err
	}
	switch {
	case shape.maxBodyBytes > uint64(l.MaxFunctionBytes):
		return nil, overErr("a function body of", shape.maxBodyBytes, l.MaxFunctionBytes, "max_function_bytes")
	case shape.importedTables > 0:
		return nil, errors.New("imports a table; a plugin must define its own")
	}
	capped := false
	for i, t := range shape.tables {
		if t.min > uint64(l.MaxTableElements) {
			return nil, overErr(fmt.Sprintf("table %d declares", i), t.min, l.MaxTableElements, "max_table_elements")
		}
		if !t.hasMax || t.max > uint64(l.MaxTableElements) {
			capped = true
		}
	}
	if !capped {
		return bin, nil
	}
	return capTables(bin, shape, uint64(l.MaxTableElements)), nil
}

// capTables returns a copy of bin whose table section gives every table
// the maximum limit, or its own when smaller.
func capTables(bin []byte, shape *moduleShape, limit uint64) []byte {
	var body []byte
	body = binary.AppendUvarint(body, uint64(len(shape.tables)))
	for _, t := range shape.tables {
		m := limit
		if t.hasMax && t.max < m {
			m = t.max
		}
		body = append(body, t.refType, 1)
		body = binary.AppendUvarint(body, t.min)
		body = binary.AppendUvarint(body, m)
	}
	start, end := shape.tableSec[0], shape.tableSec[1]
	out := make([]byte, 0, len(bin)+16)
	out = append(out, bin[:start]...)
	out = append(out, secTable)
	out = binary.AppendUvarint(out, uint64(len(body)))
	out = append(out, body...)
	return append(out, bin[end:]...)
}
