package schemas

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/sessiond/sessiond/reducer"
)

// Encoding reuses pooled maps: every encoding must equal a first one made
// in any order, so no value leaks from one call into the next.
func TestEncodeLeavesNoState(t *testing.T) {
	t.Parallel()
	c := loadCodecs(t)
	evs := exampleEvents()
	first := make([][]byte, len(evs))
	for i, ev := range evs {
		first[i], _ = c.EncodeEvent(nil, ev)
	}
	for round := 0; round < 3; round++ {
		for j := range evs {
			i := (j*7 + round) % len(evs)
			got, err := c.EncodeEvent(nil, evs[i])
			if err != nil || !bytes.Equal(got, first[i]) {
				t.Fatalf("round %d, %s: encoding changed: %v", round, evs[i].EventID, err)
			}
		}
	}
}

func TestEncodeLargeValues(t *testing.T) {
	t.Parallel()
	c := loadCodecs(t)
	items := make([]reducer.Item, 3000)
	terms := make([]string, 2000)
	for i := range items {
		items[i] = shirt
		items[i].ProductID = fmt.Sprint("p", i)
	}
	for i := range terms {
		terms[i] = fmt.Sprint("term ", i)
	}
	for _, ev := range []*reducer.Event{
		cartEvent("big", &reducer.Cart{Items: items}),
		actionEvent("big", &reducer.Action{Type: reducer.ActionViewSearch, SearchTerms: terms, Placements: terms[:70],
			Order: &reducer.Order{OrderNumber: "o", Items: items[:100]}}),
	} {
		data, err := c.EncodeEvent(nil, ev)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.DecodeEvent(ev.Kind, data)
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "large event", got, ev)
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	c := loadCodecs(t)
	evs := exampleEvents()
	want := make([][]byte, len(evs))
	for i, ev := range evs {
		want[i], _ = c.EncodeEvent(nil, ev)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Go(func() {
			var buf []byte
			for n := 0; n < 200; n++ {
				i := (n + g) % len(evs)
				var err error
				if buf, err = c.EncodeEvent(buf[:0], evs[i]); err != nil || !bytes.Equal(buf, want[i]) {
					t.Errorf("%s: concurrent encoding differs: %v", evs[i].EventID, err)
					return
				}
				if _, err := c.DecodeEvent(evs[i].Kind, buf); err != nil {
					t.Errorf("%s: %v", evs[i].EventID, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
