package main

import (
	"encoding/json"
	"slices"
	"syscall"
	"testing"
	"time"
)

// On SIGTERM, run logs the signal, then, at the end of the drain, what it
// flushed and committed and how long it took. With a long commit interval
// the last batch's snapshot and offsets are written only by the drain.
func TestPipelineSignalAndDrainLogged(t *testing.T) {
	e := newEnv(t, 3)
	e.produce(t, designExample)
	end, logs := e.startEndable(t, "--log-level", "info", "--commit-interval", "1h")
	e.updates(t, 1, time.Minute)
	end(signalReceived{syscall.SIGTERM})

	var sig struct {
		Signal       string
		DrainTimeout string `json:"drain_timeout"`
	}
	if err := json.Unmarshal([]byte(logLine(t, logs.String(), "signal received, draining")), &sig); err != nil {
		t.Fatal(err)
	}
	if sig.Signal != "SIGTERM" || sig.DrainTimeout != "15s" {
		t.Errorf("signal line: %+v, want SIGTERM and drain_timeout 15s", sig)
	}
	line := logLine(t, logs.String(), "drained")
	t.Log(line)
	var d struct {
		Partitions       []int
		Events, Updates  *int64
		SnapshotsWritten int64 `json:"snapshots_written"`
		OffsetsCommitted int64 `json:"offsets_committed"`
		Took             string
	}
	if err := json.Unmarshal([]byte(line), &d); err != nil {
		t.Fatal(err)
	}
	took, err := time.ParseDuration(d.Took)
	switch {
	case !slices.Equal(d.Partitions, []int{0, 1, 2}):
		t.Errorf("drained line %s: want partitions [0,1,2]", line)
	case d.Events == nil || d.Updates == nil:
		t.Errorf("drained line %s: want events and updates flushed during the drain", line)
	case d.SnapshotsWritten != 1:
		t.Errorf("drained line %s: want v1's snapshot written by the drain", line)
	case d.OffsetsCommitted != 3:
		t.Errorf("drained line %s: want the offsets of v1's partition of the three inputs committed", line)
	case err != nil || took <= 0 || took > time.Minute:
		t.Errorf("drained line %s: took %q is not a duration of the drain", line, d.Took)
	}
}
