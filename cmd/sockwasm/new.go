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

// sdkModule is the module of the Go SDK.
const sdkModule = "github.com/sockwasm/sockwasm"

var pluginName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

const newUsage = `usage: sockwasm new NAME [--lang go|as] [--dir DIR]

Scaffolds a plugin in DIR/NAME (DIR defaults to plugins-src): its source,
a test, a build target and a server.toml snippet routing /NAME to it.
  --lang go   main.go, NAME_test.go (sdk/go/plugintest), Makefile (NAME.wasm)
  --lang as   assembly/index.ts, test/plugin.test.mjs (node --test),
              package.json (npm test builds build/NAME.wasm)
NAME is lower case letters, digits and dashes, starting with a letter; it
is the plugin's name, its .wasm file name. The folder must not exist.
A Go plugin must be inside a module that requires the SDK (run it in the
sockwasm repository); an AssemblyScript plugin refers to the SDK by a
relative file: path, found from DIR (or --sdk, the repository's root).
`

// newPlugin is the `new` verb.
func newPlugin(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sockwasm new", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, newUsage) }
	lang := fs.String("lang", "go", "plugin language: go or as")
	dir := fs.String("dir", "plugins-src", "parent folder of the plugin's folder")
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
	switch *lang {
	case "go":
		fmt.Fprintf(stdout, "next: cd %s && make test && make\n", target)
	case "as":
		fmt.Fprintf(stdout, "next: cd %s && npm install && npm test\n", target)
	}
	fmt.Fprintf(stdout, "then add %s to your server.toml\n", filepath.Join(target, "server.toml.snippet"))
	return 0
}

// scaffold writes plugin name in language lang into dir/name and returns
// that folder.
func scaffold(name, lang, dir, sdkRoot string) (string, error) {
	if !pluginName.MatchString(name) {
		return "", fmt.Errorf("invalid plugin name %q: use lower case letters, digits and dashes, starting with a letter (at most 63)", name)
	}
	if lang != "go" && lang != "as" {
		return "", fmt.Errorf("unknown language %q: want go or as", lang)
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
	data := struct{ Name, SDKPath, ASVersion string }{Name: name, ASVersion: asVersion}
	switch lang {
	case "go":
		if mod, _ := enclosingModule(filepath.Dir(target)); mod != sdkModule {
			if mod == "" {
				return "", fmt.Errorf("%s is not inside a Go module: create the plugin inside the sockwasm repository (or a module requiring %s) so that the SDK import resolves", dir, sdkModule)
			}
			if !requires(filepath.Dir(target), sdkModule) {
				return "", fmt.Errorf("the module %s (around %s) does not require %s: add it (go get %s) first", mod, dir, sdkModule, sdkModule)
			}
		}
	case "as":
		root := sdkRoot
		if root == "" {
			root = findRepo(filepath.Dir(target))
		}
		sdkDir := filepath.Join(root, "sdk", "assemblyscript")
		if root == "" || !exists(filepath.Join(sdkDir, "package.json")) {
			return "", fmt.Errorf("cannot find sdk/assemblyscript above %s: pass --sdk with the sockwasm repository's root", dir)
		}
		rel, err := filepath.Rel(target, sdkDir)
		if err != nil {
			return "", err
		}
		data.SDKPath = filepath.ToSlash(rel)
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

func exists(p string) bool { _, err := os.Stat(p); return err == nil }
