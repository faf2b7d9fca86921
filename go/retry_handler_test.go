package conveyor_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"conveyor.dev/conveyor"
)

func TestRetryHandlerDeadLettersAndCommits(t *testing.T) {
	b := startBroker(t, map[string]string{"group.initial.rebalance.delay.ms": "0", "offsets.topic.num.partitions": "1"})
	ctx := ctxT(t, 60*time.Second)
	bs := b.BootstrapServers()
	a, _ := conveyor.NewAdmin(conveyor.Config{"bootstrap.servers": bs})
	defer a.Close()
	for _, name := range []string{"pay", "pay.DLT"} {
		if err := a.CreateTopic(ctx, name, 1, 1, nil); err != nil {
			t.Fatal(err)
		}
	}
	p, _ := conveyor.NewProducer(conveyor.Config{"bootstrap.servers": bs})
	defer p.Close()
	for i := 0; i < 10; i++ {
		p.Produce(ctx, &conveyor.Record{Topic: "pay", Partition: 0, Key: []byte(fmt.Sprint("k", i)), Value: []byte(fmt.Sprint(i)),
			Headers: []conveyor.Header{{Key: "trace", Value: []byte(fmt.Sprint("t", i))}}}, nil)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	c, _ := conveyor.NewConsumer(conveyor.Config{"bootstrap.servers": bs, "group.id": "payers",
		"auto.offset.reset": "earliest", "enable.auto.commit": "false"})
	defer c.Close()
	if err := c.Subscribe([]string{"pay"}, conveyor.RebalanceListener{}); err != nil {
		t.Fatal(err)
	}
	if _, err := conveyor.NewRetryHandler(c, p, conveyor.Config{"max.retries": "many"}); !errors.Is(err, conveyor.ErrInvalidConfig) ||
		!strings.Contains(err.Error(), "max.retries") {
		t.Fatalf("bad max.retries: %v", err)
	}
	h, err := conveyor.NewRetryHandler(c, p, conveyor.Config{"max.retries": "2", "retry.backoff.ms": "5"})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	calls := map[string]int{}
	handle := func(r *conveyor.Record) error {
		v := string(r.Value)
		calls[v]++
		if v == "3" || v == "7" {
			return fmt.Errorf("cannot pay %s", v)
		}
		return nil
	}
	for h.Stats().Records < 10 && ctx.Err() == nil {
		rctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		if _, err := h.Run(rctx, handle); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatal(err)
		}
		cancel()
	}
	st := h.Stats()
	if st.Records != 10 || st.DeadLettered != 2 || st.Retries != 4 || st.Succeeded != 8 || calls["3"] != 3 {
		t.Fatalf("stats %+v calls %v", st, calls)
	}
	committed, err := c.Committed(ctx, []conveyor.TopicPartition{{Topic: "pay", Partition: 0}})
	if err != nil || committed[0].Offset != 10 {
		t.Fatalf("committed %v %v", committed, err)
	}
	r, _ := conveyor.NewConsumer(conveyor.Config{"bootstrap.servers": bs})
	defer r.Close()
	r.Assign([]conveyor.TopicPartition{{Topic: "pay.DLT", Partition: 0, Offset: conveyor.OffsetBeginning}})
	var dead []*conveyor.Record
	for len(dead) < 2 {
		recs, err := r.PollBatch(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		dead = append(dead, recs...)
	}
	for i, want := range []string{"3", "7"} {
		hdr := map[string]string{}
		for _, hh := range dead[i].Headers {
			hdr[hh.Key] = string(hh.Value)
		}
		if string(dead[i].Value) != want || string(dead[i].Key) != "k"+want || hdr["trace"] != "t"+want ||
			hdr["conveyor.dlt.original.topic"] != "pay" || hdr["conveyor.dlt.original.offset"] != want ||
			hdr["conveyor.dlt.error"] != "cannot pay "+want || hdr["conveyor.dlt.attempts"] != "3" {
			t.Fatalf("dead letter %d: %+v %v", i, dead[i], hdr)
		}
	}
	// Stop from another goroutine ends a Run without a deadline; Stop is sticky.
	go func() { time.Sleep(200 * time.Millisecond); h.Stop() }()
	if _, err := h.Run(context.Background(), handle); err != nil {
		t.Fatalf("Run after Stop: %v", err)
	}
	if _, err := h.Run(ctx, handle); !errors.Is(err, conveyor.ErrLocalState) {
		t.Fatalf("Run after a Stop: %v", err)
	}
}
