package consumer

import (
	"encoding/json"
	"sort"

	"github.com/segmentio/kafka-go"
)

// CoPartitionBalancer is a kafka-go GroupBalancer that gives partition N of
// every subscribed topic to the same member, so that one task sees a
// visitor's carts, customers and actions together. It is sticky: each
// member advertises the partition numbers it owns in its join metadata, and
// an assignment keeps them where it can while evening out the counts.
type CoPartitionBalancer struct {
	// Owned returns the partition numbers this member currently owns; it is
	// called when the member joins. Nil means none.
	Owned func() []int
}

// ProtocolName names the assignment strategy in the group protocol.
func (b *CoPartitionBalancer) ProtocolName() string { return "sessiond-copartition" }

// ownedData is the member's join metadata.
type ownedData struct {
	Owned []int `json:"owned"`
}

// UserData encodes the partitions this member owns.
func (b *CoPartitionBalancer) UserData() ([]byte, error) {
	var owned []int
	if b.Owned != nil {
		owned = b.Owned()
	}
	return json.Marshal(ownedData{Owned: owned})
}

// AssignGroups assigns partition numbers to members: every member gets
// ⌊P/M⌋ or ⌈P/M⌉ of them, previous owners keep theirs first, and every
// topic's partition N goes to the member owning N.
func (b *CoPartitionBalancer) AssignGroups(members []kafka.GroupMember, partitions []kafka.Partition) kafka.GroupMemberAssignments {
	ids := make([]string, len(members))
	topics := map[string]bool{}
	numbers := map[int]bool{}
	prev := map[string][]int{}
	for i, m := range members {
		ids[i] = m.ID
		var d ownedData
		if json.Unmarshal(m.UserData, &d) == nil {
			prev[m.ID] = d.Owned
		}
	}
	for _, p := range partitions {
		topics[p.Topic] = true
		numbers[p.ID] = true
	}
	owner := assignNumbers(ids, sortedKeys(numbers), prev)
	out := kafka.GroupMemberAssignments{}
	for _, id := range ids {
		out[id] = map[string][]int{}
	}
	for _, p := range partitions {
		id, ok := owner[p.ID]
		if !ok {
			continue
		}
		out[id][p.Topic] = append(out[id][p.Topic], p.ID)
	}
	for _, byTopic := range out {
		for _, ps := range byTopic {
			sort.Ints(ps)
		}
	}
	return out
}

// assignNumbers maps each partition number to a member id. Every member
// gets ⌊P/M⌋ or ⌈P/M⌉ numbers; members keep what they owned first, the
// extra slots go to members that owned more, and only what is left over is
// handed out afresh, in order.
func assignNumbers(ids []string, numbers []int, prev map[string][]int) map[int]string {
	sort.Strings(ids)
	owner := make(map[int]string, len(numbers))
	if len(ids) == 0 {
		return owner
	}
	floor, extra := len(numbers)/len(ids), len(numbers)%len(ids)
	kept := keptNumbers(ids, numbers, prev)
	quota := make(map[string]int, len(ids))
	for _, id := range ids {
		quota[id] = floor
	}
	// Extra slots: first to members that held more than the floor.
	for _, id := range ids {
		if extra > 0 && len(kept[id]) > floor {
			quota[id]++
			extra--
		}
	}
	for _, id := range ids {
		if extra > 0 && quota[id] == floor {
			quota[id]++
			extra--
		}
	}
	count := make(map[string]int, len(ids))
	for _, id := range ids {
		for _, n := range kept[id] {
			if count[id] < quota[id] {
				owner[n] = id
				count[id]++
			}
		}
	}
	for _, n := range numbers {
		if owner[n] != "" {
			continue
		}
		for _, id := range ids {
			if count[id] < quota[id] {
				owner[n] = id
				count[id]++
				break
			}
		}
	}
	return owner
}

// keptNumbers returns, per member, the sorted numbers it previously owned
// that still exist and that no member earlier in order claimed.
func keptNumbers(ids []string, numbers []int, prev map[string][]int) map[string][]int {
	valid := make(map[int]bool, len(numbers))
	for _, n := range numbers {
		valid[n] = true
	}
	claimed := map[int]bool{}
	kept := make(map[string][]int, len(ids))
	for _, id := range ids {
		owned := append([]int(nil), prev[id]...)
		sort.Ints(owned)
		for _, n := range owned {
			if valid[n] && !claimed[n] {
				claimed[n] = true
				kept[id] = append(kept[id], n)
			}
		}
	}
	return kept
}

func sortedKeys(m map[int]bool) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}
