package reducer

// Before reports whether a comes before b in the merge order of docs/design.md §2:
// smaller occurred_at first, ties by kind (cart, customer, action). Events
// equal by both keep their input order (offset, or line).
func Before(a, b *Event) bool {
	if a.OccurredAt != b.OccurredAt {
		return a.OccurredAt < b.OccurredAt
	}
	return a.Kind < b.Kind
}
