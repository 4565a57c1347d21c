package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// envPrefix prefixes every flag's environment variable: --session-ttl is
// also SESSIOND_SESSION_TTL.
const envPrefix = "SESSIOND_"

// envName returns the environment variable that sets flag name.
func envName(name string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// newFlagSet returns a flag set for a subcommand: errors are reported,
// not exited on; -h prints the flags on stdout.
func newFlagSet(name string, std stdio) *flag.FlagSet {
	fs := flag.NewFlagSet("sessiond "+name, flag.ContinueOnError)
	fs.SetOutput(std.err)
	fs.Usage = func() {
		fmt.Fprintf(std.out, "usage: sessiond %s [flags]\n\nEvery flag is also an environment variable: %s + its name in upper case with _.\n\n", name, envPrefix)
		fs.SetOutput(std.out)
		fs.PrintDefaults()
		fs.SetOutput(std.err)
	}
	return fs
}

// parseFlags parses args, then fills every flag not given on the command
// line from its SESSIOND_* variable. The command line wins over the
// environment, the environment over the default. -h and --help print the
// flags on stdout (exit 0); a bad flag or value, or a stray argument, is a
// usage error (exit 2).
func parseFlags(fs *flag.FlagSet, args []string) error {
	return parseFlagsEnv(fs, args, os.LookupEnv)
}

func parseFlagsEnv(fs *flag.FlagSet, args []string, lookup func(string) (string, bool)) error {
	usage, out := fs.Usage, fs.Output()
	fs.Usage = func() {} // the error itself is reported below, once
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.Usage = usage
	fs.SetOutput(out)
	switch {
	case errors.Is(err, flag.ErrHelp):
		usage()
		return exitError(0)
	case err != nil:
		return usagef("%v (see -h)", err)
	case fs.NArg() > 0:
		return usagef("unexpected argument %q: the command reads no files or words besides its flags", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		if v, ok := lookup(envName(f.Name)); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = usagef("%s: %v", envName(f.Name), e)
			}
		}
	})
	return err
}

// isolationLevel binds --isolation-level to consumer.Config.ReadUncommitted.
type isolationLevel bool

func (l *isolationLevel) String() string {
	if l != nil && bool(*l) {
		return "read_uncommitted"
	}
	return "read_committed"
}

func (l *isolationLevel) Set(v string) error {
	switch v {
	case "read_committed":
		*l = false
	case "read_uncommitted":
		*l = true
	default:
		return fmt.Errorf("%q is not read_committed or read_uncommitted", v)
	}
	return nil
}
