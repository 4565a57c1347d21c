package main

import (
	"runtime/debug"
	"testing"
)

func TestApplyGCDefault(t *testing.T) {
	prev := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(prev) })
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "GOGC" {
				return v
			}
			return ""
		}
	}
	if got := applyGCDefault(env("")); got != defaultGCPercent || debug.SetGCPercent(100) != defaultGCPercent {
		t.Errorf("without GOGC: %d, want %d in effect", got, defaultGCPercent)
	}
	// With GOGC set the runtime has applied it at start; here 100 stands for it.
	if got := applyGCDefault(env("100")); got != 100 || debug.SetGCPercent(100) != 100 {
		t.Errorf("with GOGC=100: %d, want the runtime's 100 left alone", got)
	}
}
