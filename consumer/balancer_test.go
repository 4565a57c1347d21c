package consumer

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/segmentio/kafka-go"
)

var balancerTopics = []string{"cart-changed", "customer-changed", "actions"}

// topicPartitions lists partitions 0..n-1 of every topic.
func topicPartitions(topics []string, n int) []kafka.Partition {
	var ps []kafka.Partition
	for _, topic := range topics {
		for id := range n {
			ps = append(ps, kafka.Partition{Topic: topic, ID: id})
		}
	}
	return ps
}

// memberIDs returns n ids that sort in the order given.
func memberIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("m%d", i+1)
	}
	return ids
}

// joining builds a member whose join metadata the balancer itself encoded
// from the partition numbers it owns.
func joining(t testing.TB, id string, owned []int) kafka.GroupMember {
	t.Helper()
	b := &CoPartitionBalancer{}
	if owned != nil {
		b.Owned = func() []int { return owned }
	}
	data, err := b.UserData()
	if err != nil {
		t.Fatalf("UserData: %v", err)
	}
	return kafka.GroupMember{ID: id, Topics: balancerTopics, UserData: data}
}

// assign runs the balancer for members owning what prev says (nil: a fresh
// member) over n partitions per topic.
func assign(t testing.TB, ids []string, prev map[string][]int, n int) kafka.GroupMemberAssignments {
	t.Helper()
	members := make([]kafka.GroupMember, len(ids))
	for i, id := range ids {
		members[i] = joining(t, id, prev[id])
	}
	return (&CoPartitionBalancer{}).AssignGroups(members, topicPartitions(balancerTopics, n))
}

// checkAssignment asserts the balancer's invariants for ids over n
// partitions per topic, and returns each member's partition numbers.
func checkAssignment(t testing.TB, a kafka.GroupMemberAssignments, ids []string, n int) map[string][]int {
	t.Helper()
	for id := range a {
		if !slices.Contains(ids, id) {
			t.Fatalf("assignment to unknown member %q", id)
		}
	}
	numbers := map[string][]int{}
	for _, id := range ids {
		ref := a[id][balancerTopics[0]]
		for _, topic := range balancerTopics[1:] {
			if got := a[id][topic]; !slices.Equal(got, ref) {
				t.Fatalf("member %s: %s %v but %s %v: not co-partitioned", id, balancerTopics[0], ref, topic, got)
			}
		}
		numbers[id] = ref
	}
	for _, topic := range balancerTopics {
		seen := make([]int, n)
		for _, id := range ids {
			for _, p := range a[id][topic] {
				if p < 0 || p >= n {
					t.Fatalf("%s: partition %d out of range", topic, p)
				}
				seen[p]++
			}
		}
		for p, c := range seen {
			if c != 1 {
				t.Fatalf("%s[%d] assigned %d times, want once: %v", topic, p, c, a)
			}
		}
	}
	if len(ids) > 0 {
		floor := n / len(ids)
		for id, ns := range numbers {
			if len(ns) != floor && len(ns) != floor+1 {
				t.Fatalf("member %s has %d partitions; with %d over %d members each has %d or %d: %v",
					id, len(ns), n, len(ids), floor, floor+1, numbers)
			}
		}
	}
	return numbers
}

func TestCoPartitionBalancerAssignsEvenly(t *testing.T) {
	for _, m := range []int{1, 2, 3, 5} {
		for _, n := range []int{1, 4, 6, 12} {
			t.Run(fmt.Sprintf("%d members, %d partitions", m, n), func(t *testing.T) {
				ids := memberIDs(m)
				checkAssignment(t, assign(t, ids, nil, n), ids, n)
			})
		}
	}
}

func TestCoPartitionBalancerIsDeterministic(t *testing.T) {
	ids := []string{"m3", "m1", "m5", "m2", "m4"}
	prev := map[string][]int{"m1": {0, 7}, "m3": {3, 4, 5}, "m4": {11}}
	want := assign(t, ids, prev, 12)
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		members := make([]kafka.GroupMember, len(ids))
		for i, id := range ids {
			members[i] = joining(t, id, prev[id])
		}
		parts := topicPartitions(balancerTopics, 12)
		r.Shuffle(len(members), func(i, j int) { members[i], members[j] = members[j], members[i] })
		r.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
		got := (&CoPartitionBalancer{}).AssignGroups(members, parts)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("same input in another order\n got %v\nwant %v", got, want)
		}
	}
}

