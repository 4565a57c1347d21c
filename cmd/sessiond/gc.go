package main

import "runtime/debug"

// defaultGCPercent is the garbage collector's target (GOGC) sessiond runs
// with when the GOGC environment variable is not set: the heap may grow to
// three times what is live between collections instead of Go's default
// two. Decoding input with goavro allocates a few kilobytes per event, so
// at full speed a third of the CPU went to collecting it; with 200 the
// pipeline processed 10-35% more events per second on the project's
// machine, for about 50% more resident memory (BENCHMARKS.md). GOGC=100
// restores Go's default; GOMEMLIMIT caps the heap either way.
const defaultGCPercent = 200

// applyGCDefault sets defaultGCPercent unless getenv("GOGC") is set, in
// which case the runtime has already applied it. It returns the GC
// percent now in effect.
func applyGCDefault(getenv func(string) string) int {
	if getenv("GOGC") != "" {
		cur := debug.SetGCPercent(100)
		debug.SetGCPercent(cur)
		return cur
	}
	debug.SetGCPercent(defaultGCPercent)
	return defaultGCPercent
}
