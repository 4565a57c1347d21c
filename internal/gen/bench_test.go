package gen

import "testing"

func BenchmarkNext(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  Config
	}{
		{"1k visitors", Config{Seed: 1}},
		{"1M visitors", Config{Seed: 1, Visitors: 1000000}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			g := newGen(b, bc.cfg)
			b.ReportAllocs()
			for b.Loop() {
				g.Next()
			}
		})
	}
}
