package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/rs/zerolog"

	"github.com/sockwasm/sockwasm/host/config"
	"github.com/sockwasm/sockwasm/host/plugin"
	"github.com/sockwasm/sockwasm/host/router"
)

// ErrClosed is returned by a reload after Shutdown.
var ErrClosed = errors.New("server: shut down")

// FixedSettingsError refuses a configuration reload that changes settings
// which only a restart applies.
type FixedSettingsError struct {
	File string
	Keys []string
}

// Error names the file and the keys.
func (e *FixedSettingsError) Error() string {
	return fmt.Sprintf("%s: %s cannot change while serving (restart to apply); nothing of this reload was applied",
		e.File, strings.Join(e.Keys, ", "))
}

// Reload applies the plugins folder and the configuration file as they
// are now, as SIGHUP asks, all or nothing: every changed or new .wasm and
// every plugin whose settings change is built first, with the new
// configuration, and the new routing table with them; only when all of
// them are ready are they swapped in, with the configuration; then removed
// plugins are unloaded. Any failure leaves everything as it was, and is
// logged once, naming its cause. Connections are never dropped.
func (s *Server) Reload(ctx context.Context) error {
	if err := s.lockReload(); err != nil {
		return err
	}
	defer s.reloadMu.Unlock()
	cur := s.cfg.Load()
	next := cur
	if cur.File != "" {
		var err error
		if next, err = s.nextConfig(cur); err != nil {
			return s.refuse(cur, err)
		}
	}
	files, err := filepath.Glob(filepath.Join(cur.PluginsDir, "*.wasm"))
	if err != nil {
		return err
	}
	paths := map[string]bool{}
	for _, f := range files {
		paths[f] = true
	}
	for _, name := range s.plugins.Names() {
		paths[filepath.Join(cur.PluginsDir, name+".wasm")] = true
	}
	return s.apply(ctx, cur, next, sortedKeys(paths))
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// lockReload takes reloadMu unless the server is shut down.
func (s *Server) lockReload() error {
	s.reloadMu.Lock()
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		s.reloadMu.Unlock()
		return ErrClosed
	}
	return nil
}

// ReloadPlugin applies the plugin file path (a .wasm in the plugins
// folder) as it is now. A new or changed file is compiled and validated,
// then swapped in: new events go to the new version, calls in flight finish
// on the old. A file that fails is refused and the running version keeps
// serving. A removed file unloads its plugin, unless a route or an engine
// endpoint still names it: then the removal is refused (logged as an
// error) and the last version keeps serving.
func (s *Server) ReloadPlugin(ctx context.Context, path string) error {
	if err := s.lockReload(); err != nil {
		return err
	}
	defer s.reloadMu.Unlock()
	cur := s.cfg.Load()
	return s.apply(ctx, cur, cur, []string{path})
}

// ReloadConfig reads and validates the configuration file whole, then
// applies it live, all or nothing: new and changed namespaces and routes
// (a new routing table swapped in atomically; sockets already connected
// are untouched and their next events follow the new routes), removed
// namespaces (they refuse new connections; sockets already connected stay,
// with the routes they had), and changed plugin settings (each such plugin
// rebuilt with them first, swapped in with the table).
//
// Nothing is applied when the file is invalid, when it changes a setting
// that only a restart applies (FixedSettingsError), when a route names a
// plugin that is not loaded, or when a plugin fails to build with its new
// settings. The running configuration then keeps serving and the reason
// is logged.
func (s *Server) ReloadConfig(ctx context.Context) error {
	if err := s.lockReload(); err != nil {
		return err
	}
	defer s.reloadMu.Unlock()
	cur := s.cfg.Load()
	next, err := s.nextConfig(cur)
	if err != nil {
		return s.refuse(cur, err)
	}
	return s.apply(ctx, cur, next, nil)
}

