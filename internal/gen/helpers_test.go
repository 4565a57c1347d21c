package gen

import (
	"testing"

	"github.com/sessiond/sessiond/reducer"
)

func newGen(t testing.TB, cfg Config) *Generator {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// testConfigs are the clean configurations every invariant test runs over.
var testConfigs = []struct {
	name string
	cfg  Config
}{
	{"default", Config{}},
	{"seed 42", Config{Seed: 42}},
	{"one visitor", Config{Seed: 7, Visitors: 1}},
	{"25 visitors, no logins", Config{Seed: 3, Visitors: 25, LoginRate: -1}},
	{"everyone logs in, 1ms gaps", Config{Seed: 9, LoginRate: 1, MeanGap: 1000}},
}

// kindCounts counts events by kind.
func kindCounts(evs []*reducer.Event) (n [3]uint64) {
	for _, ev := range evs {
		n[ev.Kind]++
	}
	return n
}
