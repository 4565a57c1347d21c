package main

import (
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

// newFlagSet returns a flag set for a subcommand that reports errors
// instead of exiting.
func newFlagSet(name string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("sessiond "+name, flag.ContinueOnError)
	fs.SetOutput(out)
	return fs
}

// parseFlags parses args, then fills every flag not given on the command
// line from its SESSIOND_* variable. The command line wins over the
// environment, the environment over the default.
func parseFlags(fs *flag.FlagSet, args []string) error {
	return parseFlagsEnv(fs, args, os.LookupEnv)
}

func parseFlagsEnv(fs *flag.FlagSet, args []string, lookup func(string) (string, bool)) error {
	if err := fs.Parse(args); err != nil {
		return exitError(2)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		if v, ok := lookup(envName(f.Name)); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s: %w", envName(f.Name), e)
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
