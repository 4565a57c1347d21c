package gen

import (
	"math/rand/v2"

	"github.com/sessiond/sessiond/reducer"
)

// The kind mix of fresh events.
const (
	shareCart     = 0.30
	shareCustomer = 0.15
)

// Generator produces the stream. It is not safe for concurrent use.
type Generator struct {
	rng      *rand.Rand // the story: kinds, visitors, their choices, time
	fault    *rand.Rand // the injected faults, apart so they do not change the story
	cfg      Config
	ids      visitorIDs
	visitors []visitor
	idKey    uint64 // scrambles event ids per seed
	hashKey  uint64 // seeds per-visitor attributes

	startMs int64
	meanMs  float64
	clock   float64 // ms of event time since Start
	seq     uint64  // fresh events generated so far

	stats Stats

	resets []int32     // visitors with an order whose cart reset is still to be sent, FIFO
	dups   []duplicate // actions to re-send
	alloc  allocator
}

// duplicate is an action to deliver again once seq reaches due.
type duplicate struct {
	due uint64
	ev  *reducer.Event
}

// New returns a generator of the stream cfg describes; zero fields take
// their defaults.
func New(cfg Config) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	g := &Generator{
		rng:      rand.New(rand.NewPCG(cfg.Seed, 0x5e55_10d5_5e55_10d5)),
		fault:    rand.New(rand.NewPCG(cfg.Seed, 0xfa17_fa17_fa17_fa17)),
		cfg:      cfg,
		ids:      newVisitorIDs(cfg.Visitors),
		visitors: make([]visitor, cfg.Visitors),
		idKey:    mix64(cfg.Seed ^ 0x1d1d_1d1d_1d1d_1d1d),
		hashKey:  mix64(cfg.Seed ^ 0xa77_a77_a77_a77),
		startMs:  cfg.Start.UnixMilli(),
		meanMs:   float64(cfg.MeanGap) / 1e6,
	}
	for i := range g.visitors {
		g.visitors[i].lastProduct = -1
		g.visitors[i].lastCategory = -1
	}
	return g, nil
}

// Stats counts what a Generator has returned so far. Every fresh action
// gives exactly one session update; duplicates give none: the number of
// updates to expect from the events returned is Kinds[reducer.KindAction].
type Stats struct {
	Events     uint64    // events returned, duplicates included
	Kinds      [3]uint64 // fresh (not duplicate) events by reducer.Kind
	Orders     uint64    // add_order actions
	Duplicates uint64    // actions delivered a second time (DuplicateRate)
	Late       uint64    // cart and customer events dated back (LateRate)
}

// Stats returns the counts of the events returned so far.
func (g *Generator) Stats() Stats { return g.stats }

// Config returns the configuration in use, defaults applied.
func (g *Generator) Config() Config { return g.cfg }

// Next returns the next event of the stream.
func (g *Generator) Next() *reducer.Event {
	g.stats.Events++
	if ev := g.dueDuplicate(); ev != nil {
		g.stats.Duplicates++
		return ev
	}
	ev := g.fresh()
	g.stats.Kinds[ev.Kind]++
	g.seq++
	g.clock += g.rng.ExpFloat64() * g.meanMs
	g.injectFaults(ev)
	return ev
}

// Take returns the next n events.
func (g *Generator) Take(n int) []*reducer.Event {
	evs := make([]*reducer.Event, n)
	for i := range evs {
		evs[i] = g.Next()
	}
	return evs
}

// now is the current event time in ms since the epoch.
func (g *Generator) now() int64 { return g.startMs + int64(g.clock) }

// newEvent starts a fresh event of visitor vi.
func (g *Generator) newEvent(kind reducer.Kind, vi int) *reducer.Event {
	ev := g.alloc.event()
	*ev = reducer.Event{
		Kind:       kind,
		VisitorID:  g.ids.id(vi),
		EventID:    g.alloc.eventID(g.idKey, g.seq),
		OccurredAt: g.now(),
	}
	return ev
}

// fresh draws the kind of the next event, then a visitor, and lets the
// visitor's state machine say what it does. A cart reset owed after an
// order takes the next cart slot, so the mix stays as drawn.
func (g *Generator) fresh() *reducer.Event {
	r := g.rng.Float64()
	if r < shareCart {
		if vi, ok := g.popReset(); ok {
			return g.cartReset(vi)
		}
	}
	vi := g.rng.IntN(len(g.visitors))
	v := &g.visitors[vi]
	switch {
	case v.pendingReset:
		// The order's reset comes before anything else this visitor does.
		return g.cartReset(vi)
	case r < shareCart:
		return g.cartEvent(vi)
	case r < shareCart+shareCustomer:
		return g.customerEvent(vi)
	}
	return g.actionEvent(vi)
}

// popReset returns the oldest visitor still owed a cart reset.
func (g *Generator) popReset() (int, bool) {
	for len(g.resets) > 0 {
		vi := int(g.resets[0])
		g.resets = g.resets[1:]
		if g.visitors[vi].pendingReset {
			return vi, true
		}
	}
	return 0, false
}

// injectFaults schedules a duplicate of an action or makes a cart or
// customer event late, as Config asks.
func (g *Generator) injectFaults(ev *reducer.Event) {
	switch ev.Kind {
	case reducer.KindAction:
		if g.cfg.DuplicateRate > 0 && g.fault.Float64() < g.cfg.DuplicateRate {
			g.dups = append(g.dups, duplicate{due: g.seq + 1 + g.fault.Uint64N(20), ev: ev})
		}
	default:
		if g.cfg.LateRate > 0 && g.fault.Float64() < g.cfg.LateRate {
			if at := max(g.startMs, ev.OccurredAt-1000-g.fault.Int64N(4001)); at < ev.OccurredAt {
				ev.OccurredAt = at
				g.stats.Late++
			}
		}
	}
}

// dueDuplicate returns a copy of the earliest-due scheduled duplicate whose
// time has come, if any.
func (g *Generator) dueDuplicate() *reducer.Event {
	best := -1
	for i, d := range g.dups {
		if d.due <= g.seq && (best < 0 || d.due < g.dups[best].due) {
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	ev := g.alloc.event()
	*ev = *g.dups[best].ev
	g.dups = append(g.dups[:best], g.dups[best+1:]...)
	return ev
}
