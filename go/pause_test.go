package conveyor_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"conveyor.dev/conveyor"
)

// pollFor polls until d passes, appending records per partition.
func pollFor(t *testing.T, c *conveyor.Consumer, d time.Duration, got map[int32][]*conveyor.Record) {
	t.Helper()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		recs, err := c.PollBatch(ctx, 500)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("PollBatch: %v", err)
		}
		for _, r := range recs {
			got[r.Partition] = append(got[r.Partition], r)
		}
	}
}

// pollUntil polls until partition p has n records or 30 s pass.
func pollUntil(t *testing.T, c *conveyor.Consumer, got map[int32][]*conveyor.Record, p int32, n int) {
	t.Helper()
	end := time.Now().Add(30 * time.Second)
	for len(got[p]) < n && time.Now().Before(end) {
		pollFor(t, c, 50*time.Millisecond, got)
	}
	if len(got[p]) < n {
		t.Fatalf("partition %d: %d records, want %d", p, len(got[p]), n)
	}
}

func checkComplete(t *testing.T, recs []*conveyor.Record, p int32, n int) {
	t.Helper()
	if len(recs) != n {
		t.Fatalf("partition %d: %d records, want %d", p, len(recs), n)
	}
	for i, r := range recs {
		if r.Offset != int64(i) || string(r.Value) != fmt.Sprintf("p%d-%d", p, i) {
			t.Fatalf("partition %d record %d: offset %d value %q", p, i, r.Offset, r.Value)
		}
	}
}

// Kafka's KafkaConsumer.pause/resume/paused: a paused partition yields nothing while another
// keeps delivering; Resume brings its records in order, none lost or repeated; an unassigned
// partition is ErrLocalState naming it and changes nothing.
func TestPauseResumePaused(t *testing.T) {
	b := startBroker(t, nil)
	ctx := ctxT(t, 90*time.Second)
	a, _ := conveyor.NewAdmin(conveyor.Config{"bootstrap.servers": b.BootstrapServers()})
	defer a.Close()
	if err := a.CreateTopic(ctx, "flow", 2, 1, nil); err != nil {
		t.Fatal(err)
	}
	p, err := conveyor.NewProducer(conveyor.Config{"bootstrap.servers": b.BootstrapServers(), "linger.ms": "0"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 100
	for part := int32(0); part < 2; part++ {
		for i := 0; i < n; i++ {
			if err := p.Produce(ctx, &conveyor.Record{Topic: "flow", Partition: part,
				Value: []byte(fmt.Sprintf("p%d-%d", part, i))}, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	p.Close()

	c, err := conveyor.NewConsumer(conveyor.Config{"bootstrap.servers": b.BootstrapServers(),
		"fetch.max.wait.ms": "100", "max.poll.records": "5"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p0 := conveyor.TopicPartition{Topic: "flow", Partition: 0}
	// Not assigned yet: an error naming the partition.
	err = c.Pause([]conveyor.TopicPartition{p0})
	if !errors.Is(err, conveyor.ErrLocalState) || !strings.Contains(err.Error(), "flow-0") {
		t.Fatalf("Pause of an unassigned partition: %v", err)
	}
	if err := c.Assign([]conveyor.TopicPartition{{Topic: "flow", Partition: 0, Offset: conveyor.OffsetBeginning},
		{Topic: "flow", Partition: 1, Offset: conveyor.OffsetBeginning}}); err != nil {
		t.Fatal(err)
	}
	if got := c.Paused(); len(got) != 0 {
		t.Fatalf("Paused before any Pause: %v", got)
	}
	err = c.Pause([]conveyor.TopicPartition{p0, {Topic: "flow", Partition: 7}})
	if !errors.Is(err, conveyor.ErrLocalState) || !strings.Contains(err.Error(), "flow-7") {
		t.Fatalf("Pause with an unassigned partition: %v", err)
	}
	if got := c.Paused(); len(got) != 0 {
		t.Fatalf("a failed Pause changed something: %v", got)
	}

	got := map[int32][]*conveyor.Record{}
	pollUntil(t, c, got, 0, 1)
	if err := c.Pause([]conveyor.TopicPartition{p0}); err != nil {
		t.Fatal(err)
	}
	paused := c.Paused()
	if len(paused) != 1 || paused[0].Topic != "flow" || paused[0].Partition != 0 {
		t.Fatalf("Paused = %v", paused)
	}
	before := len(got[0])
	position := got[0][before-1].Offset + 1
	pollUntil(t, c, got, 1, n)
	pollFor(t, c, time.Second, got)
	if len(got[0]) != before {
		t.Fatalf("%d records of the paused partition", len(got[0])-before)
	}
	if pos, err := c.Position("flow", 0); err != nil || pos != position {
		t.Fatalf("Position of the paused partition = %d, %v; want %d", pos, err, position)
	}
	if err := c.Resume([]conveyor.TopicPartition{p0}); err != nil {
		t.Fatal(err)
	}
	if got := c.Paused(); len(got) != 0 {
		t.Fatalf("Paused after Resume: %v", got)
	}
	pollUntil(t, c, got, 0, n)
	pollFor(t, c, 300*time.Millisecond, got)
	checkComplete(t, got[0], 0, n)
	checkComplete(t, got[1], 1, n)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Pause([]conveyor.TopicPartition{p0}); !errors.Is(err, conveyor.ErrClosed) {
		t.Fatalf("Pause after Close: %v", err)
	}
	if got := c.Paused(); got != nil {
		t.Fatalf("Paused after Close: %v", got)
	}
}

// Pause from a RebalanceListener (the listener may call the consumer), then Resume.
func TestPauseFromListener(t *testing.T) {
	b := startBroker(t, map[string]string{"group.initial.rebalance.delay.ms": "0"})
	ctx := ctxT(t, 90*time.Second)
	a, _ := conveyor.NewAdmin(conveyor.Config{"bootstrap.servers": b.BootstrapServers()})
	defer a.Close()
	if err := a.CreateTopic(ctx, "lp", 2, 1, nil); err != nil {
		t.Fatal(err)
	}
	p, err := conveyor.NewProducer(conveyor.Config{"bootstrap.servers": b.BootstrapServers()})
	if err != nil {
		t.Fatal(err)
	}
	for part := int32(0); part < 2; part++ {
		for i := 0; i < 10; i++ {
			if err := p.Produce(ctx, &conveyor.Record{Topic: "lp", Partition: part,
				Value: []byte(fmt.Sprintf("p%d-%d", part, i))}, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	p.Close()
	c, err := conveyor.NewConsumer(conveyor.Config{"bootstrap.servers": b.BootstrapServers(), "group.id": "lp",
		"auto.offset.reset": "earliest", "session.timeout.ms": "6000", "heartbeat.interval.ms": "300",
		"fetch.max.wait.ms": "100"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var assigned []conveyor.TopicPartition
	var pauseErr error
	err = c.Subscribe([]string{"lp"}, conveyor.RebalanceListener{
		Assigned: func(c *conveyor.Consumer, parts []conveyor.TopicPartition) {
			assigned = append(assigned, parts...)
			pauseErr = c.Pause(parts)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[int32][]*conveyor.Record{}
	end := time.Now().Add(40 * time.Second)
	for len(assigned) < 2 && time.Now().Before(end) {
		pollFor(t, c, 100*time.Millisecond, got)
	}
	if len(assigned) != 2 || pauseErr != nil {
		t.Fatalf("assigned %v, Pause in the listener: %v", assigned, pauseErr)
	}
	pollFor(t, c, 1500*time.Millisecond, got)
	if len(got) != 0 {
		t.Fatalf("records while every partition is paused: %d partitions", len(got))
	}
	names := func(tps []conveyor.TopicPartition) []string {
		var out []string
		for _, tp := range tps {
			out = append(out, fmt.Sprintf("%s-%d", tp.Topic, tp.Partition))
		}
		return out
	}
	if want := []string{"lp-0", "lp-1"}; !reflect.DeepEqual(names(c.Paused()), want) {
		t.Fatalf("Paused = %v, want %v", names(c.Paused()), want)
	}
	if err := c.Resume(c.Paused()); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, c, got, 0, 10)
	pollUntil(t, c, got, 1, 10)
	checkComplete(t, got[0], 0, 10)
	checkComplete(t, got[1], 1, 10)
}
