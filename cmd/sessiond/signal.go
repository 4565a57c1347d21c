package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// exitInterrupted is the exit status after a second signal: 128 + SIGINT.
const exitInterrupted = 130

// signalReceived is the cause of the commands' context ending on a
// signal.
type signalReceived struct{ sig os.Signal }

func (s signalReceived) Error() string { return "received " + signalName(s.sig) }

// signalName is the signal's conventional name ("SIGTERM").
func signalName(sig os.Signal) string {
	switch sig {
	case syscall.SIGTERM:
		return "SIGTERM"
	case os.Interrupt:
		return "SIGINT"
	}
	return sig.String()
}

// onSignals cancels the commands' context on the first SIGINT or SIGTERM,
// with the signal as the cause, which starts a graceful drain, and exits
// at once on the second.
func onSignals(cancel context.CancelCauseFunc) {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	cancel(signalReceived{<-sig})
	<-sig
	fmt.Fprintln(os.Stderr, "sessiond: second signal, exiting without finishing the drain")
	os.Exit(exitInterrupted)
}

// logStopOn logs, once ctx ends, why the service stops and how long the
// drain may take: the signal received, or the context's cause. The
// returned func stops watching; if the line is being written, it waits
// for it (else a drain quicker than the goroutine lost the line: seen in
// CI).
func logStopOn(ctx context.Context, log *slog.Logger, drainTimeout time.Duration) (stop func()) {
	done := make(chan struct{})
	stopWatch := context.AfterFunc(ctx, func() {
		defer close(done)
		var s signalReceived
		if cause := context.Cause(ctx); errors.As(cause, &s) {
			log.Info("signal received, draining", "signal", signalName(s.sig), "drain_timeout", drainTimeout)
		} else {
			log.Info("stopping, draining", "why", cause.Error(), "drain_timeout", drainTimeout)
		}
	})
	return func() {
		if !stopWatch() {
			<-done
		}
	}
}
