package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/rs/zerolog"

	"github.com/sockwasm/sockwasm/host/config"
)

// devDebounce is how long a source folder stays quiet before a rebuild:
// an editor's save is several events.
const devDebounce = 150 * time.Millisecond

// devSkip are folders of a source tree that are never sources.
var devSkip = []string{".git", "node_modules", "build", "target"}

// sourceExts are the files whose changes rebuild a plugin, by language.
var sourceExts = map[string][]string{
	"go":   {".go", ".mod", ".sum"},
	"as":   {".ts", ".json"},
	"c":    {".c", ".h"},
	"rust": {".rs"},
}

// source is one plugin's source folder, built by `sockwasm dev`.
type source struct {
	name, dir, lang string
	out             string // the plugin file: plugins_dir/NAME.wasm

	mu sync.Mutex // one build at a time
}

// devSources returns the plugin sources of cfg: each [plugin.NAME]
// source, and the configuration's own folder when it is a plugin's
// (what `sockwasm new` makes: its folder name is the plugin's, and
// plugins_dir is inside it).
func devSources(cfg *config.Config) ([]*source, error) {
	var out []*source
	names := make([]string, 0, len(cfg.Plugins))
	for n := range cfg.Plugins {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if dir := cfg.Plugins[n].Source; dir != "" {
			lang := detectLang(dir)
			if lang == "" {
				return nil, fmt.Errorf("%s: plugin.%s.source %q: no Go, AssemblyScript, C or Rust plugin there", cfg.File, n, dir)
			}
			out = append(out, &source{name: n, dir: dir, lang: lang, out: filepath.Join(cfg.PluginsDir, n+".wasm")})
		}
	}
	if len(out) == 0 && cfg.File != "" {
		dir, _ := filepath.Abs(filepath.Dir(cfg.File))
		plugins, _ := filepath.Abs(cfg.PluginsDir)
		if lang := detectLang(dir); lang != "" && strings.HasPrefix(plugins, dir+string(filepath.Separator)) {
			n := filepath.Base(dir)
			out = append(out, &source{name: n, dir: dir, lang: lang, out: filepath.Join(cfg.PluginsDir, n+".wasm")})
		}
	}
	return out, nil
}

// detectLang names the language of the plugin in dir, "" when none.
func detectLang(dir string) string {
	has := func(pattern string) bool {
		m, _ := filepath.Glob(filepath.Join(dir, pattern))
		return len(m) > 0
	}
	switch {
	case has("go.mod") || has("*.go"):
		return "go"
	case has("package.json") && has("assembly/index.ts"):
		return "as"
	case has("*.c"):
		return "c"
	case rustEntry(dir) != "":
		return "rust"
	}
	return ""
}

// rustEntry is the crate root of a Rust plugin: plugin.rs or lib.rs, or
// its only .rs file besides the SDK's sockwasm.rs.
func rustEntry(dir string) string {
	for _, f := range []string{"plugin.rs", "lib.rs"} {
		if exists(filepath.Join(dir, f)) {
			return f
		}
	}
	m, _ := filepath.Glob(filepath.Join(dir, "*.rs"))
	m = slices.DeleteFunc(m, func(p string) bool { return filepath.Base(p) == "sockwasm.rs" })
	if len(m) == 1 {
		return filepath.Base(m[0])
	}
	return ""
}

// rustcWasm returns a rustc that builds for wasm32-wasi: $SOCKWASM_RUSTC,
// else the first of the rustc on PATH and Debian's /usr/bin/rustc whose
// sysroot has the wasm32-wasi standard library (rustup's may not).
func rustcWasm() (string, error) {
	cands := []string{os.Getenv("SOCKWASM_RUSTC")}
	if p, err := exec.LookPath("rustc"); err == nil {
		cands = append(cands, p)
	}
	for _, c := range append(cands, "/usr/bin/rustc") {
		if c == "" {
			continue
		}
		root, err := exec.Command(c, "--print", "sysroot").Output()
		if err == nil && exists(filepath.Join(strings.TrimSpace(string(root)), "lib", "rustlib", "wasm32-wasi")) {
			return c, nil
		}
	}
	return "", errors.New("no rustc with the wasm32-wasi standard library (Debian: apt-get install rustc libstd-rust-dev-wasm32; or set SOCKWASM_RUSTC)")
}

// command returns the build of s into file tmp.
func (s *source) command(tmp string) (*exec.Cmd, error) {
	var cmd *exec.Cmd
	switch s.lang {
	case "go":
		cmd = exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-o", tmp, ".")
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	case "as":
		if !exists(filepath.Join(s.dir, "node_modules")) {
			return nil, fmt.Errorf("%s: run npm install there first", s.dir)
		}
		cmd = exec.Command("npx", "--no-install", "sockwasm-as-build", "assembly/index.ts", "-o", tmp)
	case "c":
		srcs, _ := filepath.Glob(filepath.Join(s.dir, "*.c"))
		for i := range srcs {
			srcs[i] = filepath.Base(srcs[i])
		}
		cmd = exec.Command("clang", append([]string{"--target=wasm32", "-nostdlib", "-Wl,--no-entry", "-O2", "-o", tmp}, srcs...)...)
	case "rust":
		rustc, err := rustcWasm()
		if err != nil {
			return nil, err
		}
		cmd = exec.Command(rustc, "--edition", "2021", "--target", "wasm32-wasi", "--crate-type", "cdylib", "-O",
			"-C", "strip=symbols", "-o", tmp, rustEntry(s.dir))
	}
	cmd.Dir = s.dir
	return cmd, nil
}