// membershipChange is one member joining or leaving a group of m.
type membershipChange struct {
	name   string
	before []string
	after  []string
}

func membershipChanges(m int) []membershipChange {
	ids := memberIDs(m)
	changes := []membershipChange{
		{"join first", ids, append([]string{"m0"}, ids...)},
		{"join last", ids, append(slices.Clone(ids), "m9")},
	}
	if m >= 2 {
		changes = append(changes,
			membershipChange{"join middle", ids, append(slices.Clone(ids), "m1a")},
			membershipChange{"first leaves", ids, ids[1:]},
			membershipChange{"last leaves", ids, ids[:m-1]},
		)
	}
	if m >= 3 {
		changes = append(changes, membershipChange{"middle leaves", ids, slices.Delete(slices.Clone(ids), 1, 2)})
	}
	return changes
}

// Every member that stays keeps every partition it owned as long as it
// owned no more than ⌊P/M⌋ of the new group: nothing forces it to give one up.
func TestCoPartitionBalancerStickyWithinQuota(t *testing.T) {
	for _, m := range []int{1, 2, 3, 5} {
		for _, n := range []int{1, 4, 5, 6, 7, 12} {
			for _, c := range membershipChanges(m) {
				t.Run(fmt.Sprintf("%d members, %d partitions, %s", m, n, c.name), func(t *testing.T) {
					prev := checkAssignment(t, assign(t, c.before, nil, n), c.before, n)
					now := checkAssignment(t, assign(t, c.after, prev, n), c.after, n)
					floor := n / len(c.after)
					for _, id := range c.after {
						had := prev[id]
						if len(had) <= floor && !isSubset(had, now[id]) {
							t.Errorf("member %s owned %v (within quota %d) but now owns %v", id, had, floor, now[id])
						}
					}
				})
			}
		}
	}
}

// A change of membership moves no more partitions than balancing needs:
// of P partitions over M members, r = P mod M members get ⌊P/M⌋+1, so at
// most Σ min(had, ⌊P/M⌋) + min(r, #members that had more than ⌊P/M⌋)
// partitions can stay where they were. Each move costs a changelog restore
// and a restart of the partition's task.
func TestCoPartitionBalancerMovesMinimum(t *testing.T) {
	for _, m := range []int{1, 2, 3, 5} {
		for _, n := range []int{1, 4, 5, 6, 7, 12} {
			for _, c := range membershipChanges(m) {
				t.Run(fmt.Sprintf("%d members, %d partitions, %s", m, n, c.name), func(t *testing.T) {
					prev := checkAssignment(t, assign(t, c.before, nil, n), c.before, n)
					now := checkAssignment(t, assign(t, c.after, prev, n), c.after, n)
					if got, want := moved(prev, now), minMoves(prev, c.after, n); got != want {
						t.Errorf("moved %d partitions, %d would do\nbefore %v\n after %v", got, want, prev, now)
					}
				})
			}
		}
	}
}

// The same for random prior ownership: any owners, some leaving, some
// joining, any partition count.
func TestCoPartitionBalancerMovesMinimumRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 300 {
		n := 1 + r.IntN(16)
		before := memberIDs(1 + r.IntN(6))
		prev := map[string][]int{}
		for p := range n {
			id := before[r.IntN(len(before))]
			prev[id] = append(prev[id], p)
		}
		var after []string
		for _, id := range before {
			if r.IntN(4) > 0 {
				after = append(after, id)
			}
		}
		for j := range r.IntN(3) {
			after = append(after, fmt.Sprintf("n%d", j))
		}
		if len(after) == 0 {
			continue
		}
		now := checkAssignment(t, assign(t, after, prev, n), after, n)
		if got, want := moved(prev, now), minMoves(prev, after, n); got != want {
			t.Fatalf("case %d: moved %d partitions, %d would do\nbefore %v\n after %v", i, got, want, prev, now)
		}
	}
}

// The smallest case of the above, spelled out: m2 owned 0,1,2 and m3 owned
// 3,4. m1 joins; the quota is 2 or 1 each. Moving one of m2's partitions to
// m1 is enough, and m3, within quota, should keep both of its own.
func TestCoPartitionBalancerJoinKeepsWithinCeilingQuota(t *testing.T) {
	prev := map[string][]int{"m2": {0, 1, 2}, "m3": {3, 4}}
	ids := []string{"m1", "m2", "m3"}
	now := checkAssignment(t, assign(t, ids, prev, 5), ids, 5)
	if !isSubset(prev["m3"], now["m3"]) {
		t.Errorf("m3 owned %v and may own 2 of 5 partitions over 3 members, but now owns %v (all: %v)",
			prev["m3"], now["m3"], now)
	}
	if got := moved(prev, now); got != 1 {
		t.Errorf("moved %d partitions, want 1: %v", got, now)
	}
}

