package conveyor

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"conveyor.dev/conveyor/internal/cabi"
)

// RebalanceListener is Java's ConsumerRebalanceListener. Its methods run inside Poll (or
// Close/Unsubscribe) on the calling goroutine; they may call the consumer's Commit*, Seek
// and Position, but not Close. A nil method is skipped.
type RebalanceListener struct {
	// Assigned gets the partitions a rebalance added (may be empty).
	Assigned func(c *Consumer, parts []TopicPartition)
	// Revoked gets the partitions given up; they are still assigned during the call, so
	// committing them here is the usual at-least-once hand-over.
	Revoked func(c *Consumer, parts []TopicPartition)
	// Lost gets partitions whose generation was lost (they may be owned by another member
	// already: do not commit them). Without Lost, Revoked is called instead (Java's default).
	Lost func(c *Consumer, parts []TopicPartition)
}

// Consumer reads records from assigned partitions or as a member of a consumer group
// (Kafka's classic group protocol when "group.id" is set and Subscribe is used).
//
// Poll, PollBatch, Seek, Assign, Commit and Close must be called from one goroutine at a
// time (as with Java's KafkaConsumer); Wakeup and cancelling a Poll's ctx work from any
// goroutine.
type Consumer struct {
	id uintptr

	mu    sync.Mutex   // the consumer's one-at-a-time calls
	life  sync.RWMutex // Wakeup (shared) against Close freeing h (exclusive)
	woken atomic.Bool  // set by Wakeup, consumed by the Poll that returns because of it
	// inCallback is set while a rebalance listener or commit callback runs inside a call that
	// holds mu, so the consumer methods the callback calls do not wait for mu (a deadlock).
	inCallback atomic.Bool
	h          cabi.Struct_SS_conveyor_consumer_s
	listener   RebalanceListener
	commitCB   func(offsets []TopicPartition, err error)
	closed     chan struct{}
}

var consumers registry[*Consumer]

const (
	rebalanceAssigned = 1
	rebalanceRevoked  = 2
	rebalanceLost     = 3
)

// lock takes the consumer's one-call-at-a-time lock and returns its release; inside a callback
// that runs within a locked call (the same goroutine), it takes nothing.
func (c *Consumer) lock() (unlock func()) {
	if c.inCallback.Load() {
		return func() {}
	}
	c.mu.Lock()
	return c.mu.Unlock
}

func fromC(parts []cabi.TopicPartition) []TopicPartition {
	out := make([]TopicPartition, len(parts))
	for i, p := range parts {
		out[i] = TopicPartition{Topic: p.Topic, Partition: p.Partition, Offset: p.Offset}
	}
	return out
}

func init() {
	cabi.OnRebalance = func(consumerID uintptr, event int, parts []cabi.TopicPartition) {
		c, ok := consumers.get(consumerID)
		if !ok {
			return
		}
		var fn func(*Consumer, []TopicPartition)
		switch event {
		case rebalanceAssigned:
			fn = c.listener.Assigned
		case rebalanceRevoked:
			fn = c.listener.Revoked
		case rebalanceLost:
			fn = c.listener.Lost
			if fn == nil {
				fn = c.listener.Revoked
			}
		}
		if fn != nil {
			c.inCallback.Store(true)
			defer c.inCallback.Store(false)
			fn(c, fromC(parts))
		}
	}
	cabi.OnCommit = func(consumerID uintptr, code int32, message string, offsets []cabi.TopicPartition) {
		c, ok := consumers.get(consumerID)
		if ok && c.commitCB != nil {
			c.inCallback.Store(true)
			defer c.inCallback.Store(false)
			c.commitCB(fromC(offsets), codeError(code, message))
		}
	}
}

// NewConsumer creates a consumer from Kafka consumer properties ("bootstrap.servers";
// "group.id" for Subscribe and commits; "auto.offset.reset", "enable.auto.commit",
// "session.timeout.ms", "partition.assignment.strategy", ...). Errors: ErrInvalidConfig
// naming the key.
func NewConsumer(cfg Config) (*Consumer, error) {
	conf, err := cfg.toC()
	if err != nil {
		return nil, err
	}
	defer cabi.Conveyor_config_destroy(conf)
	out := cabi.New_consumerpp()
	defer cabi.Delete_consumerpp(out)
	slot := newErrSlot()
	if err := slot.result(cabi.Conveyor_consumer_new(conf, out, slot.p)); err != nil {
		return nil, err
	}
	c := &Consumer{h: cabi.Consumerpp_value(out), closed: make(chan struct{})}
	c.id = consumers.add(c)
	slot = newErrSlot()
	if err := slot.result(cabi.Cvgo_consumer_callbacks(c.h, uint(c.id), slot.p)); err != nil {
		cabi.Conveyor_consumer_destroy(c.h)
		consumers.remove(c.id)
		return nil, err
	}
	return c, nil
}

func tpsToC(parts []TopicPartition) (cabi.Struct_SS_conveyor_topic_partition_s, func()) {
	arr := cabi.Cvgo_tps_new(int64(len(parts)))
	for i, p := range parts {
		cabi.Cvgo_tps_set(arr, int64(i), p.Topic, int(p.Partition), p.Offset)
	}
	return arr, func() { cabi.Cvgo_tps_free(arr, int64(len(parts))) }
}

func stringsToC(ss []string) (cabi.Cvgo_strings_t, func()) {
	arr := cabi.Cvgo_strings_new(int64(len(ss)))
	for i, s := range ss {
		cabi.Cvgo_strings_set(arr, int64(i), s)
	}
	return arr, func() { cabi.Cvgo_strings_free(arr) }
}

// Subscribe joins the consumer's group.id subscribed to these topics (replacing an earlier
// subscription); partitions arrive through Poll, which runs the listener. Errors: ErrClosed,
// Kafka's INVALID_GROUP_ID without group.id, ErrLocalInvalidArgument for no topics.
// Kafka: KafkaConsumer.subscribe.
func (c *Consumer) Subscribe(topics []string, listener RebalanceListener) error {
	defer c.lock()()
	if c.h == nil {
		return ErrClosed
	}
	c.listener = listener
	arr, free := stringsToC(topics)
	defer free()
	slot := newErrSlot()
	return slot.result(cabi.Cvgo_subscribe(c.h, arr, slot.p))
}

// SubscribePattern subscribes to every topic whose whole name matches the ECMAScript regular
// expression (Java's subscribe(Pattern)); the match is re-evaluated every metadata.max.age.ms.
func (c *Consumer) SubscribePattern(regex string, listener RebalanceListener) error {
	defer c.lock()()
	if c.h == nil {
		return ErrClosed
	}
	c.listener = listener
	slot := newErrSlot()
	return slot.result(cabi.Conveyor_consumer_subscribe_pattern(c.h, regex, slot.p))
}

// Unsubscribe commits (with enable.auto.commit), runs Revoked, leaves the group and clears
// the assignment.
func (c *Consumer) Unsubscribe() error {
	defer c.lock()()
	if c.h == nil {
		return ErrClosed
	}
	slot := newErrSlot()
	return slot.result(cabi.Conveyor_consumer_unsubscribe(c.h, slot.p))
}

// Assign replaces the assignment with these partitions (no group membership). Offset is a
// position, OffsetBeginning, OffsetEnd or OffsetInvalid (auto.offset.reset decides).
func (c *Consumer) Assign(parts []TopicPartition) error {
	defer c.lock()()
	if c.h == nil {
		return ErrClosed
	}
	arr, free := tpsToC(parts)
	defer free()
	slot := newErrSlot()
	return slot.result(cabi.Cvgo_assign(c.h, arr, int64(len(parts)), slot.p))
}

// Assignment is the current assignment, with each partition's position as Offset
// (OffsetInvalid while not known yet).
func (c *Consumer) Assignment() ([]TopicPartition, error) {
	defer c.lock()()
	if c.h == nil {
		return nil, ErrClosed
	}
	out := cabi.New_partitionlistpp()
	defer cabi.Delete_partitionlistpp(out)
	slot := newErrSlot()
	if err := slot.result(cabi.Conveyor_consumer_assignment(c.h, out, slot.p)); err != nil {
		return nil, err
	}
	l := cabi.Partitionlistpp_value(out)
	defer cabi.Conveyor_partition_list_destroy(l)
	n := cabi.Conveyor_partition_list_count(l)
	parts := make([]TopicPartition, 0, n)
	for i := int64(0); i < n; i++ {
		parts = append(parts, TopicPartition{Topic: cabi.Cvgo_list_topic(l, i),
			Partition: int32(cabi.Cvgo_list_partition(l, i)), Offset: cabi.Cvgo_list_offset(l, i)})
	}
	return parts, nil
}

// Pause stops fetching these assigned partitions (Offset is ignored): Poll and PollBatch
// return none of their records until Resume, and their positions stay after the last record
// returned. Records already prefetched for them are dropped and fetched again from the
// position after Resume, so none is lost or returned twice. Group membership goes on: keep
// polling so max.poll.interval.ms is not exceeded. A partition stays paused across Seek, an
// Assign that keeps it and (with cooperative-sticky) rebalances that keep it; it loses the
// pause when it leaves the assignment (Assign, a rebalance's revocation or loss,
// Unsubscribe). Pausing a paused partition does nothing. Errors: ErrLocalState naming the
// partition when one of them is not assigned now (then nothing changes), ErrClosed. Same
// goroutine rule as the other methods; callable from a RebalanceListener.
// Kafka: KafkaConsumer.pause.
func (c *Consumer) Pause(parts []TopicPartition) error {
	return c.pauseResume(parts, true)
}

// Resume restarts fetching of these partitions at their positions; resuming a partition that
// is not paused does nothing. Errors as Pause. Kafka: KafkaConsumer.resume.
func (c *Consumer) Resume(parts []TopicPartition) error {
	return c.pauseResume(parts, false)
}

func (c *Consumer) pauseResume(parts []TopicPartition, pause bool) error {
	defer c.lock()()
	if c.h == nil {
		return ErrClosed
	}
	arr, free := tpsToC(parts)
	defer free()
	slot := newErrSlot()
	if pause {
		return slot.result(cabi.Cvgo_pause(c.h, arr, int64(len(parts)), slot.p))
	}
	return slot.result(cabi.Cvgo_resume(c.h, arr, int64(len(parts)), slot.p))
}

// Paused is the set of paused partitions, sorted, with each one's position as Offset
// (OffsetInvalid while not known yet); nil after Close. Kafka: KafkaConsumer.paused.
func (c *Consumer) Paused() []TopicPartition {
	defer c.lock()()
	if c.h == nil {
		return nil
	}
	out := cabi.New_partitionlistpp()
	defer cabi.Delete_partitionlistpp(out)
	slot := newErrSlot()
	if err := slot.result(cabi.Conveyor_consumer_paused(c.h, out, slot.p)); err != nil {
		return nil
	}
	l := cabi.Partitionlistpp_value(out)
	defer cabi.Conveyor_partition_list_destroy(l)
	n := cabi.Conveyor_partition_list_count(l)
	parts := make([]TopicPartition, 0, n)
	for i := int64(0); i < n; i++ {
		parts = append(parts, TopicPartition{Topic: cabi.Cvgo_list_topic(l, i),
			Partition: int32(cabi.Cvgo_list_partition(l, i)), Offset: cabi.Cvgo_list_offset(l, i)})
	}
	return parts
}

// Seek moves an assigned partition's position (offset as in Assign). Errors:
// ErrLocalUnknownPartition when not assigned.
func (c *Consumer) Seek(tp TopicPartition) error {
	defer c.lock()()
	if c.h == nil {
		return ErrClosed
	}
	slot := newErrSlot()
	return slot.result(cabi.Conveyor_consumer_seek(c.h, tp.Topic, int(tp.Partition), tp.Offset, slot.p))
}

