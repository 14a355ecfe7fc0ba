package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/sockwasm/sockwasm/host/config"
	"github.com/sockwasm/sockwasm/host/memreduce"
	"github.com/sockwasm/sockwasm/host/server"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `usage: sockwasm <command> [flags]

commands:
  serve    serve Socket.IO with the plugins of a configuration
  check    validate a configuration and load its plugins, without serving
  plugins  list the plugins of a configuration: hash, exports, imports, grants
  status   ask the server running a configuration how it is (its [metrics] listener)
  new      scaffold a plugin: sockwasm new NAME [--lang go|as|c|rust] [--dir DIR]
  test     play scripted clients against a configuration: sockwasm test SCRIPT...
  dev      serve, and rebuild and reload the plugins' sources when they change
  version  print the version

flags (serve, dev, check, plugins, status):
  --config FILE   configuration file (default server.toml)
  --listen ADDR   serve on ADDR instead of the configuration's listen (serve, dev)
  --against FILE  also print what a reload from the configuration FILE (a
                  running server's) to this one would change (check only)

While serving, SIGHUP reloads the plugins folder and the configuration
(and so do their changes, unless the configuration sets watch = false);
sockwasm dev also builds the sources of the plugins (the folder sockwasm
new made, or each [plugin.NAME] source) when they change, with go, npx
(AssemblyScript), clang or rustc: a build error is printed and the
running version keeps serving;
SIGINT or SIGTERM drains and stops.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "sockwasm", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	case "new":
		return newPlugin(args, stdout, stderr)
	case "test":
		return testScripts(args, stdout, stderr)
	case compileCommand:
		return compileModule(args, stderr)
	case "serve", "check", "plugins", "status", "dev":
	default:
		fmt.Fprintf(stderr, "sockwasm: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	fs := flag.NewFlagSet("sockwasm "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgFile := fs.String("config", "server.toml", "configuration file")
	listen := fs.String("listen", "", "listen address, overrides the configuration (serve only)")
	against := fs.String("against", "", "a running server's configuration file: print what a reload to this one would change (check only)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sockwasm %s: unexpected argument %q\n", cmd, fs.Arg(0))
		return 2
	}
	cfg, err := config.Load(*cfgFile)
	if err != nil {
		fmt.Fprintf(stderr, "sockwasm %s: invalid configuration:\n%v\n", cmd, err)
		return 1
	}
	if *listen != "" {
		if _, _, err := net.SplitHostPort(*listen); err != nil {
			fmt.Fprintf(stderr, "sockwasm %s: --listen %q: want host:port\n", cmd, *listen)
			return 2
		}
		cfg.Listen = *listen
		cfg.ListenOverride = *listen
	}
	out, log := newLiveLog(stderr, cfg.Log)
	if bad := unknownDebug(); len(bad) > 0 {
		log.Warn().Strs("unknown", bad).Strs("components", config.LogComponents).Msg(debugEnv + " names unknown components")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch cmd {
	case "check":
		return check(ctx, cfg, *against, log, stdout, stderr)
	case "plugins":
		return plugins(ctx, cfg, log, stdout, stderr)
	case "status":
		return status(ctx, cfg, stdout, stderr)
	}
	if cmd == "dev" {
		return dev(ctx, cfg, log, out, stderr)
	}
	return serve(ctx, cfg, log, out, stderr)
}

// plugins lists the plugins of cfg, one block each: file, content hash,
// exports, imports, the capabilities those imports need and the ones
// granted in server.toml.
func plugins(ctx context.Context, cfg *config.Config, log zerolog.Logger, stdout, stderr io.Writer) int {
	cfg.Watch = false
	srv, err := server.New(ctx, cfg, log.Level(zerolog.WarnLevel), compiler())
	if err != nil {
		fmt.Fprintf(stderr, "sockwasm plugins: %v\n", err)
		return 1
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	list := func(s []string) string {
		if len(s) == 0 {
			return "-"
		}
		return strings.Join(s, " ")
	}
	for i, name := range srv.Plugins().Names() {
		p := srv.Plugins().Get(name)
		if p == nil {
			continue
		}
		info := p.Info()
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		fmt.Fprintf(stdout, "%s\n  file          %s\n  hash          %s\n  exports       %s\n  imports       %s\n  needs         %s\n  granted       %s\n",
			info.Name, info.Path, info.Hash, list(info.Exports), list(info.Imports), list(info.Capabilities), list(info.Grants))
	}
	return 0
}

func check(ctx context.Context, cfg *config.Config, against string, log zerolog.Logger, stdout, stderr io.Writer) int {
	var old *config.Config
	if against != "" {
		var err error
		if old, err = config.Load(against); err != nil {
			fmt.Fprintf(stderr, "sockwasm check: --against: invalid configuration:\n%v\n", err)
			return 1
		}
	}
	cfg.Watch = false
	srv, err := server.New(ctx, cfg, log.Level(zerolog.WarnLevel), compiler())
	if err != nil {
		fmt.Fprintf(stderr, "sockwasm check: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: ok (%d namespaces, %d engine endpoints, plugins: %v)\n",
		cfg.File, len(cfg.Namespace), len(cfg.Endpoints), srv.Plugins().Names())
	if old != nil {
		old.Watch = cfg.Watch // check turned watching off
		changes := config.Compare(old, cfg)
		if changes.Empty() {
			fmt.Fprintf(stdout, "against %s: a reload would change nothing\n", against)
		} else {
			fmt.Fprintf(stdout, "against %s, a reload would change:\n", against)
			for _, l := range changes.Lines() {
				fmt.Fprintf(stdout, "  %s\n", l)
			}
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return 0
}

func serve(ctx context.Context, cfg *config.Config, log zerolog.Logger, out *liveLog, stderr io.Writer) int {
	srv, err := server.New(ctx, cfg, log, compiler(), server.WithLiveLog(out.set))
	if err != nil {
		fmt.Fprintf(stderr, "sockwasm serve: %v\n", err)
		return 1
	}
	if cfg.ReleaseIdleMemory {
		rctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); memreduce.Run(rctx, memreduce.Options{}) }()
		defer func() { stop(); <-done }()
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		fmt.Fprintf(stderr, "sockwasm serve: %v\n", err)
		_ = srv.Shutdown(context.Background())
		return 1
	}
	// The operator's listener ([metrics]): it answers through the drain
	// (/readyz says 503 then) and stops last.
	var ops *http.Server
	if cfg.Metrics.Listen != "" {
		mln, err := net.Listen("tcp", cfg.Metrics.Listen)
		if err != nil {
			fmt.Fprintf(stderr, "sockwasm serve: metrics.listen: %v\n", err)
			_ = ln.Close()
			_ = srv.Shutdown(context.Background())
			return 1
		}
		h := srv.MetricsHandler()
		if cfg.Metrics.Pprof {
			h = withPprof(h)
			log.Warn().Str("addr", mln.Addr().String()).Msg("the profiler is served at /debug/pprof/ (metrics.pprof): keep this listener private")
		}
		ops = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = ops.Serve(mln) }()
		log.Info().Str("addr", mln.Addr().String()).Msg("metrics, /healthz and /readyz")
		defer func() { _ = ops.Close() }()
	}
	// Take SIGHUP before saying "serving": a reload sent as soon as the
	// server is up must not hit the default action (exit).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	log.Info().Str("addr", ln.Addr().String()).Str("path", cfg.Path).Strs("plugins", srv.Plugins().Names()).
		Str("config", cfg.File).Msg("serving")
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
wait:
	for {
		select {
		case err := <-errc:
			if !errors.Is(err, http.ErrServerClosed) {
				log.Error().Err(err).Msg("serve failed")
				return 1
			}
			return 0
		case <-hup:
			log.Info().Msg("SIGHUP: reloading plugins and configuration")
			// Reload compiles; the signal loop waits for it, serving does not.
			_ = srv.Reload(ctx) // every step is logged
		case <-ctx.Done():
			break wait
		}
	}
	log.Info().Msg("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), time.Duration(cfg.ShutdownTimeout))
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn().Err(err).Msg("shutdown")
	}
	<-errc
	log.Info().Msg("stopped")
	return 0
}

// isTerminal reports whether w is a character device (a terminal), where
// colored logs are wanted.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
