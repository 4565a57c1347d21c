package kclient

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// DebugState describes what the Producer holds now, one line per
// partition with something unacknowledged, for a stall's diagnosis (a
// test's watchdog, a goroutine dump's companion): records waiting, the
// batch's age, sequence and retries, whether it is in a request, and the
// last error; then the leaders with a request in flight.
func (p *Producer) DebugState() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	var lines []string
	for _, k := range p.order {
		q := p.parts[k]
		if q.batch == nil && len(q.waiting) == 0 && !q.sending {
			continue
		}
		l := fmt.Sprintf("%s/%d waiting=%d sending=%t", k.topic, k.partition, len(q.waiting), q.sending)
		if b := q.batch; b != nil {
			l += fmt.Sprintf(" batch=%d age=%s seq=%d/%d/%d resets=%d retry_in=%s last_err=%v",
				len(b.msgs), now.Sub(b.first).Round(time.Millisecond), b.seq.id, b.seq.epoch, b.seq.next,
				b.resets, b.notBefore.Sub(now).Round(time.Millisecond), b.lastErr)
		}
		lines = append(lines, l)
	}
	var busy []string
	for id := range p.busy {
		busy = append(busy, fmt.Sprint(id))
	}
	sort.Strings(busy)
	lines = append(lines, fmt.Sprintf("running=%t busy_leaders=[%s]", p.running, strings.Join(busy, " ")))
	return strings.Join(lines, "\n")
}
