package main

import (
	"bufio"
	"bytes"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"

	"github.com/sockwasm/sockwasm/sdk"
)

// templates are the files `sockwasm new` writes, per language; a name
// ending in .tmpl is a text/template, "NAME" in a path is the plugin name
// and "gitignore" becomes ".gitignore".
//
//go:embed templates
var templates embed.FS

// asVersion is the AssemblyScript compiler a scaffolded plugin pins: the
// one sdk/assemblyscript pins.
const asVersion = "0.28.20"

var pluginName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

const newUsage = `usage: sockwasm new NAME [--lang go|as|c|rust] [--dir DIR]

Scaffolds a plugin in DIR/NAME (DIR defaults to the current folder): its
source, a test, a server.toml that serves it alone, and a server.toml
snippet routing /NAME to it in another server.
  --lang go   main.go, NAME_test.go (sdk/go/plugintest), Makefile
  --lang as   assembly/index.ts, test/plugin.test.mjs (node --test),
              package.json (npm test builds the module)
  --lang c    plugin.c and sockwasm.h (the C SDK, no libc; clang)
  --lang rust plugin.rs and sockwasm.rs (the Rust SDK, no crates; rustc)
Every language builds into build/NAME.wasm, and every scaffold has
plugin.test, scripted clients that sockwasm test plays against the real
server.
NAME is lower case letters, digits and dashes, starting with a letter; it
is the plugin's name, its .wasm file name. The folder must not exist.

It works in any folder: the binary carries the SDKs. Outside the sockwasm
repository it writes them into the user cache folder (for Go, a module
the plugin's go.mod points at with a replace directive; for
AssemblyScript, the package its package.json names with a file: path):
no network access is needed for the SDK. In the repository, or in a Go
module that requires ` + sdk.GoModule + `, the plugin uses that SDK.
--sdk DIR names a sockwasm checkout to take the AssemblyScript SDK from.
`

