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
}

func cloneSettings(s Settings) Settings {
	s.Grants = slices.Clone(s.Grants)
	s.Config = slices.Clone(s.Config)
	return s
}

func settingsEqual(a, b Settings) bool {
	ga, gb := slices.Clone(a.Grants), slices.Clone(b.Grants)
	slices.Sort(ga)
	slices.Sort(gb)
	return slices.Equal(ga, gb) && string(a.Config) == string(b.Config) && a.Limits == b.Limits
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
// .wasm) or replaces its current version: it compiles and validates the
// module, checks its imports against s.Grants, creates one instance and
// runs the INIT call, then makes it current atomically. Calls in flight
// finish on the old version, which is closed once they have. On error the
// running version, if any, keeps serving and the error names the file.
// When the module bytes and the settings are those already serving,
// nothing is done and the result says Unchanged. Every reload is logged
// with the plugin name, the old and new hashes and the result.
func (m *Manager) Reload(ctx context.Context, path string, s Settings) (ReloadResult, error) {
	name := pluginName(path)
	res := ReloadResult{Name: name}
	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()
	m.mu.RLock()
	closed, p := m.closed, m.plugins[name]
	m.mu.RUnlock()
	if closed {
		return res, ErrClosed
	}
	log := m.log.With().Str("plugin", name).Str("file", path).Logger()
	var cur *version
	if p != nil {
		cur = p.cur.Load()
	}
	if cur != nil {
		res.OldHash = cur.hash
	}
	bin, err := os.ReadFile(path)
	if err != nil {
		err = fmt.Errorf("plugin: %w", err)
		log.Error().Str("old", res.OldHash).Err(err).Msg("plugin reload refused")
		return res, err
	}
	res.NewHash = moduleHash(bin)
	if cur != nil && cur.hash == res.NewHash && cur.path == path && settingsEqual(cur.settings, s) {
		res.Unchanged = true
		log.Debug().Str("old", res.OldHash).Str("new", res.NewHash).Msg("plugin unchanged")
		return res, nil
	}
	fresh := p == nil
	if fresh {
		p = newPlugin(name, m.opts, m.cache, m.opts.limits(s))
	}
	start := time.Now()
	v, st, err := p.build(ctx, path, bin, s)
	if err != nil {
		if fresh {
			_ = p.Close(ctx)
		}
		log.Error().Str("old", res.OldHash).Str("new", res.NewHash).Err(err).Msg("plugin reload refused")
		return res, err
	}
	p.kv.SetLimits(stateLimits(v.lim, v.grants))
	p.timers.SetLimits(stateLimits(v.lim, v.grants))
	st.apply(p)
	if fresh {
		p.cur.Store(v)
		m.mu.Lock()
		m.plugins[name] = p
		m.mu.Unlock()
	} else {
		p.swap(v)
	}
	st.startTimers(p)
	log.Info().Str("old", res.OldHash).Str("new", res.NewHash).Dur("took", time.Since(start)).Msg("plugin loaded")
	return res, nil
}

// Remove unloads the plugin name: its timers are canceled, later calls
// through its handle fail cleanly (an event is acked with an error when
// the client asked for an ack), and Remove waits (up to ctx) for the calls
// in flight to finish. Its key-value store is dropped; a plugin added
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
		Grants: slices.Clone(v.grants), Capabilities: capabilitiesOf(v.imports),
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
