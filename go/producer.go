package conveyor

import (
	"context"
	"sync"
	"time"

	"conveyor.dev/conveyor/internal/cabi"
)

// DeliveryFunc receives the outcome of one Produce: the record with Partition, Offset and
// Timestamp filled in, and nil or the error (e.g. ErrLocalMessageTimedOut after
// delivery.timeout.ms, ErrMessageTooLarge).
type DeliveryFunc func(rec *Record, err error)

// Producer sends records to Kafka topics (Kafka's Producer: batching by linger.ms and
// batch.size, compression.type, acks, retries, enable.idempotence on by default).
//
// Delivery callbacks run on the producer's internal poller goroutine (or inside Flush), one
// at a time and in order per partition; they must not block for long. Produce, Send, Flush
// and Close are safe for concurrent use.
type Producer struct {
	reports cabi.Struct_SS_cvgo_reports_s // filled inside poll/flush, drained under pollMu
	drain   []int64

	mu     sync.RWMutex // guards h against Close; Produce holds it shared
	h      cabi.Struct_SS_conveyor_producer_s
	pollMu sync.Mutex // conveyor_producer_poll/_flush: one caller at a time

	pending registry[*pendingBatch]
	stop    chan struct{}
	done    chan struct{}
}

// pendingBatch is the records of one Produce (one record) or one ProduceBatch run waiting for
// their delivery reports. A record's id, handed to C, is the batch's registry id shifted left
// by batchIndexBits plus the record's index: one registry entry per batch, not per record.
type pendingBatch struct {
	recs      []*Record
	cb        DeliveryFunc
	remaining int // reports still to come; the entry is removed at 0
}

const (
	batchIndexBits = 20
	maxBatchRun    = 1 << batchIndexBits // records per run of ProduceBatch
)

func recordID(batch uintptr, i int) uintptr { return batch<<batchIndexBits | uintptr(i) }

// deliverQueued runs the callbacks of the reports the last poll/flush queued. Called with
// pollMu held, so reports run one at a time and in the library's order.
func (p *Producer) deliverQueued() {
	n := cabi.Cvgo_reports_count(p.reports)
	var lastID uintptr // reports of one batch come together: look it up once
	var last *pendingBatch
	for from := int64(0); from < n; {
		k := cabi.Cvgo_reports_copy(p.reports, from, p.drain)
		for i := int64(0); i < k; i++ {
			r := p.drain[i*5 : i*5+5]
			id := uintptr(r[0])
			batchID, idx := id>>batchIndexBits, int(id&(maxBatchRun-1))
			b := last
			if batchID != lastID || b == nil {
				var ok bool
				if b, ok = p.pending.get(batchID); !ok {
					continue
				}
				lastID, last = batchID, b
			}
			if idx >= len(b.recs) {
				continue
			}
			if b.remaining--; b.remaining == 0 {
				p.pending.remove(batchID)
			}
			rec := b.recs[idx]
			rec.Partition = int32(r[1])
			rec.Offset = r[2]
			if r[3] > 0 {
				rec.Timestamp = time.UnixMilli(r[3])
			}
			var err error
			if r[4] != 0 {
				err = codeError(int32(r[4]), cabi.Cvgo_reports_message(p.reports, from+i))
			}
			b.cb(rec, err)
		}
		from += k
	}
	if n > 0 {
		cabi.Cvgo_reports_clear(p.reports)
	}
}

// NewProducer creates a producer from Kafka producer properties; "bootstrap.servers" is
// required. Connecting is lazy: an unreachable broker shows up as delivery errors. Errors:
// ErrInvalidConfig naming the key.
func NewProducer(cfg Config) (*Producer, error) {
	conf, err := cfg.toC()
	if err != nil {
		return nil, err
	}
	defer cabi.Conveyor_config_destroy(conf)
	p := &Producer{stop: make(chan struct{}), done: make(chan struct{}), reports: cabi.Cvgo_reports_new(),
		drain: make([]int64, 5*1024)}
	out := cabi.New_producerpp()
	defer cabi.Delete_producerpp(out)
	slot := newErrSlot()
	if err := slot.result(cabi.Cvgo_producer_new(conf, p.reports, out, slot.p)); err != nil {
		cabi.Cvgo_reports_free(p.reports)
		return nil, err
	}
	p.h = cabi.Producerpp_value(out)
	go p.pollLoop()
	return p, nil
}

// pollLoop serves delivery reports until Close.
func (p *Producer) pollLoop() {
	defer close(p.done)
	served := cabi.New_sizep()
	defer cabi.Delete_sizep(served)
	for {
		select {
		case <-p.stop:
			return
		default:
		}
		p.mu.RLock()
		if p.h == nil {
			p.mu.RUnlock()
			return
		}
		p.pollMu.Lock()
		cabi.Conveyor_producer_poll(p.h, 50, served, nil)
		p.deliverQueued()
		p.pollMu.Unlock()
		p.mu.RUnlock()
	}
}

// Produce queues rec for sending and returns at once; cb (may be nil) gets the outcome.
// rec.Topic is required; rec.Partition PartitionAny (-1) lets the partitioner choose — set
// it explicitly, the zero value 0 means partition 0. Key, Value and Headers are copied before
// Produce returns. Errors: ErrLocalQueueFull (buffer.memory reached; retry after deliveries
// drain), ErrMessageTooLarge, ErrLocalInvalidArgument, ErrClosed. ctx is checked before
// queueing only.
func (p *Producer) Produce(ctx context.Context, rec *Record, cb DeliveryFunc) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if rec == nil {
		return &Error{Code: ErrLocalInvalidArgument, Name: "LOCAL_INVALID_ARG", Message: "nil record"}
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.h == nil {
		return ErrClosed
	}
	var hdrs cabi.Struct_SS_conveyor_header_s = cabi.SwigcptrStruct_SS_conveyor_header_s(0)
	if len(rec.Headers) > 0 {
		hdrs = cabi.Cvgo_headers_new(int64(len(rec.Headers)))
		for i, h := range rec.Headers {
			cabi.Cvgo_headers_set(hdrs, int64(i), h.Key, h.Value)
		}
		defer cabi.Cvgo_headers_free(hdrs, int64(len(rec.Headers)))
	}
	var rid, batchID uintptr // 0: nobody waits for this record's report
	if cb != nil {
		batchID = p.pending.add(&pendingBatch{recs: []*Record{rec}, cb: cb, remaining: 1})
		rid = recordID(batchID, 0)
	}
	slot := newErrSlot()
	rc := cabi.Cvgo_produce(p.h, rec.Topic, int(rec.Partition), rec.Key, rec.Value, hdrs,
		int64(len(rec.Headers)), millis(rec.Timestamp), uint(rid), slot.p)
	if err := slot.result(rc); err != nil {
		if batchID != 0 {
			p.pending.remove(batchID)
		}
		return err
	}
	return nil
}

// ProduceBatch queues many records with one crossing into the C library per run of records
// with the same topic, instead of one per record: the fast path for high rates of small
// records. Records with headers are queued one by one. cb (may be nil) gets each record's
// outcome as with Produce. Returns how many of recs were queued, in order; on an error (e.g.
// ErrLocalQueueFull: let deliveries drain, then call again with recs[n:]) the rest were not.
func (p *Producer) ProduceBatch(ctx context.Context, recs []*Record, cb DeliveryFunc) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	done := 0
	for done < len(recs) {
		if recs[done] == nil {
			return done, &Error{Code: ErrLocalInvalidArgument, Name: "LOCAL_INVALID_ARG", Message: "nil record"}
		}
		if len(recs[done].Headers) > 0 {
			if err := p.Produce(ctx, recs[done], cb); err != nil {
				return done, err
			}
			done++
			continue
		}
		end := done + 1
		for end < len(recs) && recs[end] != nil && recs[end].Topic == recs[done].Topic && len(recs[end].Headers) == 0 {
			end++
		}
		n, err := p.produceRun(recs[done:end], cb)
		done += n
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// produceRun queues records of one topic, without headers, in one call.
func (p *Producer) produceRun(recs []*Record, cb DeliveryFunc) (int, error) {
	size := 0
	for _, r := range recs {
		size += len(r.Key) + len(r.Value)
	}
	data := make([]byte, 0, size)
	meta := make([]int64, 5*len(recs))
	if len(recs) > maxBatchRun {
		recs = recs[:maxBatchRun] // ProduceBatch comes back for the rest
	}
	var batch *pendingBatch
	var batchID uintptr
	if cb != nil {
		batch = &pendingBatch{recs: recs, cb: cb, remaining: len(recs)}
		batchID = p.pending.add(batch)
	}
	for i, r := range recs {
		m := meta[i*5 : i*5+5]
		m[0] = int64(r.Partition)
		m[1], m[2] = -1, -1
		if r.Key != nil {
			m[1] = int64(len(r.Key))
			data = append(data, r.Key...)
		}
		if r.Value != nil {
			m[2] = int64(len(r.Value))
			data = append(data, r.Value...)
		}
		m[3] = millis(r.Timestamp)
		if cb != nil {
			m[4] = int64(recordID(batchID, i))
		}
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.h == nil {
		return 0, ErrClosed
	}
	queued := cabi.New_sizep()
	defer cabi.Delete_sizep(queued)
	slot := newErrSlot()
	err := slot.result(cabi.Cvgo_produce_batch(p.h, recs[0].Topic, meta, data, queued, slot.p))
	n := int(cabi.Sizep_value(queued))
	if batch != nil && n < len(recs) {
		// Reports come only for the n queued records. (The poller may run some of them
		// already; remaining is only touched under pollMu, so take it for the update.)
		p.pollMu.Lock()
		batch.remaining -= len(recs) - n
		if batch.remaining <= 0 {
			p.pending.remove(batchID)
		}
		p.pollMu.Unlock()
	}
	return n, err
}

// Send produces rec and waits for its delivery report (Java's send(...).get()). It returns
// the record with Partition and Offset set. Cancelling ctx stops the wait, not the send.
func (p *Producer) Send(ctx context.Context, rec *Record) (*Record, error) {
	done := make(chan error, 1)
	if err := p.Produce(ctx, rec, func(r *Record, err error) { done <- err }); err != nil {
		return nil, err
	}
	select {
	case err := <-done:
		if err != nil {
			return nil, err
		}
		return rec, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Flush sends everything queued (ignoring linger.ms) and waits until every delivery report
// ran or ctx is done (its deadline bounds the wait; without one Flush waits as long as it
// takes). Errors: ErrLocalTimedOut with records still outstanding, ctx.Err(), ErrClosed.
func (p *Producer) Flush(ctx context.Context) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.h == nil {
		return ErrClosed
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		step := 200
		if d, ok := ctx.Deadline(); ok {
			left := time.Until(d).Milliseconds()
			if left < int64(step) {
				step = int(max(left, 0))
			}
		}
		p.pollMu.Lock()
		slot := newErrSlot()
		err := slot.result(cabi.Conveyor_producer_flush(p.h, step, slot.p))
		p.deliverQueued()
		p.pollMu.Unlock()
		if err == nil {
			return nil
		}
		if e, ok := err.(*Error); !ok || e.Code != ErrLocalTimedOut {
			return err
		}
		if _, ok := ctx.Deadline(); ok && step == 0 {
			return err
		}
	}
}

// Outstanding is the number of records queued or in flight whose report has not run yet.
func (p *Producer) Outstanding() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.h == nil {
		return 0
	}
	return int(cabi.Conveyor_producer_outstanding(p.h))
}

// Close stops the poller and frees the producer without waiting for deliveries: call Flush
// first. Reports still pending are dropped (their callbacks never run). Idempotent.
func (p *Producer) Close() error {
	p.mu.Lock()
	if p.h == nil {
		p.mu.Unlock()
		return nil
	}
	close(p.stop)
	h := p.h
	p.h = nil
	p.mu.Unlock()
	<-p.done
	cabi.Conveyor_producer_destroy(h)
	cabi.Cvgo_reports_free(p.reports)
	return nil
}
