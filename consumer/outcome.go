package consumer

// Event outcomes, counted per batch and added to sessiond_events_total when
// the batch is out.
const (
	outcomeApplied = iota
	outcomeLate
	outcomeDuplicate
	outcomeRejected
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"applied", "late", "duplicate", "rejected"}
