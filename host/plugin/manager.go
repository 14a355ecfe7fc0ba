package plugin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"
)

// Settings are one plugin's settings from server.toml.
type Settings struct {
	// Grants are the capabilities granted to the plugin: "kv" (the
	// key-value store), "timers", and "emit:" followed by a namespace (or
	// a pattern ending in "*") that ns_broadcast may send into although
	// the plugin does not serve it. A module importing a host function of
	// a group it is not granted is refused at load.
	Grants []string
	// Config is the plugin's config table as JSON; nil means {}. The guest
	// gets it in its INIT call and from the config host function.
	Config []byte
	// Limits override Options.Limits for this plugin; zero fields inherit.
	Limits Limits
	// HTTPAllow are the URL prefixes http_request may reach (with the
	// "http" grant), each an absolute http:// or https:// URL
	// (abi.ParseHTTPAllow); a module whose list holds an invalid entry is
	// refused at load. Empty: every request is refused.
	HTTPAllow []string
}

func cloneSettings(s Settings) Settings {
	s.Grants = slices.Clone(s.Grants)
	s.HTTPAllow = slices.Clone(s.HTTPAllow)
	s.Config = slices.Clone(s.Config)
	return s
}

func settingsEqual(a, b Settings) bool {
	ga, gb := slices.Clone(a.Grants), slices.Clone(b.Grants)
	slices.Sort(ga)
	slices.Sort(gb)
	return slices.Equal(ga, gb) && string(a.Config) == string(b.Config) && a.Limits == b.Limits &&
		slices.Equal(a.HTTPAllow, b.HTTPAllow)
}

// ReloadResult says what Manager.Reload did.
type ReloadResult struct {
	// Name is the plugin name (file name without .wasm).
	Name string
	// OldHash is the hash of the version serving before; empty for a new
	// plugin.
	OldHash string
	// NewHash is the hash of the version serving after; on error, the hash
	// of the refused file when it could be read.
	NewHash string
	// Unchanged is true when the file and the settings were those already
	// serving: nothing was done.
	Unchanged bool
}

// ErrNotLoaded is returned by Remove for a name that is not loaded.
var ErrNotLoaded = errors.New("plugin: not loaded")

// Reload adds the plugin of path (its name is the file name without
// .wasm) or replaces its current version: Prepare, then Commit. On error
// the running version, if any, keeps serving, the error names the file,
// and the refusal is logged. When the module bytes and the settings are
// those already serving, nothing is done and the result says Unchanged.
func (m *Manager) Reload(ctx context.Context, path string, s Settings) (ReloadResult, error) {
	st, err := m.Prepare(ctx, path, s)
	if err != nil {
		m.log.Error().Str("plugin", st.Result.Name).Str("file", path).Str("old", st.Result.OldHash).
			Str("new", st.Result.NewHash).Err(err).Msg("plugin reload refused")
		return st.Result, err
	}
	st.Commit()
	return st.Result, nil
}

// Staged is a plugin version built by Prepare: compiled, validated,
// instantiated and past its INIT call, whose state changes are held back,
// but not serving. Commit makes it current and cannot fail; Discard drops
// it. Several Staged versions (a reload of several plugins) are committed
// one after the other once every one of them is ready, so that a failure
// leaves every plugin as it was.
type Staged struct {
	// Result says what Commit does: the name and hashes, or Unchanged
	// (Commit then does nothing).
	Result ReloadResult

	m     *Manager
	p     *Plugin
	v     *version
	st    *stage
	fresh bool
	start time.Time
}

// Plugin returns the handle the version will serve through: the current
// one, or for a plugin not loaded yet a new handle that Commit registers
// (routes may be built with it before).
func (st *Staged) Plugin() *Plugin { return st.p }

// Prepare builds the version of path with settings s without touching
// what serves: nothing is current until Commit. Callers serialize the
// Prepare and Commit of one plugin (the server's reload lock). On error
// the returned Staged holds only Result, and nothing is left behind.
func (m *Manager) Prepare(ctx context.Context, path string, s Settings) (*Staged, error) {
	name := pluginName(path)
	st := &Staged{m: m, Result: ReloadResult{Name: name}, start: time.Now()}
	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()
	m.mu.RLock()
	closed, p := m.closed, m.plugins[name]
	m.mu.RUnlock()
	if closed {
		return st, ErrClosed
	}
	var cur *version
	if p != nil {
		cur = p.cur.Load()
	}
	if cur != nil {
		st.Result.OldHash = cur.hash
	}
	bin, err := os.ReadFile(path)
	if err != nil {
		return st, fmt.Errorf("plugin: %w", err)
	}
	st.Result.NewHash = moduleHash(bin)
	if cur != nil && cur.hash == st.Result.NewHash && cur.path == path && settingsEqual(cur.settings, s) {
		st.Result.Unchanged = true
		st.p = p
		return st, nil
	}
	st.fresh = p == nil
	if st.fresh {
		p = newPlugin(name, m.opts, m.cache, m.opts.limits(s))
	}
	v, stg, err := p.build(ctx, path, bin, s)
	if err != nil {
		if st.fresh {
			_ = p.Close(ctx)
		}
		return st, err
	}
	st.p, st.v, st.st = p, v, stg
	return st, nil
}

