package plugin

import (
	"bytes"
	"sync"

	"github.com/rs/zerolog"
)

// moduleSpec describes a minimal hand-encoded guest.
type moduleSpec struct {
	markers []string // exported no-op functions
	handle  bool     // export sockwasm_handle
	trap    bool     // sockwasm_handle executes unreachable but for INIT (else returns 0)
}

func leb(n int) []byte {
	var b []byte
	for {
		c := byte(n & 0x7f)
		n >>= 7
		if n != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func section(id byte, body []byte) []byte {
	return append(append([]byte{id}, leb(len(body))...), body...)
}

func name(s string) []byte { return append(leb(len(s)), s...) }

// wasmModule encodes spec as a WebAssembly binary.
func wasmModule(spec moduleSpec) []byte {
	out := []byte{0, 'a', 's', 'm', 1, 0, 0, 0}
	types := append(leb(2), 0x60, 0, 0, 0x60, 2, 0x7f, 0x7f, 1, 0x7f)
	out = append(out, section(1, types)...)
	nf := len(spec.markers)
	funcs := []byte{}
	for range spec.markers {
		funcs = append(funcs, 0)
	}
	if spec.handle {
		nf++
		funcs = append(funcs, 1)
	}
	out = append(out, section(3, append(leb(nf), funcs...))...)
	out = append(out, section(5, []byte{1, 0, 1})...)
	exports := leb(nf + 1)
	for i, m := range spec.markers {
		exports = append(append(exports, name(m)...), 0, byte(i))
	}
	if spec.handle {
		exports = append(append(exports, name(ExportHandle)...), 0, byte(len(spec.markers)))
	}
	exports = append(append(exports, name(ExportMemory)...), 2, 0)
	out = append(out, section(7, exports)...)
	code := leb(nf)
	for range spec.markers {
		code = append(code, 2, 0, 0x0b)
	}
	if spec.handle {
		if spec.trap {
			// if kind == INIT { return 0 }; unreachable
			code = append(code, 14, 0, 0x20, 0, 0x41, byte(KindInit), 0x46, 0x04, 0x40, 0x41, 0, 0x0f, 0x0b, 0x00, 0x0b)
		} else {
			code = append(code, 4, 0, 0x41, 0, 0x0b)
		}
	}
	return append(out, section(10, code)...)
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func zerologTo(b *syncBuffer) *zerolog.Logger {
	l := zerolog.New(b)
	return &l
}
