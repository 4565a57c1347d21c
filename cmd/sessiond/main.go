// Command sessiond reduces e-commerce events per visitor into session
// snapshots and emits a Nosto session update for every action event.
//
// Usage:
//
//	sessiond <command> [flags]
//
// Commands: run, demo, reduce, replay, produce, tail, snapshot, version.
// `sessiond <command> -h` lists each command's flags; every flag can also
// be set through its SESSIOND_* environment variable.
//
// Exit status: 0 done; 1 a failure the command line cannot fix (a broker
// or sink that stays down, a write refused for good); 2 a refused
// invocation, naming the flag to change; 130 a second signal during the
// drain.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
)

// exitError carries a process exit status without printing anything more.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// usageError is a refused invocation (a bad flag value, a missing or
// contradictory argument): Main prints it and exits 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// stdio is the process's standard streams, passed explicitly so that
// commands can be run from tests.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// command is one subcommand: it runs until done or ctx ends.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, io stdio) error
}

var commands = map[string]command{}

func register(name string, c command) { commands[name] = c }

func main() {
	applyGCDefault(os.Getenv)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	go onSignals(cancel)
	os.Exit(Main(ctx, os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr}))
}

// Main runs the command named by args[0] and returns the exit status.
func Main(ctx context.Context, args []string, io stdio) int {
	if len(args) == 0 {
		usage(io.err)
		return 2
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(io.out)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(io.err, "sessiond: unknown command %q\n", args[0])
		usage(io.err)
		return 2
	}
	err := c.run(ctx, args[1:], io)
	var code exitError
	var usage usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &code):
		return int(code)
	case errors.As(err, &usage):
		fmt.Fprintf(io.err, "sessiond %s: %v\n", args[0], err)
		return 2
	default:
		fmt.Fprintf(io.err, "sessiond %s: %v\n", args[0], err)
		return 1
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: sessiond <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
}
