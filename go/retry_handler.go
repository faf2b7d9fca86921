package conveyor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"conveyor.dev/conveyor/internal/cabi"
)

// RetryStats counts what a RetryHandler did: Records handed to the handler (first attempts),
// Succeeded (accepted eventually), Retries (calls after a failure), DeadLettered (written to
// a dead-letter topic), Commits and CommitFailures (refused by the coordinator, e.g. during a
// rebalance).
type RetryStats struct {
	Records, Succeeded, Retries, DeadLettered, Commits, CommitFailures uint64
}

func statsFrom(v []int64) RetryStats {
	return RetryStats{uint64(v[0]), uint64(v[1]), uint64(v[2]), uint64(v[3]), uint64(v[4]), uint64(v[5])}
}

// RetryHandler is the retry-and-dead-letter loop (conveyor.h "Retry and dead-letter
// handler"): it polls a consumer, calls the handler for each record, retries a record whose
// handler returns an error up to "max.retries" more times with exponential backoff
// ("retry.backoff.ms" doubling up to "retry.backoff.max.ms", the shape of KIP-580), then
// writes it to a dead-letter topic with the producer and commits past it. Records handled
// successfully are committed after each polled batch: at-least-once.
//
// The dead-letter record keeps the original key, value and headers and adds
// conveyor.dlt.original.topic / .partition / .offset / .timestamp, conveyor.dlt.error (the
// handler's error text) and conveyor.dlt.attempts. Its topic is "dead.letter.topic" if set,
// else the record's topic + "dead.letter.topic.suffix" (".DLT"). See docs/delivery-semantics.md.
//
// The consumer should have enable.auto.commit=false; nothing else may use it while Run runs
// (Run holds it). Stop is safe from any goroutine; Run from one at a time.
type RetryHandler struct {
	id       uintptr
	consumer *Consumer
	producer *Producer
	mu       sync.Mutex   // Run against Close
	life     sync.RWMutex // Stop and Stats (shared) against Close freeing h (exclusive)
	h        cabi.Struct_SS_conveyor_retry_handler_s
	handle   func(*Record) error
	panicked atomic.Value // a panic of the handler, re-raised by Run
	stopped  atomic.Bool
}

var retryHandlers registry[*RetryHandler]

func init() {
	cabi.OnRecord = func(handlerID, msg uintptr) (failed bool, reason string) {
		h, ok := retryHandlers.get(handlerID)
		if !ok || h.handle == nil {
			return true, "no handler"
		}
		rec := recordFromC(cabi.SwigcptrStruct_SS_conveyor_message_s(msg))
		defer func() {
			if p := recover(); p != nil { // a panic must not unwind through C: stop, re-raise in Run
				h.panicked.Store(p)
				h.Stop()
				failed, reason = true, "handler panicked"
			}
		}()
		if err := h.handle(rec); err != nil {
			return true, err.Error()
		}
		return false, ""
	}
}

// NewRetryHandler creates a handler over consumer (subscribed or assigned) and producer
// (writes the dead letters; may be shared). cfg keys: "max.retries" (3), "retry.backoff.ms"
// (100), "retry.backoff.max.ms" (1000), "dead.letter.topic" (""), "dead.letter.topic.suffix"
// (".DLT"), "dead.letter.timeout.ms" (30000), "max.poll.records" (500). Errors:
// ErrInvalidConfig naming the key, ErrClosed.
func NewRetryHandler(consumer *Consumer, producer *Producer, cfg Config) (*RetryHandler, error) {
	if consumer == nil || producer == nil {
		return nil, &Error{Code: ErrLocalInvalidArgument, Name: "LOCAL_INVALID_ARG", Message: "nil consumer or producer"}
	}
	conf, err := cfg.toC()
	if err != nil {
		return nil, err
	}
	defer cabi.Conveyor_config_destroy(conf)
	unlockC := consumer.lock()
	defer unlockC()
	if consumer.h == nil {
		return nil, ErrClosed
	}
	producer.mu.RLock()
	defer producer.mu.RUnlock()
	if producer.h == nil {
		return nil, ErrClosed
	}
	out := cabi.New_retryhandlerpp()
	defer cabi.Delete_retryhandlerpp(out)
	slot := newErrSlot()
	if err := slot.result(cabi.Conveyor_retry_handler_new(consumer.h, producer.h, conf, out, slot.p)); err != nil {
		return nil, err
	}
	h := &RetryHandler{consumer: consumer, producer: producer, h: cabi.Retryhandlerpp_value(out)}
	h.id = retryHandlers.add(h)
	return h, nil
}