// build compiles s and moves the module into place (atomically: the
// server's watcher sees a whole file, and reloads it). On failure the
// compiler's output is returned and the plugin file is left alone.
func (s *source) build() (time.Duration, []byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := time.Now()
	if err := os.MkdirAll(filepath.Dir(s.out), 0o755); err != nil {
		return 0, nil, err
	}
	// A hidden name in the plugins folder: the watcher ignores it, and
	// the rename stays on one file system.
	tmp := filepath.Join(filepath.Dir(s.out), "."+s.name+".build.wasm")
	defer os.Remove(tmp)
	cmd, err := s.command(tmp)
	if err != nil {
		return 0, nil, err
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return time.Since(start), out.Bytes(), err
	}
	return time.Since(start), out.Bytes(), os.Rename(tmp, s.out)
}

// report prints what a build did.
func (s *source) report(w io.Writer, log zerolog.Logger, took time.Duration, out []byte, err error) {
	if err != nil {
		log.Error().Str("plugin", s.name).Str("source", s.dir).Err(err).Msg("build failed; the running version keeps serving")
		if len(out) > 0 {
			fmt.Fprintf(w, "--- %s (%s) ---\n%s---\n", s.name, s.lang, out)
		}
		return
	}
	log.Info().Str("plugin", s.name).Str("lang", s.lang).Dur("took", took).Msg("built " + s.out)
}

// watchSources rebuilds each source when its files change, until ctx
// ends (then the returned stop waits for its goroutines); the server's
// own watcher reloads the module. New subfolders are not watched.
func watchSources(ctx context.Context, srcs []*source, log zerolog.Logger, stderr io.Writer) (func(), error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	byDir := map[string]*source{}
	for _, s := range srcs {
		err := filepath.WalkDir(s.dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return err
			}
			if p != s.dir && (slices.Contains(devSkip, d.Name()) || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			byDir[p] = s
			return w.Add(p)
		})
		if err != nil {
			w.Close()
			return nil, err
		}
	}
	// One goroutine per source builds it once its folder has been quiet
	// for devDebounce; the watcher's goroutine only kicks it.
	var wg sync.WaitGroup
	kicks := map[*source]chan struct{}{}
	for _, s := range srcs {
		kick := make(chan struct{}, 1)
		kicks[s] = kick
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case <-kick:
				}
				quiet := time.NewTimer(devDebounce)
			debounce:
				for {
					select {
					case <-ctx.Done():
						quiet.Stop()
						return
					case <-kick:
						quiet.Reset(devDebounce)
					case <-quiet.C:
						break debounce
					}
				}
				took, out, err := s.build()
				s.report(stderr, log, took, out, err)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				log.Warn().Err(err).Msg("watching the plugin sources")
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				s := byDir[filepath.Dir(ev.Name)]
				if s == nil || strings.HasPrefix(filepath.Base(ev.Name), ".") || ev.Op == fsnotify.Chmod ||
					!slices.Contains(sourceExts[s.lang], filepath.Ext(ev.Name)) {
					continue // not a source: logs, editors' files, the build's own output
				}
				select {
				case kicks[s] <- struct{}{}:
				default: // a kick is pending already
				}
			}
		}
	}()
	return func() {
		w.Close()
		wg.Wait()
	}, nil
}

// dev is `sockwasm dev`: serve with watching on, and rebuild the
// plugins' sources on change.
func dev(ctx context.Context, cfg *config.Config, log zerolog.Logger, out *liveLog, stderr io.Writer) int {
	cfg.Watch = true
	srcs, err := devSources(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "sockwasm dev: %v\n", err)
		return 1
	}
	if len(srcs) == 0 {
		log.Warn().Msg("no plugin source to watch: run sockwasm dev in a folder sockwasm new made, or set [plugin.NAME] source; serving only")
	}
	for _, s := range srcs {
		took, b, err := s.build()
		s.report(stderr, log, took, b, err)
		if err != nil && !exists(s.out) {
			fmt.Fprintf(stderr, "sockwasm dev: %s has never built; fix it and run again\n", s.name)
			return 1
		}
	}
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop, err := watchSources(dctx, srcs, log, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "sockwasm dev: %v\n", err)
		return 1
	}
	defer stop()
	for _, s := range srcs {
		log.Info().Str("plugin", s.name).Str("lang", s.lang).Str("source", s.dir).Msg("rebuilt and reloaded on change")
	}
	return serve(ctx, cfg, log, out, stderr)
}
