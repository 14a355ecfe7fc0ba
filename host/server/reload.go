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
	"time"

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
// are now, as SIGHUP asks: every changed or new .wasm is compiled and
// swapped in, removed ones are unloaded (or kept when still routed), then
// the configuration is reloaded (ReloadConfig). Each step is logged; the
// error joins the failures. Connections are never dropped by a reload.
func (s *Server) Reload(ctx context.Context) error {
	cfg := s.cfg.Load()
	files, err := filepath.Glob(filepath.Join(cfg.PluginsDir, "*.wasm"))
	if err != nil {
		return err
	}
	paths := map[string]bool{}
	for _, f := range files {
		paths[f] = true
	}
	for _, name := range s.plugins.Names() {
		paths[filepath.Join(cfg.PluginsDir, name+".wasm")] = true
	}
	var errs []error
	for _, f := range sortedKeys(paths) {
		errs = append(errs, s.ReloadPlugin(ctx, f))
	}
	if cfg.File != "" {
		errs = append(errs, s.ReloadConfig(ctx))
	}
	return errors.Join(errs...)
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
	cfg := s.cfg.Load()
	name := strings.TrimSuffix(filepath.Base(path), ".wasm")
	log := s.log.With().Str("plugin", name).Str("file", path).Logger()
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		p := s.plugins.Get(name)
		if p == nil {
			return nil
		}
		if routed(cfg, name) {
			err := fmt.Errorf("server: %s was removed but %s still routes to plugin %q; its last version (%s) keeps serving",
				path, cfgName(cfg), name, p.Hash())
			log.Error().Str("hash", p.Hash()).Str("result", "removal refused").Err(err).Msg("plugin reload")
			return err
		}
		old := p.Hash()
		if err := s.plugins.Remove(ctx, name); err != nil {
			log.Error().Str("old", old).Str("result", "remove failed").Err(err).Msg("plugin reload")
			return err
		}
		log.Info().Str("old", old).Str("result", "removed").Msg("plugin reload")
		return nil
	}
	var old string
	if p := s.plugins.Get(name); p != nil {
		old = p.Hash()
	}
	start := time.Now()
	res, err := s.plugins.Reload(ctx, path, settings(cfg, name))
	log = log.With().Dur("took", time.Since(start)).Logger()
	if err != nil {
		log.Error().Str("old", old).Str("result", "refused").Err(err).
			Msg("plugin reload refused; the running version keeps serving")
		return err
	}
	logResult(log.Info(), res, "").Msg("plugin reload")
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
	if cause != "" {
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

// ReloadConfig reads and validates the configuration file whole, then
// applies it live: new and changed namespaces and routes (a new routing
// table swapped in atomically; sockets already connected are untouched and
// their next events follow the new routes), removed namespaces (they refuse
// new connections; sockets already connected stay, with the routes they
// had), and changed plugin settings (each such plugin reloaded with them).
//
// Nothing is applied when the file is invalid, when it changes a setting
// that only a restart applies (FixedSettingsError), when a route names a
// plugin that is not loaded, or when a plugin fails to reload with its new
// settings (the plugins already reloaded get their old settings back). The
// running configuration then keeps serving and the reason is logged.
func (s *Server) ReloadConfig(ctx context.Context) error {
	if err := s.lockReload(); err != nil {
		return err
	}
	defer s.reloadMu.Unlock()
	cur := s.cfg.Load()
	log := s.log.With().Str("config", cur.File).Logger()
	refuse := func(err error) error {
		log.Error().Err(err).Msg("configuration reload refused; the running configuration keeps serving")
		return err
	}
	next, err := config.Load(cur.File)
	if err != nil {
		return refuse(err)
	}
	if cur.ListenOverride != "" {
		next.ListenOverride, next.Listen = cur.ListenOverride, cur.ListenOverride
	}
	if keys := config.FixedChanges(cur, next); len(keys) > 0 {
		return refuse(&FixedSettingsError{File: cur.File, Keys: keys})
	}
	table, err := router.Build(next.Namespace, s.plugins.Get)
	if err != nil {
		return refuse(fmt.Errorf("%s: %w", cur.File, err))
	}
	// Plugins whose settings change are reloaded with them; on a failure
	// the ones done go back to their old settings.
	type done struct {
		path string
		old  plugin.Settings
	}
	var applied []done
	for _, name := range s.plugins.Names() {
		was, now := settings(cur, name), settings(next, name)
		if reflect.DeepEqual(was, now) {
			continue
		}
		p := s.plugins.Get(name)
		if p == nil {
			continue
		}
		path := p.Path()
		plog := s.log.With().Str("plugin", name).Logger()
		res, err := s.plugins.Reload(ctx, path, now)
		if err != nil {
			plog.Error().Str("old", p.Hash()).Str("result", "refused").Err(err).Msg("plugin reload with new settings refused")
			for _, d := range applied {
				if _, rerr := s.plugins.Reload(ctx, d.path, d.old); rerr != nil {
					log.Error().Str("file", d.path).Err(rerr).Msg("restoring a plugin's previous settings failed")
				}
			}
			return refuse(fmt.Errorf("%s: plugin %q with its new settings: %w", cur.File, name, err))
		}
		logResult(plog.Info(), res, "settings").Msg("plugin reload")
		applied = append(applied, done{path, was})
	}
	s.routes.Swap(table)
	s.registerExact(table)
	s.cfg.Store(next)
	added, removed := nsDiff(cur, next)
	log.Info().Strs("added", added).Strs("removed", removed).Int("namespaces", len(next.Namespace)).
		Msg("configuration reloaded")
	return nil
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
