package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"time"
)

// restoredLine is sessiond's "restored" log record of one partition.
type restoredLine struct {
	Time      time.Time `json:"time"`
	Partition int       `json:"partition"`
	Records   int64     `json:"records"`
	Snapshots int64     `json:"snapshots"`
	Corrupt   int64     `json:"corrupt"`
	Seconds   float64   `json:"seconds"`
}

// logSink receives a sessiond's JSON log (its stderr): it keeps the last
// lines for error messages, counts warnings and errors, and collects the
// "restored" records. It is safe for concurrent use.
type logSink struct {
	mu       sync.Mutex
	partial  []byte
	tail     []string
	warnings int
	errors   int
	firstBad []string
	restored []restoredLine
}

const tailLines = 40

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.partial = append(s.partial, p...)
	for {
		i := bytes.IndexByte(s.partial, '\n')
		if i < 0 {
			break
		}
		s.line(string(s.partial[:i]))
		s.partial = s.partial[i+1:]
	}
	return len(p), nil
}

func (s *logSink) line(l string) {
	s.tail = append(s.tail, l)
	if len(s.tail) > tailLines {
		s.tail = s.tail[1:]
	}
	var rec struct {
		Level string `json:"level"`
		Msg   string `json:"msg"`
	}
	if json.Unmarshal([]byte(l), &rec) != nil {
		return
	}
	switch rec.Level {
	case "WARN":
		s.warnings++
		s.keepBad(l)
	case "ERROR":
		s.errors++
		s.keepBad(l)
	}
	if rec.Msg == "restored" {
		var r restoredLine
		if json.Unmarshal([]byte(l), &r) == nil {
			s.restored = append(s.restored, r)
		}
	}
}

func (s *logSink) keepBad(l string) {
	if len(s.firstBad) < 5 {
		s.firstBad = append(s.firstBad, l)
	}
}

// Tail returns the last lines logged.
func (s *logSink) Tail() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.tail, "\n")
}

// Restored returns the "restored" records so far.
func (s *logSink) Restored() []restoredLine {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]restoredLine(nil), s.restored...)
}

// Problems returns the number of warnings and errors and the first few.
func (s *logSink) Problems() (warnings, errors int, first []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.warnings, s.errors, append([]string(nil), s.firstBad...)
}
