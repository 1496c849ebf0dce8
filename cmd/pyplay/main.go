// Command pyplay serves the pyplay playground and holds its operator tools.
//
//	pyplay serve [-addr :8080] [-db sqlite:./data/pyplay.db | postgres://…] [-dev]
//	pyplay build                    bundle the front end into static/dist
//	pyplay snippets delete|export|import …
//	pyplay packages import pyodide-<version>.tar.bz2 [-only numpy,matplotlib]
//	pyplay bench-native --server URL --snippet ID [--compare ID]
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

// command is one pyplay subcommand. run gets the arguments after the
// command's name and stops when ctx is done.
type command struct {
	name, help string
	run        func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands are pyplay's subcommands, in the order help lists them; the
// first is the default.
var commands = []command{
	{"serve", "serve the playground (default)", runServe},
	{"build", "bundle the front end into static/dist (run before go build)", runBuild},
	{"snippets", "delete, export or import snippets (operator tools)", runSnippets},
	{"packages", "import Pyodide packages from a release archive (packages import ARCHIVE [-only numpy,…])", runPackages},
	{"bench-native", "benchmark a snippet with the local python3 and stream the results", runBenchNative},
}

// run dispatches a subcommand; main and the end-to-end tests both call it.
// Without a command (or with only flags) it serves.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	name := commands[0].name
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if name == "help" || name == "-h" || name == "--help" {
		printUsage(stdout)
		return nil
	}
	for _, c := range commands {
		if c.name == name {
			return c.run(ctx, args, stdout, stderr)
		}
	}
	printUsage(stderr)
	return fmt.Errorf("unknown command %q", name)
}

// printUsage lists the commands table (a function, not a constant beside
// it, so that the list cannot go stale).
func printUsage(w io.Writer) {
	fmt.Fprint(w, "usage: pyplay <command> [flags]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-12s  %s\n", c.name, c.help)
	}
	fmt.Fprint(w, "\nRun 'pyplay <command> -h' for a command's flags.\n")
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
