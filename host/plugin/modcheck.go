package plugin

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// moduleShape is what a cheap pass over a module's sections finds, before
// wazero decodes or compiles anything: what compilation and every
// instance will cost is bounded by it.
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

func (r *reader) skip(n uint64) error {
	if n > uint64(len(r.b)-r.pos) {
		return errTruncated
	}
	r.pos += int(n)
	return nil
}

// name skips a length-prefixed name.
func (r *reader) name() error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	return r.skip(n)
}

func (r *reader) limits() (min, max uint64, hasMax bool, err error) {
	flag, err := r.byte()
	if err != nil {
		return 0, 0, false, err
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

// Section ids of the binary format.
const (
	secImport   = 2
	secFunction = 3
	secTable    = 4
	secGlobal   = 6
	secCode     = 10
)

// inspectModule reads the shape of a module. It understands only what it
// needs (imports, functions, tables, globals, code); wazero validates the
// rest.
func inspectModule(bin []byte) (*moduleShape, error) {
	if len(bin) < 8 || string(bin[:4]) != "\x00asm" || binary.LittleEndian.Uint32(bin[4:8]) != 1 {
		return nil, errors.New("not a WebAssembly binary module (version 1)")
	}
	r := &reader{b: bin, pos: 8}
	shape := &moduleShape{}
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
		if size > uint64(len(bin)-r.pos) {
			return nil, fmt.Errorf("section %d: %w", id, errTruncated)
		}
		sec := &reader{b: bin[r.pos : r.pos+int(size)]}
		r.pos += int(size)
		if id == secTable {
			shape.tableSec = [2]int{secStart, r.pos}
		}
		switch id {
		case secImport:
			err = shape.imports(sec)
		case secFunction:
			var n uint64
			if n, err = sec.u32(); err == nil {
				shape.functions += n
			}
		case secTable:
			err = shape.tableSection(sec)
		case secGlobal:
			var n uint64
			if n, err = sec.u32(); err == nil {
				shape.globals += n
			}
		case secCode:
			err = shape.code(sec)
		}
		if err != nil {
			return nil, fmt.Errorf("section %d: %w", id, err)
		}
	}
	return shape, nil
}

func (m *moduleShape) imports(r *reader) error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	for range n {
		if err := r.name(); err != nil {
			return err
		}
		if err := r.name(); err != nil {
			return err
		}
		kind, err := r.byte()
		if err != nil {
			return err
		}
		switch kind {
		case 0: // function: type index
			m.functions++
			_, err = r.u32()
		case 1: // table: reftype, limits
			var t tableShape
			if t.refType, err = r.byte(); err == nil {
				t.min, t.max, t.hasMax, err = r.limits()
				m.tables = append(m.tables, t)
				m.importedTables++
			}
		case 2: // memory: limits
			_, _, _, err = r.limits()
		case 3: // global: valtype, mutability
			m.globals++
			if _, err = r.byte(); err == nil {
				_, err = r.byte()
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

func (m *moduleShape) tableSection(r *reader) error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	for range n {
		var t tableShape
		if t.refType, err = r.byte(); err != nil {
			return err
		}
		if t.min, t.max, t.hasMax, err = r.limits(); err != nil {
			return err
		}
		m.tables = append(m.tables, t)
	}
	return nil
}

func (m *moduleShape) code(r *reader) error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	for range n {
		size, err := r.u32()
		if err != nil {
			return err
		}
		if size > uint64(len(r.b)-r.pos) {
			return errTruncated
		}
		body := &reader{b: r.b[r.pos : r.pos+int(size)]}
		r.pos += int(size)
		m.maxBodyBytes = max(m.maxBodyBytes, size)
		groups, err := body.u32()
		if err != nil {
			return err
		}
		for range groups {
			c, err := body.u32()
			if err != nil {
				return err
			}
			if _, err := body.byte(); err != nil { // valtype
				return err
			}
			// A group takes at least 2 bytes: a module of at most 2^32
			// bytes declares fewer than 2^31 groups of at most 2^32
			// locals, so the sum stays below 2^63.
			m.locals += c
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
	// CompileTimeout bounds compilation; wazero stops between functions
	// when it passes. Default 30s.
	CompileTimeout time.Duration
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
	return l
}

// ErrModuleLimit is wrapped by the errors of checkModule: the module is
// over a bound of ModuleLimits.
var ErrModuleLimit = errors.New("over a module limit")

// checkModule refuses a module over l and returns the binary to compile:
// bin itself, or a copy whose tables carry the maximum l allows.
func checkModule(bin []byte, l ModuleLimits) ([]byte, error) {
	over := func(what string, got uint64, limit int, key string) error {
		return fmt.Errorf("%w: %s %d, over %s = %d", ErrModuleLimit, what, got, key, limit)
	}
	if len(bin) > l.MaxBytes {
		return nil, over("module of", uint64(len(bin)), l.MaxBytes, "max_module_bytes")
	}
	shape, err := inspectModule(bin)
	if err != nil {
		return nil, err
	}
	switch {
	case shape.functions > uint64(l.MaxFunctions):
		return nil, over("functions:", shape.functions, l.MaxFunctions, "max_functions")
	case shape.globals > uint64(l.MaxGlobals):
		return nil, over("globals:", shape.globals, l.MaxGlobals, "max_globals")
	case shape.locals > uint64(l.MaxLocals):
		return nil, over("locals in all functions:", shape.locals, l.MaxLocals, "max_locals")
	case shape.maxBodyBytes > uint64(l.MaxFunctionBytes):
		return nil, over("a function body of", shape.maxBodyBytes, l.MaxFunctionBytes, "max_function_bytes")
	case shape.importedTables > 0:
		return nil, errors.New("imports a table; a plugin must define its own")
	}
	capped := false
	for i, t := range shape.tables {
		if t.min > uint64(l.MaxTableElements) {
			return nil, over(fmt.Sprintf("table %d declares", i), t.min, l.MaxTableElements, "max_table_elements")
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
