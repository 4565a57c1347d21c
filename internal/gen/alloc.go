package gen

import "github.com/sessiond/sessiond/reducer"

// Events, actions and event ids are carved out of blocks, to spend a few
// allocations per hundred events instead of several per event: the
// generator's cost is mostly allocation. An event kept alive keeps its
// block alive (a few kilobytes), which streaming callers never notice.
const (
	eventBlock = 128
	idBlock    = 256
	idLen      = len("evt_") + 16
)

// allocator hands out the blocks' elements.
type allocator struct {
	events  []reducer.Event
	actions []reducer.Action
	ids     string // event ids idBase, idBase+1, …
	idBase  uint64
}

func (a *allocator) event() *reducer.Event {
	if len(a.events) == 0 {
		a.events = make([]reducer.Event, eventBlock)
	}
	ev := &a.events[0]
	a.events = a.events[1:]
	return ev
}

func (a *allocator) action() *reducer.Action {
	if len(a.actions) == 0 {
		a.actions = make([]reducer.Action, eventBlock)
	}
	act := &a.actions[0]
	a.actions = a.actions[1:]
	return act
}

// eventID returns the id of the seq-th fresh event: "evt_" and 16 hex
// digits of mix64(seq^key). mix64 is a bijection, so distinct seqs give
// distinct ids. seqs are asked for in increasing order.
func (a *allocator) eventID(key, seq uint64) string {
	if a.ids == "" || seq-a.idBase >= idBlock {
		buf := make([]byte, 0, idBlock*idLen)
		for i := uint64(0); i < idBlock; i++ {
			buf = appendHex(append(buf, "evt_"...), mix64((seq+i)^key))
		}
		a.ids, a.idBase = string(buf), seq
	}
	off := int(seq-a.idBase) * idLen
	return a.ids[off : off+idLen]
}
