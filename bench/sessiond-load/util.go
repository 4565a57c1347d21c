package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// permanentError stops waitFor at once.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return permanentError{err} }

// round rounds x to n decimals.
func round(x float64, n int) float64 {
	p := math.Pow(10, float64(n))
	return math.Round(x*p) / p
}

// peakRSSMB returns the peak resident set (VmHWM) of process pid, or of
// this process for -1, in MB; 0 when unknown.
func peakRSSMB(pid int) float64 { return procStatusMB(pid, "VmHWM:") }

// procStatusMB reads a kB field of /proc/<pid>/status (pid -1: this
// process) in MB; 0 when unknown.
func procStatusMB(pid int, field string) float64 {
	path := fmt.Sprintf("/proc/%d/status", pid)
	if pid < 0 {
		path = "/proc/self/status"
	}
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