// Run handles records until ctx is done (returns ctx.Err() with the counters so far; noticed
// within about 200 ms plus the record in progress; the handler stays usable) or Stop is called
// (returns nil). handle's error fails the attempt (its text becomes
// conveyor.dlt.error); a panic in handle stops the handler and is re-raised by Run. Errors: a
// poll error (e.g. ErrOffsetOutOfRange with auto.offset.reset=none), a dead-letter write that
// failed or was not acknowledged in time (the record is given back, not committed),
// ErrLocalState once stopped, ErrClosed.
func (h *RetryHandler) Run(ctx context.Context, handle func(*Record) error) (RetryStats, error) {
	if handle == nil {
		return RetryStats{}, &Error{Code: ErrLocalInvalidArgument, Name: "LOCAL_INVALID_ARG", Message: "nil handler"}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.h == nil {
		return RetryStats{}, ErrClosed
	}
	if h.stopped.Load() {
		return RetryStats{}, &Error{Code: ErrLocalState, Name: "LOCAL_STATE", Message: "the retry handler was stopped"}
	}
	unlockC := h.consumer.lock() // nothing else uses the consumer meanwhile
	defer unlockC()
	h.producer.mu.RLock()
	defer h.producer.mu.RUnlock()
	if h.consumer.h == nil || h.producer.h == nil {
		return RetryStats{}, ErrClosed
	}
	h.handle = handle
	defer func() { h.handle = nil }()
	var total RetryStats
	counters := make([]int64, 6)
	for {
		slot := newErrSlot()
		err := slot.result(cabi.Cvgo_retry_run(h.h, uint(h.id), pollStepMs, counters, slot.p))
		st := statsFrom(counters)
		total.Records += st.Records
		total.Succeeded += st.Succeeded
		total.Retries += st.Retries
		total.DeadLettered += st.DeadLettered
		total.Commits += st.Commits
		total.CommitFailures += st.CommitFailures
		if p := h.panicked.Load(); p != nil {
			panic(fmt.Sprintf("conveyor: RetryHandler handler panicked: %v", p))
		}
		if ctx.Err() != nil {
			return total, ctx.Err()
		}
		if err != nil {
			var ce *Error
			if errors.As(err, &ce) && ce.Code == ErrLocalState && h.stopped.Load() {
				return total, nil // Stop() during this run
			}
			return total, err
		}
	}
}

// Stop makes Run return after the record in progress; sticky (a later Run fails with
// ErrLocalState). Records polled but not handled are given back. Safe from any goroutine.
func (h *RetryHandler) Stop() {
	h.stopped.Store(true)
	h.life.RLock()
	defer h.life.RUnlock()
	if h.h != nil {
		cabi.Conveyor_retry_handler_stop(h.h)
	}
}

// Stats returns the counters since the handler was created.
func (h *RetryHandler) Stats() RetryStats {
	counters := make([]int64, 6)
	h.life.RLock()
	defer h.life.RUnlock()
	if h.h != nil {
		cabi.Cvgo_retry_stats(h.h, counters)
	}
	return statsFrom(counters)
}

// Close frees the handler (not its consumer or producer). Idempotent; waits for a Run to end,
// so call Stop first when one is in progress.
func (h *RetryHandler) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.life.Lock()
	defer h.life.Unlock()
	if h.h != nil {
		cabi.Conveyor_retry_handler_destroy(h.h)
		h.h = nil
		retryHandlers.remove(h.id)
	}
	return nil
}