func TestCoPartitionBalancerUserData(t *testing.T) {
	valid, err := (&CoPartitionBalancer{Owned: func() []int { return []int{2} }}).UserData()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"not json", []byte("\x00\x01garbage")},
		{"json null", []byte("null")},
		{"wrong type", []byte(`{"owned":"0,1"}`)},
		{"out of range, negative, repeated", []byte(`{"owned":[99,-1,3,3]}`)},
		{"claims another member's partition", valid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			members := []kafka.GroupMember{
				joining(t, "m1", []int{2}),
				{ID: "m2", Topics: balancerTopics, UserData: tt.data},
				joining(t, "m3", nil),
			}
			a := (&CoPartitionBalancer{}).AssignGroups(members, topicPartitions(balancerTopics, 6))
			now := checkAssignment(t, a, []string{"m1", "m2", "m3"}, 6)
			if !slices.Contains(now["m1"], 2) {
				t.Errorf("m1 lost partition 2 it owned: %v", now)
			}
		})
	}
}

func TestCoPartitionBalancerUserDataRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		owned func() []int
		want  []int
	}{
		{"no Owned func", nil, nil},
		{"owns nothing", func() []int { return nil }, nil},
		{"owns some", func() []int { return []int{4, 1} }, []int{1, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &CoPartitionBalancer{Owned: tt.owned}
			if b.ProtocolName() == "" {
				t.Fatal("empty protocol name")
			}
			data, err := b.UserData()
			if err != nil {
				t.Fatal(err)
			}
			// The balancer reads the metadata back: a lone member keeps what
			// it owned (and gets the rest).
			a := (&CoPartitionBalancer{}).AssignGroups(
				[]kafka.GroupMember{{ID: "m1", UserData: data}}, topicPartitions(balancerTopics, 6))
			now := checkAssignment(t, a, []string{"m1"}, 6)
			if !isSubset(tt.want, now["m1"]) {
				t.Errorf("owned %v, assigned %v", tt.want, now["m1"])
			}
		})
	}
}

// assignSafely runs AssignGroups and turns a panic into a test failure, so
// that the rest of the package's tests still run.
func assignSafely(t testing.TB, members []kafka.GroupMember, parts []kafka.Partition) (a kafka.GroupMemberAssignments) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("AssignGroups(%d members, %d partitions) panicked: %v", len(members), len(parts), r)
		}
	}()
	return (&CoPartitionBalancer{}).AssignGroups(members, parts)
}

func TestCoPartitionBalancerNoMembers(t *testing.T) {
	if a := assignSafely(t, nil, topicPartitions(balancerTopics, 4)); len(a) != 0 {
		t.Errorf("no members: %v, want nothing", a)
	}
}

func TestCoPartitionBalancerNoPartitions(t *testing.T) {
	a := assignSafely(t, []kafka.GroupMember{joining(t, "m1", []int{0})}, nil)
	for id, byTopic := range a {
		for topic, ps := range byTopic {
			if len(ps) > 0 {
				t.Errorf("no partitions, yet %s got %s %v", id, topic, ps)
			}
		}
	}
}

func isSubset(sub, set []int) bool {
	for _, n := range sub {
		if !slices.Contains(set, n) {
			return false
		}
	}
	return true
}

// moved counts the partition numbers whose owner changed.
func moved(before, after map[string][]int) int {
	owner := map[int]string{}
	for id, ns := range before {
		for _, n := range ns {
			owner[n] = id
		}
	}
	count := 0
	for _, id := range slices.Sorted(maps.Keys(after)) {
		for _, n := range after[id] {
			if owner[n] != id {
				count++
			}
		}
	}
	return count
}

// minMoves is the fewest partitions that must move from the owners in prev
// to balance n partitions over ids.
func minMoves(prev map[string][]int, ids []string, n int) int {
	floor, extra := n/len(ids), n%len(ids)
	kept, over := 0, 0
	for _, id := range ids {
		had := len(prev[id])
		kept += min(had, floor)
		if had > floor {
			over++
		}
	}
	return n - kept - min(extra, over)
}