// newPlugin is the `new` verb.
func newPlugin(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sockwasm new", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, newUsage) }
	lang := fs.String("lang", "go", "plugin language: go, as, c or rust")
	dir := fs.String("dir", ".", "parent folder of the plugin's folder")
	sdk := fs.String("sdk", "", "root of the sockwasm repository (default: found from --dir)")
	// Flags may come before or after NAME.
	var names []string
	for {
		if err := fs.Parse(args); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		names = append(names, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(names) != 1 {
		fmt.Fprint(stderr, newUsage)
		return 2
	}
	target, err := scaffold(names[0], *lang, *dir, *sdk)
	if err != nil {
		fmt.Fprintf(stderr, "sockwasm new: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "created %s\n", target)
	rel := target
	if wd, err := os.Getwd(); err == nil {
		if r, err := filepath.Rel(wd, target); err == nil && !strings.HasPrefix(r, "..") {
			rel = r
		}
	}
	fmt.Fprintf(stdout, "next:\n  cd %s\n", rel)
	switch *lang {
	case "go":
		fmt.Fprintf(stdout, "  go test ./...\n  GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o build/%s.wasm .\n", names[0])
	case "as":
		fmt.Fprint(stdout, "  npm install\n  npm test\n")
	case "c":
		fmt.Fprintf(stdout, "  clang --target=wasm32 -nostdlib -Wl,--no-entry -O2 -o build/%s.wasm plugin.c\n", names[0])
	case "rust":
		fmt.Fprintf(stdout, "  rustc --edition 2021 --target wasm32-wasi --crate-type cdylib -O -C strip=symbols -o build/%s.wasm plugin.rs\n", names[0])
	}
	if *lang != "as" {
		fmt.Fprint(stdout, "  sockwasm test plugin.test\n")
	}
	fmt.Fprintf(stdout, "  sockwasm serve --config server.toml   # serves /%s on 127.0.0.1:3000\n", names[0])
	fmt.Fprintf(stdout, "or route it in your own server.toml: see server.toml.snippet\n")
	return 0
}

// scaffold writes plugin name in language lang into dir/name and returns
// that folder.
func scaffold(name, lang, dir, sdkRoot string) (string, error) {
	if !pluginName.MatchString(name) {
		return "", fmt.Errorf("invalid plugin name %q: use lower case letters, digits and dashes, starting with a letter (at most 63)", name)
	}
	if lang != "go" && lang != "as" && lang != "c" && lang != "rust" {
		return "", fmt.Errorf("unknown language %q: want go, as, c or rust", lang)
	}
	target, err := filepath.Abs(filepath.Join(dir, name))
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(target); err == nil {
		return "", fmt.Errorf("%s already exists; choose another name or --dir", target)
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	data := struct {
		Name, SDKPath, ASVersion string
		Module                   string // Go: the module path of a plugin with a go.mod of its own
	}{Name: name, ASVersion: asVersion}
	switch lang {
	case "go":
		// In a module that has the SDK (the repository, or one requiring
		// it), the plugin is a package of that module; anywhere else, a
		// module of its own, pointed at the carried SDK.
		if mod, _ := enclosingModule(filepath.Dir(target)); mod != sdk.GoModule && (mod == "" || !requires(filepath.Dir(target), sdk.GoModule)) {
			dir, err := sdkCache()
			if err != nil {
				return "", err
			}
			if data.SDKPath, err = sdk.Extract(dir, sdk.Go); err != nil {
				return "", err
			}
			data.Module = name
		}
	case "as":
		root := sdkRoot
		if root == "" {
			root = findRepo(filepath.Dir(target))
		}
		sdkDir := filepath.Join(root, "sdk", "assemblyscript")
		if root != "" && exists(filepath.Join(sdkDir, "package.json")) {
			rel, err := filepath.Rel(target, sdkDir)
			if err != nil {
				return "", err
			}
			data.SDKPath = filepath.ToSlash(rel)
		} else if sdkRoot != "" {
			return "", fmt.Errorf("no sdk/assemblyscript in %s (--sdk)", sdkRoot)
		} else {
			dir, err := sdkCache()
			if err != nil {
				return "", err
			}
			if data.SDKPath, err = sdk.Extract(dir, sdk.AssemblyScript); err != nil {
				return "", err
			}
			data.SDKPath = filepath.ToSlash(data.SDKPath)
		}
	}
	root := "templates/" + lang
	var files []string
	if err := fs.WalkDir(templates, root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	}); err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return "", err
	}
	if err := os.Mkdir(target, 0o755); err != nil {
		return "", err
	}
	for _, p := range files {
		src, err := templates.ReadFile(p)
		if err != nil {
			return "", err
		}
		rel := strings.TrimPrefix(p, root+"/")
		rel = strings.TrimSuffix(rel, ".tmpl")
		switch path.Base(rel) {
		case "go.mod":
			if data.Module == "" {
				continue // a package of the enclosing module
			}
		case "gitignore":
			rel = path.Join(path.Dir(rel), ".gitignore")
		case "plugin_test.go":
			rel = path.Join(path.Dir(rel), name+"_test.go")
		}
		var out bytes.Buffer
		tmpl, err := template.New(p).Delims("{{", "}}").Parse(string(src))
		if err != nil {
			return "", err
		}
		if err := tmpl.Execute(&out, data); err != nil {
			return "", err
		}
		dst := filepath.Join(target, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(dst, out.Bytes(), 0o644); err != nil {
			return "", err
		}
	}
	// The one-file SDKs go beside the source; every build goes into build/.
	sdkFiles := map[string][]byte{"c": sdk.CHeader(), "rust": sdk.RustModule()}
	sdkNames := map[string]string{"c": "sockwasm.h", "rust": "sockwasm.rs"}
	if b, ok := sdkFiles[lang]; ok {
		if err := os.WriteFile(filepath.Join(target, sdkNames[lang]), b, 0o644); err != nil {
			return "", err
		}
	}
	if err := os.MkdirAll(filepath.Join(target, "build"), 0o755); err != nil {
		return "", err
	}
	return target, nil
}

// enclosingModule returns the module path of the go.mod in dir or above
// (dir need not exist yet), "" when none.
func enclosingModule(dir string) (string, string) {
	for d := dir; ; d = filepath.Dir(d) {
		if f, err := os.Open(filepath.Join(d, "go.mod")); err == nil {
			defer f.Close()
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
					return strings.Trim(strings.TrimSpace(rest), `"`), d
				}
			}
			return "", d
		}
		if filepath.Dir(d) == d {
			return "", ""
		}
	}
}

// requires reports whether the go.mod above dir mentions module mod.
func requires(dir, mod string) bool {
	_, d := enclosingModule(dir)
	b, err := os.ReadFile(filepath.Join(d, "go.mod"))
	return err == nil && bytes.Contains(b, []byte(mod+" "))
}

// findRepo returns the first folder at or above dir holding
// sdk/assemblyscript/package.json, "" when none.
func findRepo(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if exists(filepath.Join(d, "sdk", "assemblyscript", "package.json")) {
			return d
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// sdkCache is where the carried SDKs are written: SOCKWASM_SDK_CACHE, or
// sockwasm/sdk in the user cache folder.
func sdkCache() (string, error) {
	if d := os.Getenv("SOCKWASM_SDK_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache folder for the SDK (set SOCKWASM_SDK_CACHE): %w", err)
	}
	return filepath.Join(d, "sockwasm", "sdk"), nil
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }
