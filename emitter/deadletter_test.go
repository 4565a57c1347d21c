package emitter

import (
	"testing"
	"time"

	"github.com/sessiond/sessiond/reducer"
)

// stubEncoder encodes an update as its update_id.
type stubEncoder struct{}

func (stubEncoder) EncodeUpdate(dst []byte, u *reducer.Update) ([]byte, error) {
	return append(dst, u.UpdateID...), nil
}

// A Nosto dead letter says it is the Nosto sink's and, when the update
// knows it, which action record it came from; never zeros in its place.
func TestNostoDeadLetterProvenance(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 27, 10, 0, 2, 0, time.UTC)
	for _, tc := range []struct {
		name string
		src  reducer.Source
		want map[string]string // headers; "" value: absent
	}{
		{"from an action record", reducer.Source{Topic: "actions", Partition: 3, Offset: 41, Time: at}, map[string]string{
			HeaderOrigin: OriginNostoSink, HeaderUpdateID: "e3", HeaderReason: "nosto-graphql", HeaderNostoStatus: "200",
			HeaderSourceTopic: "actions", HeaderSourcePartition: "3", HeaderSourceOffset: "41",
			HeaderSourceTimestamp: "2026-11-27T10:00:02Z"}},
		{"source unknown", reducer.Source{}, map[string]string{
			HeaderOrigin: OriginNostoSink, HeaderUpdateID: "e3", HeaderReason: "nosto-graphql",
			HeaderSourceTopic: "", HeaderSourcePartition: "", HeaderSourceOffset: "", HeaderSourceTimestamp: ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := update("e3", "v1", action(reducer.ActionViewCart), nil, fullCust)
			u.Source = tc.src
			msg, err := NostoDeadLetter(stubEncoder{}, u, NostoFailure{Reason: "graphql", Error: "Invalid product", Status: 200})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, h := range msg.Headers {
				got[h.Key] = string(h.Value)
			}
			for k, want := range tc.want {
				if v, ok := got[k]; v != want || ok != (want != "") {
					t.Errorf("header %s = %q (present %v), want %q", k, v, ok, want)
				}
			}
			if string(msg.Key) != "v1" {
				t.Errorf("key %q, want the visitor v1", msg.Key)
			}
		})
	}
}
