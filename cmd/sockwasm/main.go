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
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/sockwasm/sockwasm/host/config"
	"github.com/sockwasm/sockwasm/host/server"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `usage: sockwasm <command> [flags]

commands:
  serve    serve Socket.IO with the plugins of a configuration
  check    validate a configuration and load its plugins, without serving
  version  print the version

flags (serve, check):
  --config FILE   configuration file (default server.toml)
  --listen ADDR   serve on ADDR instead of the configuration's listen (serve only)
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
	case "serve", "check":
	default:
		fmt.Fprintf(stderr, "sockwasm: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	fs := flag.NewFlagSet("sockwasm "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgFile := fs.String("config", "server.toml", "configuration file")
	listen := fs.String("listen", "", "listen address, overrides the configuration (serve only)")
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
	}
	log := newLogger(cfg, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cmd == "check" {
		return check(ctx, cfg, log, stdout, stderr)
	}
	return serve(ctx, cfg, log, stderr)
}

func newLogger(cfg *config.Config, w io.Writer) zerolog.Logger {
	if cfg.Log.Format == "console" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly, NoColor: !isTerminal(w)}
	}
	lvl, err := zerolog.ParseLevel(cfg.Log.Level)
	if err != nil {
		lvl = zerolog.InfoLevel
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger()
}

func check(ctx context.Context, cfg *config.Config, log zerolog.Logger, stdout, stderr io.Writer) int {
	srv, err := server.New(ctx, cfg, log.Level(zerolog.WarnLevel))
	if err != nil {
		fmt.Fprintf(stderr, "sockwasm check: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: ok (%d namespaces, %d engine endpoints, plugins: %v)\n",
		cfg.File, len(cfg.Namespace), len(cfg.Endpoints), srv.Plugins().Names())
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return 0
}

func serve(ctx context.Context, cfg *config.Config, log zerolog.Logger, stderr io.Writer) int {
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "sockwasm serve: %v\n", err)
		return 1
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		fmt.Fprintf(stderr, "sockwasm serve: %v\n", err)
		_ = srv.Shutdown(context.Background())
		return 1
	}
	log.Info().Str("addr", ln.Addr().String()).Str("path", cfg.Path).Strs("plugins", srv.Plugins().Names()).
		Str("config", cfg.File).Msg("serving")
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Msg("serve failed")
			return 1
		}
		return 0
	case <-ctx.Done():
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
