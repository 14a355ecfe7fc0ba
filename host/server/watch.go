package server

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/sockwasm/sockwasm/host/config"
)

// debounce is how long the watcher waits after the last change of a burst
// before it applies them: editors and deploys write a file in several
// steps (truncate, write, rename).
const debounce = 100 * time.Millisecond

// lookForInterval spaces the looks for a plugins folder that was removed.
const lookForInterval = 200 * time.Millisecond

// watcher applies changes of the plugins folder and the configuration
// file. Its goroutine compiles and reloads, so serving never waits for a
// compilation; the Server owns it and stop ends it.
type watcher struct {
	fw     *fsnotify.Watcher
	cancel context.CancelFunc
	done   chan struct{}
}

// startWatcher watches cfg's plugins folder and the folder of its file
// (editors replace a file by renaming another over it, which a watch on the
// file itself would lose).
func (s *Server) startWatcher(cfg *config.Config) (*watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	pluginsDir := filepath.Clean(cfg.PluginsDir)
	cfgFile, err := filepath.Abs(cfg.File)
	if err != nil {
		_ = fw.Close()
		return nil, err
	}
	cfgDir := filepath.Dir(cfgFile)
	for _, d := range []string{pluginsDir, cfgDir} {
		if err := fw.Add(d); err != nil {
			_ = fw.Close()
			return nil, err
		}
	}
	absPlugins, _ := filepath.Abs(pluginsDir)
	ctx, cancel := context.WithCancel(context.Background())
	w := &watcher{fw: fw, cancel: cancel, done: make(chan struct{})}
	go s.watchLoop(ctx, w, absPlugins, cfgFile)
	s.rlog.Info().Str("plugins_dir", pluginsDir).Str("config", cfg.File).Msg("watching for changes")
	return w, nil
}

// stop ends the watcher and waits for its goroutine (and any reload it
// runs, whose context it cancels).
func (w *watcher) stop() {
	w.cancel()
	<-w.done
}

func (s *Server) watchLoop(ctx context.Context, w *watcher, pluginsDir, cfgFile string) {
	defer close(w.done)
	defer w.fw.Close()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	pending := map[string]bool{}
	cfgChanged := false
	// While the plugins folder is gone (removed, or renamed away), a
	// ticker looks for it to come back, and it is then watched again.
	var lookFor *time.Ticker
	var lookForC <-chan time.Time
	defer func() {
		if lookFor != nil {
			lookFor.Stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-lookForC:
			if fi, err := os.Stat(pluginsDir); err != nil || !fi.IsDir() {
				continue
			}
			if err := w.fw.Add(pluginsDir); err != nil {
				continue
			}
			lookFor.Stop()
			lookFor, lookForC = nil, nil
			s.rlog.Info().Str("plugins_dir", pluginsDir).Msg("plugins folder back: watching it again")
			_ = s.Reload(ctx) // every file of it; logged
			continue
		case err, ok := <-w.fw.Errors:
			if !ok {
				return
			}
			s.rlog.Warn().Err(err).Msg("watching for changes")
		case ev, ok := <-w.fw.Events:
			if !ok {
				return
			}
			if ev.Op == fsnotify.Chmod {
				continue
			}
			name, err := filepath.Abs(ev.Name)
			if err != nil {
				continue
			}
			switch {
			case name == pluginsDir:
				if ev.Op&(fsnotify.Remove|fsnotify.Rename) != 0 && lookFor == nil {
					_ = w.fw.Remove(pluginsDir)
					s.rlog.Warn().Str("plugins_dir", pluginsDir).Msg("plugins folder removed: the running plugins keep serving; watching for it to come back")
					lookFor = time.NewTicker(lookForInterval)
					lookForC = lookFor.C
				}
				continue
			case name == cfgFile:
				cfgChanged = true
			case filepath.Dir(name) == pluginsDir && strings.HasSuffix(name, ".wasm") && !strings.HasPrefix(filepath.Base(name), "."):
				pending[name] = true
			default:
				continue // editors' temporary files, other files
			}
			timer.Reset(debounce)
		case <-timer.C:
			paths := make([]string, 0, len(pending))
			for p := range pending {
				paths = append(paths, p)
			}
			sort.Strings(paths)
			clear(pending)
			// Plugins first, so that a configuration naming a new plugin
			// finds it loaded.
			for _, p := range paths {
				_ = s.ReloadPlugin(ctx, p) // logged
			}
			if cfgChanged {
				cfgChanged = false
				_ = s.ReloadConfig(ctx) // logged
			}
		}
	}
}
