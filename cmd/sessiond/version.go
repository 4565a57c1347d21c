package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/sessiond/sessiond/internal/buildinfo"
)

func init() {
	register("version", command{summary: "print the version, commit and Go version as JSON", run: runVersion})
}

func runVersion(_ context.Context, args []string, io stdio) error {
	fs := newFlagSet("version", io)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	b, err := json.Marshal(buildinfo.Get())
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(io.out, "%s\n", b)
	return err
}
