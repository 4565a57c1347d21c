package consumer

import (
	"context"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/reducer"
)

// changelogStore is a partition's state in the pipeline: restored from the
// changelog (restore.go) or kept from the previous generation (retain.go);
// each batch staged (staged.go) and, once per commit interval, its touched
// snapshots and swept visitors' tombstones handed to the state pipe
// (statepipe.go), which writes them and then hands the offsets to the
// committer.
type changelogStore struct {
	partition      int
	topics         [numKinds]string
	cfg            reducer.Config
	maxSkew        time.Duration
	sweepGrace     time.Duration
	commitInterval time.Duration // 0: hand off every batch
	changelog      *changelog
	write          func(context.Context, []kafka.Message) error // writes to the changelog
	commit         func(map[string]map[int]int64)               // marks offsets for the committer
	txn            *txnTask                                     // exactly once: hand-offs commit a transaction instead
	retained       *retainedStates
	status         *Status
	metrics        *partitionMetrics
	log            *slog.Logger

	red    *reducer.Reducer
	clock  *streamClock
	staged *staged
	pipe   *statePipe
}

// open starts the state pipe (none with exactly once: each hand-off
// commits its transaction before it returns).
func (s *changelogStore) open(wctx context.Context) {
	if s.txn != nil {
		return
	}
	s.pipe = startStatePipe(wctx, s.write, s.commit, func(err error) {
		s.log.Warn("changelog write abandoned; the partition replays from the last commit", "error", err)
	})
}

// stage notes a batch's touched visitors and offsets.
func (s *changelogStore) stage(b *batch) {
	if s.txn != nil {
		s.txn.opened()
	}
	s.staged.add(b)
}

// due: every batch without a commit interval, else once the interval since
// the first staged batch has passed.
func (s *changelogStore) due() (time.Time, bool) {
	if s.staged.empty() {
		return time.Time{}, false
	}
	return s.staged.since.Add(s.commitInterval), true
}

// handOff encodes the staged visitors' snapshots (once: a retry resends the
// same records) and queues them with the staged offsets on the state pipe.
func (s *changelogStore) handOff(ctx context.Context) error {
	st := s.staged
	if st.write == nil {
		msgs, err := s.stateMessages()
		if err != nil {
			return err
		}
		st.write = &stateWrite{msgs: msgs, offsets: st.offsets(s.topics, s.partition)}
	}
	if s.txn != nil {
		return s.commitTxn(ctx)
	}
	if !s.pipe.handOff(ctx, *st.write) {
		return ctx.Err()
	}
	st.reset()
	return nil
}

// commitTxn writes the staged changelog records into the open
// transaction and commits it with the staged offsets.
func (s *changelogStore) commitTxn(ctx context.Context) error {
	st := s.staged
	if !st.written {
		if err := s.write(ctx, st.write.msgs); err != nil {
			return err
		}
		st.written = true
	}
	if err := s.txn.commit(ctx, st.write.offsets); err != nil {
		return err
	}
	s.status.Touch()
	st.reset()
	return nil
}

// stateMessages sweeps expired visitors when it is time to, and encodes
// the staged visitors' snapshots and the tombstones of the swept ones.
func (s *changelogStore) stateMessages() ([]kafka.Message, error) {
	gone := sweepIdle(s.red, s.clock, s.cfg.SessionTTL, s.metrics)
	for _, id := range gone {
		delete(s.staged.dirty, id)
	}
	return s.changelog.messages(s.red, s.partition, s.staged.dirty, gone)
}

// drain closes the state pipe and waits for it; after a clean drain
// everything in memory is in the changelog, and the state is kept.
func (s *changelogStore) drain(ctx context.Context, keep bool) bool {
	if s.txn != nil {
		ok := keep && s.staged.empty() // the last interval committed
		if ok {
			s.retain(ctx)
		}
		return ok
	}
	ok := s.pipe.drain()
	if ok && keep {
		s.retain(ctx)
	}
	return ok
}
