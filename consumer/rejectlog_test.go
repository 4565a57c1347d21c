package consumer

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"
)

// A burst of rejected records is one info line per rejectLogEvery, not
// one per record.
func TestLogRejectedRateLimited(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	tk := newTask(taskDeps{log: slog.New(slog.NewJSONHandler(&logs, nil))})
	for i := range 500 {
		tk.logRejected(record{msg: kafka.Message{Topic: "actions", Offset: int64(i)}}, errors.New("not Avro"))
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d lines for a burst of 500 rejections, want 1:\n%s", len(lines), logs.String())
	}
	var line struct {
		Msg    string  `json:"msg"`
		Offset float64 `json:"offset"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil || line.Msg != "dead-lettered" || line.Offset != 0 {
		t.Fatalf("line %s (%v): want the first record's dead-lettered line", lines[0], err)
	}
}