// Commit makes the staged version current: its INIT's key-value writes
// and timer cancels are applied, then it serves new calls (calls in
// flight finish on the old version, which is closed once they have), then
// its INIT's timers start. A new plugin is registered.
func (st *Staged) Commit() {
	if st.v == nil {
		if !st.Result.Unchanged {
			panic("plugin: Commit of a failed Prepare")
		}
		st.m.log.Debug().Str("plugin", st.Result.Name).Str("old", st.Result.OldHash).Msg("plugin unchanged")
		return
	}
	m, p, v := st.m, st.p, st.v
	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()
	p.kv.SetLimits(stateLimits(v.lim, v.grants))
	p.timers.SetLimits(stateLimits(v.lim, v.grants))
	st.st.apply(p)
	v.serving = time.Now()
	if st.fresh {
		p.cur.Store(v)
		m.mu.Lock()
		m.plugins[st.Result.Name] = p
		m.mu.Unlock()
	} else {
		p.swap(v)
	}
	st.st.startTimers(p)
	st.v = nil
	m.log.Info().Str("plugin", st.Result.Name).Str("file", v.path).Str("old", st.Result.OldHash).Str("new", st.Result.NewHash).
		Dur("took", time.Since(st.start)).Msg("plugin loaded")
}

// Discard drops a staged version that will not serve: its instances and,
// for a new plugin, its handle are closed; the held-back state of its
// INIT is dropped.
func (st *Staged) Discard(ctx context.Context) {
	if st.v == nil {
		return
	}
	st.st.drop(st.p)
	st.v.closeNow()
	if st.fresh {
		_ = st.p.Close(ctx)
	}
	st.v = nil
}

// Remove unloads the plugin name: its timers are canceled, later calls
// through its handle fail cleanly (an event is acked with an error when
// the client asked for an ack), and Remove waits (up to ctx) for the calls
// in flight to finish. Its key-value store is dropped (a cluster's, in
// Redis, stays, timers too: docs/CLUSTER.md); a plugin added
// again under the same name gets a new handle (Get it again).
func (m *Manager) Remove(ctx context.Context, name string) error {
	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()
	m.mu.Lock()
	p := m.plugins[name]
	delete(m.plugins, name)
	m.mu.Unlock()
	if p == nil {
		return fmt.Errorf("%w: %s", ErrNotLoaded, name)
	}
	old := ""
	if v := p.cur.Load(); v != nil {
		old = v.hash
	}
	err := p.Close(ctx)
	m.log.Info().Str("plugin", name).Str("old", old).AnErr("error", err).Msg("plugin removed")
	return err
}

// Hash returns the version hash of the current version: the hex sha256 of
// the module bytes, first 12 characters; empty once the plugin is closed.
func (p *Plugin) Hash() string {
	if v := p.cur.Load(); v != nil {
		return v.hash
	}
	return ""
}

// Info describes a plugin's current version, for `sockwasm plugins`.
type Info struct {
	// Name is the plugin name.
	Name string
	// Path is the file the version was loaded from.
	Path string
	// Hash is the version hash (Plugin.Hash).
	Hash string
	// Exports are the module's exported functions, sorted.
	Exports []string
	// Imports are the module's imported functions as "module.name", sorted.
	Imports []string
	// Grants are the capabilities granted in its Settings.
	Grants []string
	// Capabilities are the capability groups the module imports from.
	Capabilities []string
	// Serving is when this version became current.
	Serving time.Time
}

// Info describes the plugin's current version; only Name is set once the
// plugin is closed.
func (p *Plugin) Info() Info {
	v := p.cur.Load()
	if v == nil {
		return Info{Name: p.name}
	}
	return Info{
		Name: p.name, Path: v.path, Hash: v.hash,
		Exports: slices.Clone(v.exports), Imports: slices.Clone(v.imports),
		Grants: slices.Clone(v.grants), Capabilities: capabilitiesOf(v.imports), Serving: v.serving,
	}
}

// Settings returns the settings of the current version with every limit
// resolved (zero Settings once the plugin is closed).
func (p *Plugin) Settings() Settings {
	v := p.cur.Load()
	if v == nil {
		return Settings{}
	}
	s := cloneSettings(v.settings)
	s.Config = slices.Clone(v.config)
	s.Limits = v.lim
	return s
}
