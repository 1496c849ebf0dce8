// Command pyplay serves the pyplay playground and holds its operator tools.
//
//	pyplay serve [-addr :8080] [-db sqlite:./data/pyplay.db | postgres://…] [-dev]
//	pyplay build                    bundle the front end into static/dist
//	pyplay snippets delete|export|import …
//	pyplay bench-native --server URL --snippet ID
//
// Every flag also reads an environment variable (PYPLAY_ADDR, PYPLAY_DB, …).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "pyplay:", err)
		}
		os.Exit(exitCode(err))
	}
}

func exitCode(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

const usage = `usage: pyplay <command> [flags]

commands:
  serve         serve the playground (default)
  build         bundle the front end into static/dist (run before go build)
  snippets      delete, export or import snippets (operator tools)
  bench-native  benchmark a snippet with the local python3 and stream the results

Run 'pyplay <command> -h' for a command's flags.
`

// run dispatches a subcommand; main and the end-to-end tests both call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		m := NewMain(stdout, stderr)
		if err := m.ParseFlags(args); err != nil {
			return err
		}
		if err := m.Run(ctx); err != nil {
			return err
		}
		<-ctx.Done()
		return m.Close()
	case "build":
		return runBuild(args, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		if sub, ok := extraCommands[cmd]; ok {
			return sub(ctx, args, stdout, stderr)
		}
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// extraCommands are registered by the files that implement them.
var extraCommands = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error{}

// envDefault returns the environment variable's value, or def.
func envDefault(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// envFlag is a flag whose default comes from an environment variable.
type envFlag struct {
	value     flag.Value
	name, env string
	usage     string
}

// registerEnvFlags adds the flags to fs with their values from the
// environment applied, checked by each flag's own Set (the command line,
// parsed afterwards, wins).
func registerEnvFlags(fs *flag.FlagSet, flags []envFlag) error {
	for _, fl := range flags {
		fs.Var(fl.value, fl.name, fmt.Sprintf("%s (%s)", fl.usage, fl.env))
		if v, ok := os.LookupEnv(fl.env); ok && v != "" {
			if err := fs.Set(fl.name, v); err != nil {
				return fmt.Errorf("serve: %s=%q: %w", fl.env, v, err)
			}
		}
	}
	return nil
}

func newLogger(w io.Writer, level string, json bool) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: l}
	if json {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