// nextConfig loads the configuration file again and checks that it only
// changes what a reload may.
func (s *Server) nextConfig(cur *config.Config) (*config.Config, error) {
	next, err := config.Load(cur.File)
	if err != nil {
		return nil, err
	}
	if cur.ListenOverride != "" {
		next.ListenOverride, next.Listen = cur.ListenOverride, cur.ListenOverride
	}
	keys := config.FixedChanges(cur, next)
	if s.setLog == nil && cur.Log != next.Log {
		keys = append(keys, "log") // this server cannot change its logger
	}
	if len(keys) > 0 {
		return nil, &FixedSettingsError{File: cur.File, Keys: keys}
	}
	return next, nil
}

// reloadCount identifies a counter of reloads (sockwasm_reloads_total
// when Plugin is "", else sockwasm_plugin_reloads_total).
type reloadCount struct{ Plugin, Result string }

func (s *Server) countReload(plugin, result string) {
	v, ok := s.reloads.Load(reloadCount{plugin, result})
	if !ok {
		v, _ = s.reloads.LoadOrStore(reloadCount{plugin, result}, new(atomic.Uint64))
	}
	v.(*atomic.Uint64).Add(1)
}

// refuse logs a refused reload once and returns err.
func (s *Server) refuse(cur *config.Config, err error) error {
	s.countReload("", "refused")
	s.rlog.Error().Str("config", cur.File).Err(err).Msg("configuration reload refused; the running configuration keeps serving")
	return err
}

// refusePlugin logs a reload refused because of plugin name (file path)
// once and returns err: nothing of the reload was applied. result is
// "refused", or "removal refused" for a file removed while routed.
func (s *Server) refusePlugin(name, path, result string, err error) error {
	s.countReload("", "refused")
	s.countReload(name, "refused")
	s.rlog.Error().Str("plugin", name).Str("file", path).Str("result", result).Err(err).
		Msg("plugin reload refused") // nothing of this reload applied
	return err
}

