package main

import (
	"bufio"
	"context"
	"fmt"

	"github.com/sessiond/sessiond/reducer"
	"github.com/sessiond/sessiond/schemas/eventjson"
)

func init() {
	register("reduce", command{
		summary: "reduce JSON-line events on stdin to session updates on stdout (docs/design.md §4)",
		run:     runReduce,
	})
}

// runReduce is `sessiond reduce`: the events on stdin, in file order,
// through one reducer; one update line on stdout per accepted action. Each
// rejected line is reported on stderr as {"line":N,"error":"..."} and
// skipped; the exit status is then 1. Memory is the snapshots plus one
// line.
func runReduce(ctx context.Context, args []string, io stdio) error {
	fs := newFlagSet("reduce", io)
	ttl := fs.Duration("session-ttl", reducer.DefaultSessionTTL, "event-time inactivity after which a visitor's snapshot expires")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *ttl <= 0 {
		return usagef("--session-ttl must be positive")
	}
	r, err := reducer.New(reducer.Config{SessionTTL: *ttl})
	if err != nil {
		return err
	}
	rd := &reduction{r: r, out: bufio.NewWriterSize(io.out, 64<<10), errs: bufio.NewWriter(io.err)}
	return rd.run(ctx, io)
}

// reduction is one run of reduce.
type reduction struct {
	r        *reducer.Reducer
	out      *bufio.Writer // updates
	errs     *bufio.Writer // rejected lines
	rejected int
}

func (rd *reduction) run(ctx context.Context, io stdio) error {
	err := eachLine(io.in, func(n int, line []byte, lerr error) error {
		if n%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if lerr == nil {
			lerr = rd.line(line)
		}
		if lerr != nil {
			rd.rejected++
			writeLineError(rd.errs, n, lerr)
		}
		return rd.writeErr()
	})
	if e := rd.errs.Flush(); err == nil && e != nil {
		err = fmt.Errorf("write stderr: %w", e)
	}
	if e := rd.out.Flush(); err == nil && e != nil {
		err = fmt.Errorf("write stdout: %w", e)
	}
	if err == nil && rd.rejected > 0 {
		return exitError(1)
	}
	return err
}

// line decodes and applies one event and buffers its update, if any. The
// error is the event's rejection.
func (rd *reduction) line(line []byte) error {
	ev, err := eventjson.DecodeEvent(line)
	if err != nil {
		return err
	}
	res, err := rd.r.Apply(ev)
	if err != nil || res.Update == nil {
		return err
	}
	b := eventjson.AppendUpdate(rd.out.AvailableBuffer(), res.Update)
	rd.out.Write(append(b, '\n')) // a failure sticks: see writeErr
	return nil
}

// writeErr reports a failed write to stdout or stderr, which ends the run
// (a bufio.Writer keeps its first error; writing an empty slice reads it).
func (rd *reduction) writeErr() error {
	if _, err := rd.out.Write(nil); err != nil {
		return fmt.Errorf("write stdout: %w", err)
	}
	if _, err := rd.errs.Write(nil); err != nil {
		return fmt.Errorf("write stderr: %w", err)
	}
	return nil
}
