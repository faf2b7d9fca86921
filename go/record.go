package conveyor

import "time"

// Header is one record header (Kafka record headers: a string key and a byte value; a nil
// Value is a null header value).
type Header struct {
	Key   string
	Value []byte
}

// TopicPartition names a partition, with an offset where one applies (a position, a
// committed offset, or OffsetBeginning/OffsetEnd/OffsetInvalid).
type TopicPartition struct {
	Topic     string
	Partition int32
	Offset    int64
}

// Special offsets and partitions (conveyor.h).
const (
	PartitionAny    int32 = -1    // let the partitioner choose (murmur2 of the key, sticky for null keys)
	OffsetBeginning int64 = -2    // the log start offset ("earliest")
	OffsetEnd       int64 = -1    // the log end offset ("latest")
	OffsetInvalid   int64 = -1001 // no position: auto.offset.reset decides
)

// Record is a record to produce, a consumed record, or the subject of a delivery report.
// A nil Key or Value is null (a nil Value is a tombstone on compacted topics); an empty
// non-nil slice is empty, not null.
type Record struct {
	Topic     string
	Partition int32 // PartitionAny when producing lets the partitioner pick
	Offset    int64 // set when consumed or delivered
	Key       []byte
	Value     []byte
	Headers   []Header
	// Timestamp: CreateTime set by the producer (zero = now) or LogAppendTime by the broker.
	Timestamp time.Time
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