// apply is every reload: it moves the server from configuration cur to
// next, looking at the plugin files in files (each new, changed or
// removed) and at every loaded plugin whose settings differ between cur
// and next. Under reloadMu.
//
// First everything is built without touching what serves: each plugin
// version (plugin.Manager.Prepare, INIT included) and the routing table
// over them. A failure there discards what was built and changes nothing.
// Then, in one step that cannot fail, the versions are committed, the
// table and the configuration swapped in. Last, the old versions retire as
// their calls end, and plugins whose files are gone are unloaded.
func (s *Server) apply(ctx context.Context, cur, next *config.Config, files []string) error {
	// The new versions' INIT calls may send into the namespaces next
	// routes to them; next's exact namespaces exist already (registering
	// one that no client reaches yet is harmless; a refused reload keeps
	// it registered, routed to nothing, as a removed namespace is).
	s.staging.Store(next)
	defer s.staging.Store(nil)
	for _, n := range next.Namespace {
		if !config.IsPattern(n.Name) && s.sio.Of(n.Name) == nil {
			s.sio.Handle(n.Name, s.routes.Handler(n.Name))
		}
	}
	type build struct {
		st    *plugin.Staged
		cause string
	}
	var builds []build
	staged := map[string]*plugin.Plugin{}
	var removed []string
	discard := func() {
		for _, b := range builds {
			b.st.Discard(ctx)
		}
	}
	fail := func(err error) error {
		discard()
		return s.refuse(cur, err)
	}
	failPlugin := func(name, path string, err error) error {
		discard()
		return s.refusePlugin(name, path, "refused", err)
	}
	seen := map[string]bool{}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".wasm")
		seen[name] = true
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			p := s.plugins.Get(name)
			if p == nil {
				continue
			}
			if routed(next, name) {
				discard()
				return s.refusePlugin(name, path, "removal refused", fmt.Errorf("server: %s was removed but %s still routes to plugin %q; its last version (%s) keeps serving",
					path, cfgName(next), name, p.Hash()))
			}
			removed = append(removed, name)
			continue
		}
		cause := "file"
		if p := s.plugins.Get(name); p != nil && !reflect.DeepEqual(settings(cur, name), settings(next, name)) {
			cause = "file and settings"
		}
		st, err := s.plugins.Prepare(ctx, path, settings(next, name))
		if err != nil {
			return failPlugin(name, path, err)
		}
		builds = append(builds, build{st, cause})
		staged[name] = st.Plugin()
	}
	for _, name := range s.plugins.Names() {
		was, now := settings(cur, name), settings(next, name)
		if seen[name] || reflect.DeepEqual(was, now) {
			continue
		}
		p := s.plugins.Get(name)
		if p == nil {
			continue
		}
		st, err := s.plugins.Prepare(ctx, p.Path(), now)
		if err != nil {
			return failPlugin(name, p.Path(), fmt.Errorf("%s: plugin %q with its new settings: %w", cfgName(next), name, err))
		}
		builds = append(builds, build{st, "settings"})
		staged[name] = st.Plugin()
	}
	gone := map[string]bool{}
	for _, name := range removed {
		gone[name] = true
	}
	table, err := router.Build(next.Namespace, func(name string) *plugin.Plugin {
		if p := staged[name]; p != nil {
			return p
		}
		if gone[name] {
			return nil
		}
		return s.plugins.Get(name)
	})
	if err != nil {
		return fail(fmt.Errorf("%s: %w", cfgName(next), err))
	}

	// The swap: nothing below fails.
	for _, b := range builds {
		b.st.Commit()
	}
	s.routes.Swap(table)
	s.registerExact(table)
	s.cfg.Store(next)
	if next.Log != cur.Log && s.setLog != nil {
		s.setLog(next.Log)
		s.rlog.Info().Str("log_level", next.Log.Level).Str("log_format", next.Log.Format).Msg("log settings changed")
	}
	for _, b := range builds {
		cause := b.cause
		if b.st.Result.Unchanged || b.st.Result.OldHash == "" {
			cause = ""
		}
		logResult(s.rlog.Info().Str("plugin", b.st.Result.Name), b.st.Result, cause).Msg("plugin reload")
		s.countReload(b.st.Result.Name, resultOf(b.st.Result))
	}
	s.countReload("", "applied")
	for _, name := range removed {
		p := s.plugins.Get(name)
		old := p.Hash()
		if err := s.plugins.Remove(ctx, name); err != nil {
			s.rlog.Error().Str("plugin", name).Str("old", old).Str("result", "remove failed").Err(err).Msg("plugin reload")
			continue
		}
		s.rlog.Info().Str("plugin", name).Str("old", old).Str("result", "removed").Msg("plugin reload")
		s.countReload(name, "removed")
	}
	if next != cur {
		added, gone := nsDiff(cur, next)
		s.rlog.Info().Str("config", next.File).Strs("added", added).Strs("removed", gone).Int("namespaces", len(next.Namespace)).
			Msg("configuration reloaded")
	}
	return nil
}

// routed reports whether the configuration names plugin name.
func routed(cfg *config.Config, name string) bool {
	for _, n := range cfg.PluginNames() {
		if n == name {
			return true
		}
	}
	return false
}

// logResult adds a reload's outcome to a log event: old and new hash and
// the result (added, reloaded, unchanged), and the cause when not a file
// change.
func logResult(e *zerolog.Event, res plugin.ReloadResult, cause string) *zerolog.Event {
	e = e.Str("old", res.OldHash).Str("new", res.NewHash).Str("result", resultOf(res))
	if cause != "" && cause != "file" {
		e = e.Str("cause", cause)
	}
	return e
}

func resultOf(res plugin.ReloadResult) string {
	switch {
	case res.Unchanged:
		return "unchanged"
	case res.OldHash == "":
		return "added"
	}
	return "reloaded"
}

// nsDiff returns the namespace names added and removed between a and b.
func nsDiff(a, b *config.Config) (added, removed []string) {
	in := func(c *config.Config) map[string]bool {
		m := map[string]bool{}
		for _, n := range c.Namespace {
			m[n.Name] = true
		}
		return m
	}
	am, bm := in(a), in(b)
	for n := range bm {
		if !am[n] {
			added = append(added, n)
		}
	}
	for n := range am {
		if !bm[n] {
			removed = append(removed, n)
		}
	}
	sort.Strings(added)
	sort.Strings(removed)
	return added, removed
}
