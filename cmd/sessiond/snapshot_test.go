package main

import (
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// What snapshot prints for a visitor without a snapshot says why.
func TestSnapshotJSONWithoutSnapshot(t *testing.T) {
	at := time.Date(2026, 11, 28, 10, 0, 2, 345e6, time.FixedZone("CET", 3600))
	tests := []struct {
		name    string
		visitor string
		latest  *kafka.Message
		want    string
	}{
		{"never seen", "nobody", nil, `{"visitor_id":"nobody","state":"unknown"}`},
		{"tombstone", "v1", &kafka.Message{Key: []byte("v1"), Time: at}, `{"visitor_id":"v1","state":"swept","tombstoned_at":"2026-11-28T09:00:02.345Z"}`},
		{"empty value", "v1", &kafka.Message{Key: []byte("v1"), Value: []byte{}, Time: at}, `{"visitor_id":"v1","state":"swept","tombstoned_at":"2026-11-28T09:00:02.345Z"}`},
		{"escaped id", `a"b`, nil, `{"visitor_id":"a\"b","state":"unknown"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := snapshotJSON(tt.visitor, tt.latest)
			if err != nil || string(got) != tt.want {
				t.Errorf("got %s, %v; want %s", got, err, tt.want)
			}
		})
	}
}
