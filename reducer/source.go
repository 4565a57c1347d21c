package reducer

import "time"

// Source is where an update's action event was read: the input record's
// topic, partition, offset and Kafka timestamp. The consumer sets it; the
// reducer knows no Kafka and leaves it zero. It is not part of the
// encoded update: sinks use it to say which input an update they could
// not deliver came from (the Nosto sink's dead letters).
type Source struct {
	Topic     string // empty: unknown
	Partition int
	Offset    int64
	Time      time.Time
}

// Known reports whether s names an input record.
func (s Source) Known() bool { return s.Topic != "" }
