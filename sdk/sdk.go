// Package sdk carries the sources of the plugin SDKs, so that the
// sockwasm binary can write them out for a plugin made anywhere
// (`sockwasm new`): the Go SDK (sdk/go, with its test harness and the
// ABI package sdk/abi it shares with the host) as a module
// github.com/sockwasm/sockwasm of its own that needs nothing but the
// standard library, and the AssemblyScript SDK (sdk/assemblyscript) as an
// npm package folder; the C and Rust SDKs are one file each, copied into
// the plugin's folder.
package sdk

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// files are the SDKs' sources. Tests are left out when written.
//
//go:embed go/*.go go/internal go/plugintest abi/*.go
//go:embed assemblyscript/package.json assemblyscript/README.md assemblyscript/index.ts assemblyscript/assembly assemblyscript/scripts
//go:embed c/sockwasm.h rust/sockwasm.rs
var files embed.FS

// CHeader returns sdk/c/sockwasm.h, the C SDK: one header a C plugin
// keeps beside its source.
func CHeader() []byte { b, _ := files.ReadFile("c/sockwasm.h"); return b }

// RustModule returns sdk/rust/sockwasm.rs, the Rust SDK: one module a
// Rust plugin keeps beside its source (mod sockwasm;).
func RustModule() []byte { b, _ := files.ReadFile("rust/sockwasm.rs"); return b }

// GoModule is the module path of the Go SDK.
const GoModule = "github.com/sockwasm/sockwasm"

// goMod is the go.mod of the written Go SDK: the SDK packages need the
// standard library only. Go 1.24 brought go:wasmexport, which the SDK
// uses.
const goMod = "module " + GoModule + "\n\ngo 1.24\n"

// Lang selects an SDK.
type Lang string

// The SDKs carried.
const (
	Go             Lang = "go"
	AssemblyScript Lang = "assemblyscript"
)

// roots are each SDK's embedded folders and their place in the written
// tree.
var roots = map[Lang][]string{
	Go:             {"go", "abi"},
	AssemblyScript: {"assemblyscript"},
}

// Version identifies the carried sources: a hash of every file written.
func Version() string {
	h := sha256.New()
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, "_test.go") {
			return err
		}
		b, _ := files.ReadFile(p)
		fmt.Fprintf(h, "%s %d\n", p, len(b))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Extract writes SDK lang under dir/VERSION/LANG (for Go, a module root
// with sdk/go and sdk/abi inside; for AssemblyScript, the package folder)
// unless it is there already, and returns that folder. It writes into a
// temporary folder renamed into place, so that concurrent calls and
// interrupted ones leave either nothing or the whole SDK.
func Extract(dir string, lang Lang) (string, error) {
	tops, ok := roots[lang]
	if !ok {
		return "", fmt.Errorf("sdk: unknown language %q", lang)
	}
	target := filepath.Join(dir, Version(), string(lang))
	if _, err := os.Stat(target); err == nil {
		return target, nil
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(target), "."+string(lang)+"-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	write := func(rel string, b []byte) error {
		dst := filepath.Join(tmp, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	}
	for _, top := range tops {
		err := fs.WalkDir(files, top, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.HasSuffix(p, "_test.go") {
				return err
			}
			b, err := files.ReadFile(p)
			if err != nil {
				return err
			}
			rel := strings.TrimPrefix(p, top+"/")
			if lang == Go {
				rel = path.Join("sdk", p) // the module root holds sdk/go and sdk/abi
			}
			return write(rel, b)
		})
		if err != nil {
			return "", err
		}
	}
	if lang == Go {
		if err := write("go.mod", []byte(goMod)); err != nil {
			return "", err
		}
	}
	if lang == AssemblyScript {
		// The build script is the package's bin: keep it executable.
		if err := os.Chmod(filepath.Join(tmp, "scripts", "build.mjs"), 0o755); err != nil {
			return "", err
		}
	}
	if err := os.Rename(tmp, target); err != nil {
		if _, statErr := os.Stat(target); statErr == nil {
			return target, nil // another process wrote it first
		}
		return "", errors.Join(fmt.Errorf("sdk: writing %s", target), err)
	}
	return target, nil
}
