package reducer

// encoded is a snapshot restored from durable state and not decoded yet:
// its bytes and the LastSeen they hold, which is all expiry needs.
type encoded struct {
	lastSeen int64
	touched  int64 // Snapshot.Touched, once decoded
	data     []byte
}

// RestoreEncoded installs a snapshot still in its stored form, replacing
// any the visitor had. lastSeen must be the LastSeen the bytes hold;
// touched becomes the snapshot's Touched (the encodings leave it out). The
// bytes are decoded with Config.Decode the first time the visitor's
// snapshot is needed (an event, Snapshot); a visitor that expires first is
// never decoded. So a restore costs reading the state, not decoding it,
// and an idle visitor costs its encoded size in memory.
//
// It reports false, and installs nothing, when the Reducer has no
// Config.Decode.
func (r *Reducer) RestoreEncoded(visitorID string, lastSeen, touched int64, data []byte) bool {
	if r.decode == nil {
		return false
	}
	delete(r.visitors, visitorID)
	r.encoded[visitorID] = encoded{lastSeen: lastSeen, touched: touched, data: data}
	return true
}

// Encoded returns how many visitors' snapshots are still in their stored
// form (RestoreEncoded) and not decoded yet. Len counts them too.
func (r *Reducer) Encoded() int { return len(r.encoded) }

// thaw decodes the visitor's stored snapshot, if it has one, and makes it
// the visitor's snapshot. Bytes that do not decode leave the visitor
// without a snapshot, as if it had none (Config.Decode is where to count
// them).
func (r *Reducer) thaw(visitorID string) *Snapshot {
	e, ok := r.encoded[visitorID]
	if !ok {
		return nil
	}
	delete(r.encoded, visitorID)
	s, err := r.decode(e.data)
	if err != nil || s == nil {
		return nil
	}
	s.Touched = max(s.Touched, e.touched)
	r.visitors[visitorID] = s
	return s
}
