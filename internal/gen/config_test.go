package gen

import (
	"math"
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	if err := (Config{}).Validate(); err != nil {
		t.Fatalf("zero config: %v", err)
	}
	c := Config{}.WithDefaults()
	want := Config{Visitors: 1000, Start: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC),
		MeanGap: 50 * time.Millisecond, LoginRate: 0.4}
	if c != want {
		t.Fatalf("defaults = %+v, want %+v", c, want)
	}
	g := newGen(t, Config{})
	if g.Config() != want {
		t.Fatalf("Config() = %+v", g.Config())
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	for _, c := range []Config{
		{Visitors: -1},
		{Visitors: MaxVisitors + 1},
		{MeanGap: -time.Millisecond},
		{LoginRate: 1.5},
		{LoginRate: math.NaN()},
		{DuplicateRate: -0.1},
		{DuplicateRate: 2},
		{LateRate: math.NaN()},
		{Start: time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v): no error", c)
		}
	}
	for _, c := range []Config{
		{Visitors: 1}, {LoginRate: -1}, {LoginRate: 1}, {DuplicateRate: 1, LateRate: 1}, {MeanGap: time.Nanosecond},
	} {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
}