// Position is the offset of the next record Poll returns for an assigned partition.
func (c *Consumer) Position(topic string, partition int32) (int64, error) {
	defer c.lock()()
	if c.h == nil {
		return 0, ErrClosed
	}
	out := cabi.New_int64p()
	defer cabi.Delete_int64p(out)
	slot := newErrSlot()
	if err := slot.result(cabi.Conveyor_consumer_position(c.h, topic, int(partition), out, slot.p)); err != nil {
		return 0, err
	}
	return cabi.Int64p_value(out), nil
}

// pollStepMs bounds one blocking native call, so a cancelled ctx is noticed promptly even if
// the wakeup raced with the call's start.
const pollStepMs = 200

// Poll returns the next record, waiting until one arrives, ctx is done (ctx.Err() is
// returned) or Wakeup is called (nil, nil). Rebalance listeners run inside it. Errors: fetch
// errors such as ErrOffsetOutOfRange with auto.offset.reset=none, ErrClosed.
func (c *Consumer) Poll(ctx context.Context) (*Record, error) {
	recs, err := c.PollBatch(ctx, 1)
	if err != nil || len(recs) == 0 {
		return nil, err
	}
	return recs[0], nil
}

// PollBatch returns up to max records (Kafka's max.poll.records applies per call), waiting
// for the first as Poll does and returning whatever is buffered after it.
func (c *Consumer) PollBatch(ctx context.Context, max int) ([]*Record, error) {
	if max <= 0 {
		max = 500
	}
	defer c.lock()()
	if c.h == nil {
		return nil, ErrClosed
	}
	h := c.h
	stop := context.AfterFunc(ctx, func() { cabi.Conveyor_consumer_wakeup(h) })
	defer stop()
	msgs := cabi.Cvgo_msgs_new(int64(max))
	defer cabi.Cvgo_msgs_free(msgs)
	count := cabi.New_sizep()
	defer cabi.Delete_sizep(count)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		step := pollStepMs
		if d, ok := ctx.Deadline(); ok {
			step = int(min(max64(time.Until(d).Milliseconds(), 0), pollStepMs))
		}
		slot := newErrSlot()
		if err := slot.result(cabi.Cvgo_consume(h, int64(max), step, msgs, count, slot.p)); err != nil {
			return nil, err
		}
		n := cabi.Sizep_value(count)
		if n > 0 {
			out := make([]*Record, n)
			for i := int64(0); i < n; i++ {
				m := cabi.Cvgo_msgs_get(msgs, i)
				out[i] = recordFromC(m)
				cabi.Conveyor_message_destroy(m)
			}
			return out, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if c.woken.Swap(false) {
			return nil, nil
		}
	}
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// recordFromC copies a consumed message into Go memory.
func recordFromC(m cabi.Struct_SS_conveyor_message_s) *Record {
	var meta [8]int64
	cabi.Cvgo_message_meta(m, meta[:])
	klen, vlen := meta[4], meta[5]
	buf := make([]byte, max64(klen, 0)+max64(vlen, 0))
	if len(buf) > 0 {
		cabi.Cvgo_message_copy_kv(m, buf)
	}
	r := &Record{Topic: cabi.Conveyor_message_topic(m), Partition: int32(meta[0]), Offset: meta[1],
		Timestamp: time.UnixMilli(meta[2])}
	if klen >= 0 {
		r.Key = buf[:klen:klen]
	}
	if vlen >= 0 {
		r.Value = buf[max64(klen, 0):]
	}
	if n := meta[6]; n > 0 {
		r.Headers = make([]Header, n)
		var lens [2]int64
		for i := int64(0); i < n; i++ {
			cabi.Cvgo_message_header_lens(m, i, lens[:])
			hb := make([]byte, lens[0]+max64(lens[1], 0))
			cabi.Cvgo_message_header_copy(m, i, hb)
			r.Headers[i].Key = string(hb[:lens[0]])
			if lens[1] >= 0 {
				r.Headers[i].Value = hb[lens[0]:]
			}
		}
	}
	return r
}

// Wakeup makes a blocked Poll/PollBatch (current or next) return (nil, nil). Safe from any
// goroutine.
func (c *Consumer) Wakeup() {
	// Not under c.mu: Poll holds it while blocked.
	c.life.RLock()
	defer c.life.RUnlock()
	if c.h != nil {
		c.woken.Store(true)
		cabi.Conveyor_consumer_wakeup(c.h)
	}
}

// CommitSync commits offsets (nil: the positions of every assigned partition) and waits for
// the coordinator's answer within ctx's deadline (Java's commitSync). Errors: Kafka's
// ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID / REBALANCE_IN_PROGRESS when the group moved on.
func (c *Consumer) CommitSync(ctx context.Context, offsets []TopicPartition) error {
	return c.commit(ctx, offsets, 0)
}

// CommitAsync sends the commit and returns at once; cb (may be nil) gets the outcome inside
// a later Poll (Java's commitAsync(callback)).
func (c *Consumer) CommitAsync(offsets []TopicPartition, cb func(offsets []TopicPartition, err error)) error {
	unlock := c.lock()
	c.commitCB = cb
	unlock()
	return c.commit(context.Background(), offsets, 1)
}

func timeoutMs(ctx context.Context, dflt int) int {
	if d, ok := ctx.Deadline(); ok {
		return int(max64(time.Until(d).Milliseconds(), 0))
	}
	return dflt
}

func (c *Consumer) commit(ctx context.Context, offsets []TopicPartition, mode int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	defer c.lock()()
	if c.h == nil {
		return ErrClosed
	}
	arr, free := tpsToC(offsets)
	defer free()
	slot := newErrSlot()
	return slot.result(cabi.Cvgo_commit(c.h, arr, int64(len(offsets)), mode, timeoutMs(ctx, -1), slot.p))
}

// Committed returns the group's committed offset for each partition (-1 when none).
func (c *Consumer) Committed(ctx context.Context, parts []TopicPartition) ([]TopicPartition, error) {
	defer c.lock()()
	if c.h == nil {
		return nil, ErrClosed
	}
	arr, free := tpsToC(parts)
	defer free()
	slot := newErrSlot()
	if err := slot.result(cabi.Cvgo_committed(c.h, arr, int64(len(parts)), timeoutMs(ctx, -1), slot.p)); err != nil {
		return nil, err
	}
	out := make([]TopicPartition, len(parts))
	for i, p := range parts {
		out[i] = TopicPartition{Topic: p.Topic, Partition: p.Partition, Offset: cabi.Cvgo_tps_offset(arr, int64(i))}
	}
	return out, nil
}

// MemberID and Generation of the consumer in its group ("" and -1 when not a member).
func (c *Consumer) MemberID() (string, int32) {
	defer c.lock()()
	if c.h == nil {
		return "", -1
	}
	gen := cabi.New_int32p()
	defer cabi.Delete_int32p(gen)
	id := cabi.Cvgo_member_id(c.h, gen)
	return id, int32(cabi.Int32p_value(gen))
}

// Close commits (with enable.auto.commit), runs Revoked, leaves the group, closes
// connections and frees the consumer. Idempotent.
func (c *Consumer) Close() error {
	if c.inCallback.Load() {
		return &Error{Code: ErrLocalState, Name: "LOCAL_STATE", Message: "Close called from a rebalance or commit callback"}
	}
	defer c.lock()()
	if c.h == nil {
		return nil
	}
	slot := newErrSlot()
	err := slot.result(cabi.Conveyor_consumer_close(c.h, slot.p))
	close(c.closed)
	c.life.Lock()
	h := c.h
	c.h = nil
	c.life.Unlock()
	cabi.Conveyor_consumer_destroy(h)
	consumers.remove(c.id)
	return err
}
