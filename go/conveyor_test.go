package conveyor_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"conveyor.dev/conveyor"
)

func startBroker(t *testing.T, props map[string]string) *conveyor.Broker {
	t.Helper()
	b, err := conveyor.StartBroker(conveyor.BrokerConfig{DataDir: filepath.Join(t.TempDir(), "data"), Properties: props})
	if err != nil {
		t.Fatalf("StartBroker: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Broker.Close: %v", err)
		}
	})
	return b
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestBrokerStartsAndServesAdmin(t *testing.T) {
	b := startBroker(t, nil)
	if !strings.HasPrefix(b.BootstrapServers(), "127.0.0.1:") || b.Port() <= 0 {
		t.Fatalf("bootstrap %q port %d", b.BootstrapServers(), b.Port())
	}
	a, err := conveyor.NewAdmin(conveyor.Config{"bootstrap.servers": b.BootstrapServers()})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := ctxT(t, 30*time.Second)
	if err := a.CreateTopic(ctx, "orders", 3, 1, conveyor.Config{"retention.ms": "3600000"}); err != nil {
		t.Fatal(err)
	}
	err = a.CreateTopic(ctx, "orders", 3, 1, nil)
	if !errors.Is(err, conveyor.ErrTopicAlreadyExists) {
		t.Fatalf("second create: %v, want TOPIC_ALREADY_EXISTS", err)
	}
	var ce *conveyor.Error
	if !errors.As(err, &ce) || ce.Code != 36 || ce.Retriable {
		t.Fatalf("error value %#v", ce)
	}
	topics, err := a.DescribeTopics(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if len(topics) != 1 || len(topics[0].Partitions) != 3 || topics[0].TopicID == "" {
		t.Fatalf("describe: %+v", topics)
	}
	if _, err := a.DescribeTopics(ctx, "missing-topic"); !errors.Is(err, conveyor.ErrUnknownTopicOrPartition) {
		t.Fatalf("describe missing: %v", err)
	}
	if err := a.DeleteTopic(ctx, "orders"); err != nil {
		t.Fatal(err)
	}
}

func TestProduceConsumeRoundTrip(t *testing.T) {
	b := startBroker(t, nil)
	ctx := ctxT(t, 60*time.Second)
	a, _ := conveyor.NewAdmin(conveyor.Config{"bootstrap.servers": b.BootstrapServers()})
	defer a.Close()
	if err := a.CreateTopic(ctx, "rt", 2, 1, nil); err != nil {
		t.Fatal(err)
	}
	p, err := conveyor.NewProducer(conveyor.Config{"bootstrap.servers": b.BootstrapServers(), "linger.ms": "5",
		"compression.type": "zstd"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const n = 5000
	var mu sync.Mutex
	delivered, failed := 0, 0
	for i := 0; i < n; i++ {
		rec := &conveyor.Record{Topic: "rt", Partition: conveyor.PartitionAny, Key: []byte(fmt.Sprintf("k%d", i%7)),
			Value: []byte(fmt.Sprintf("v%d", i)), Headers: []conveyor.Header{{Key: "i", Value: []byte(fmt.Sprint(i))}, {Key: "null"}}}
		if err := p.Produce(ctx, rec, func(r *conveyor.Record, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil || r.Offset < 0 {
				failed++
			} else {
				delivered++
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if delivered != n || failed != 0 {
		t.Fatalf("delivered %d failed %d", delivered, failed)
	}
	mu.Unlock()
	// Null and empty are kept apart.
	if _, err := p.Send(ctx, &conveyor.Record{Topic: "rt", Partition: 0, Key: nil, Value: []byte{}}); err != nil {
		t.Fatal(err)
	}

	c, err := conveyor.NewConsumer(conveyor.Config{"bootstrap.servers": b.BootstrapServers(), "auto.offset.reset": "earliest"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Assign([]conveyor.TopicPartition{{Topic: "rt", Partition: 0, Offset: conveyor.OffsetBeginning},
		{Topic: "rt", Partition: 1, Offset: conveyor.OffsetBeginning}}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	keyPartition := map[string]int32{}
	lastOffset := map[int32]int64{0: -1, 1: -1}
	var sawEmpty bool
	for len(seen) < n || !sawEmpty {
		recs, err := c.PollBatch(ctx, 500)
		if err != nil {
			t.Fatalf("poll after %d: %v", len(seen), err)
		}
		for _, r := range recs {
			if r.Offset != lastOffset[r.Partition]+1 {
				t.Fatalf("partition %d offset %d after %d", r.Partition, r.Offset, lastOffset[r.Partition])
			}
			lastOffset[r.Partition] = r.Offset
			if r.Key == nil {
				if r.Value == nil || len(r.Value) != 0 {
					t.Fatalf("empty value came back as %#v", r.Value)
				}
				sawEmpty = true
				continue
			}
			if p0, ok := keyPartition[string(r.Key)]; ok && p0 != r.Partition {
				t.Fatalf("key %s in partitions %d and %d", r.Key, p0, r.Partition)
			}
			keyPartition[string(r.Key)] = r.Partition
			if len(r.Headers) != 2 || r.Headers[0].Key != "i" || r.Headers[1].Value != nil ||
				!bytes.Equal([]byte("v"+string(r.Headers[0].Value)), r.Value) {
				t.Fatalf("record %+v", r)
			}
			seen[string(r.Value)] = true
		}
	}
	low, err := a.ListOffsets(ctx, []conveyor.TopicPartition{{Topic: "rt", Partition: 0}}, conveyor.OffsetEnd)
	if err != nil || low[0].Offset != lastOffset[0]+1 {
		t.Fatalf("ListOffsets end %v %v, last %d", low, err, lastOffset[0])
	}
}

func TestGroupMembersShareAndCommit(t *testing.T) {
	b := startBroker(t, map[string]string{"group.initial.rebalance.delay.ms": "0", "offsets.topic.num.partitions": "3"})
	ctx := ctxT(t, 90*time.Second)
	a, _ := conveyor.NewAdmin(conveyor.Config{"bootstrap.servers": b.BootstrapServers()})
	defer a.Close()
	if err := a.CreateTopic(ctx, "jobs", 4, 1, nil); err != nil {
		t.Fatal(err)
	}
	conf := conveyor.Config{"bootstrap.servers": b.BootstrapServers(), "group.id": "workers",
		"auto.offset.reset": "earliest", "enable.auto.commit": "false", "heartbeat.interval.ms": "200",
		"session.timeout.ms": "6000", "partition.assignment.strategy": "range"}
	var mu sync.Mutex
	assigned := map[int][]conveyor.TopicPartition{}
	members := make([]*conveyor.Consumer, 2)
	for i := range members {
		c, err := conveyor.NewConsumer(conf)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		i := i
		if err := c.Subscribe([]string{"jobs"}, conveyor.RebalanceListener{
			Assigned: func(_ *conveyor.Consumer, parts []conveyor.TopicPartition) {
				mu.Lock()
				assigned[i] = append(assigned[i], parts...)
				mu.Unlock()
			},
			Revoked: func(_ *conveyor.Consumer, parts []conveyor.TopicPartition) {
				mu.Lock()
				assigned[i] = nil
				mu.Unlock()
			},
		}); err != nil {
			t.Fatal(err)
		}
		members[i] = c
	}
	// Poll until the group is stable with two partitions each.
	for {
		for _, c := range members {
			pctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			if _, err := c.PollBatch(pctx, 10); err != nil && !errors.Is(err, context.DeadlineExceeded) {
				t.Fatal(err)
			}
			cancel()
		}
		mu.Lock()
		done := len(assigned[0]) == 2 && len(assigned[1]) == 2
		mu.Unlock()
		if done {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("group not stable: %v", assigned)
		}
	}
	p, _ := conveyor.NewProducer(conveyor.Config{"bootstrap.servers": b.BootstrapServers()})
	defer p.Close()
	const n = 400
	for i := 0; i < n; i++ {
		if err := p.Produce(ctx, &conveyor.Record{Topic: "jobs", Partition: conveyor.PartitionAny,
			Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprint(i))}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var got []string
	perMember := [2]int{}
	for len(got) < n {
		for i, c := range members {
			pctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			recs, err := c.PollBatch(pctx, 100)
			cancel()
			if err != nil && !errors.Is(err, context.DeadlineExceeded) {
				t.Fatal(err)
			}
			for _, r := range recs {
				got = append(got, string(r.Value))
				perMember[i]++
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d", len(got), n)
		}
	}
	sort.Strings(got)
	for i := 1; i < len(got); i++ {
		if got[i] == got[i-1] {
			t.Fatalf("record %s read twice", got[i])
		}
	}
	if perMember[0] == 0 || perMember[1] == 0 {
		t.Fatalf("one member got nothing: %v", perMember)
	}
	for _, c := range members {
		if err := c.CommitSync(ctx, nil); err != nil {
			t.Fatal(err)
		}
		id, gen := c.MemberID()
		if id == "" || gen < 1 {
			t.Fatalf("member %q generation %d", id, gen)
		}
	}
	committed, err := members[0].Committed(ctx, []conveyor.TopicPartition{{Topic: "jobs", Partition: 0},
		{Topic: "jobs", Partition: 1}, {Topic: "jobs", Partition: 2}, {Topic: "jobs", Partition: 3}})
	if err != nil {
		t.Fatal(err)
	}
	total := int64(0)
	for _, tp := range committed {
		total += tp.Offset
	}
	if total != n {
		t.Fatalf("committed offsets sum to %d, want %d: %v", total, n, committed)
	}
}

func TestPollCancelAndWakeup(t *testing.T) {
	b := startBroker(t, nil)
	c, err := conveyor.NewConsumer(conveyor.Config{"bootstrap.servers": b.BootstrapServers()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Assign([]conveyor.TopicPartition{{Topic: "idle", Partition: 0, Offset: conveyor.OffsetEnd}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	start := time.Now()
	rec, err := c.Poll(ctx)
	if rec != nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled poll: %v %v", rec, err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("cancel took %v", time.Since(start))
	}
	go func() { time.Sleep(100 * time.Millisecond); c.Wakeup() }()
	rec, err = c.Poll(context.Background())
	if rec != nil || err != nil {
		t.Fatalf("woken poll: %v %v", rec, err)
	}
}

func TestBadInputIsAnErrorNotACrash(t *testing.T) {
	_, err := conveyor.NewProducer(conveyor.Config{"bootstrap.servers": "127.0.0.1:1", "lingr.ms": "5"})
	if !errors.Is(err, conveyor.ErrInvalidConfig) || !strings.Contains(err.Error(), "lingr.ms") {
		t.Fatalf("unknown key: %v", err)
	}
	_, err = conveyor.NewConsumer(conveyor.Config{"bootstrap.servers": "127.0.0.1:1", "fetch.max.wait.ms": "soon"})
	if !errors.Is(err, conveyor.ErrInvalidConfig) || !strings.Contains(err.Error(), "fetch.max.wait.ms") {
		t.Fatalf("bad value: %v", err)
	}
	_, err = conveyor.StartBroker(conveyor.BrokerConfig{Properties: map[string]string{"num.partitions": "-3"}})
	if !errors.Is(err, conveyor.ErrInvalidConfig) || !strings.Contains(err.Error(), "num.partitions") {
		t.Fatalf("bad broker value: %v", err)
	}
	b := startBroker(t, nil)
	p, err := conveyor.NewProducer(conveyor.Config{"bootstrap.servers": b.BootstrapServers()})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Produce(context.Background(), nil, nil); !errors.Is(err, conveyor.ErrLocalInvalidArgument) {
		t.Fatalf("nil record: %v", err)
	}
	if err := p.Produce(context.Background(), &conveyor.Record{Topic: "", Partition: conveyor.PartitionAny}, nil); err == nil {
		t.Fatal("empty topic accepted")
	}
	p.Close()
	if err := p.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if err := p.Produce(context.Background(), &conveyor.Record{Topic: "x"}, nil); !errors.Is(err, conveyor.ErrClosed) {
		t.Fatalf("produce after close: %v", err)
	}
	c, _ := conveyor.NewConsumer(conveyor.Config{"bootstrap.servers": b.BootstrapServers()})
	c.Close()
	if _, err := c.Poll(context.Background()); !errors.Is(err, conveyor.ErrClosed) {
		t.Fatalf("poll after close: %v", err)
	}
	c.Wakeup() // after close: no effect, no crash
	if err := c.Subscribe([]string{"x"}, conveyor.RebalanceListener{}); !errors.Is(err, conveyor.ErrClosed) {
		t.Fatalf("subscribe after close: %v", err)
	}
}

func TestDataDirRecoverableAfterRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	b, err := conveyor.StartBroker(conveyor.BrokerConfig{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t, 30*time.Second)
	p, _ := conveyor.NewProducer(conveyor.Config{"bootstrap.servers": b.BootstrapServers()})
	for i := 0; i < 100; i++ {
		if _, err := p.Send(ctx, &conveyor.Record{Topic: "keep", Partition: 0, Value: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	p.Close()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "keep-0")); err != nil {
		t.Fatalf("partition directory: %v", err)
	}
	b2 := startBroker2(t, dir)
	a, _ := conveyor.NewAdmin(conveyor.Config{"bootstrap.servers": b2.BootstrapServers()})
	defer a.Close()
	end, err := a.ListOffsets(ctx, []conveyor.TopicPartition{{Topic: "keep", Partition: 0}}, conveyor.OffsetEnd)
	if err != nil || end[0].Offset != 100 {
		t.Fatalf("after restart: %v %v", end, err)
	}
}

func startBroker2(t *testing.T, dir string) *conveyor.Broker {
	b, err := conveyor.StartBroker(conveyor.BrokerConfig{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestProduceBatchMixedTopicsHeadersAndNulls(t *testing.T) {
	b := startBroker(t, nil)
	ctx := ctxT(t, 60*time.Second)
	p, err := conveyor.NewProducer(conveyor.Config{"bootstrap.servers": b.BootstrapServers()})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var recs []*conveyor.Record
	for i := 0; i < 300; i++ {
		r := &conveyor.Record{Topic: []string{"ba", "bb"}[(i/50)%2], Partition: 0, Value: []byte(fmt.Sprint(i))}
		if i%3 == 0 {
			r.Key = []byte{}
		} else if i%3 == 1 {
			r.Key = []byte(fmt.Sprint("k", i))
		}
		if i%7 == 0 {
			r.Headers = []conveyor.Header{{Key: "h", Value: []byte("x")}}
		}
		if i == 299 {
			r.Value = nil
		}
		recs = append(recs, r)
	}
	var mu sync.Mutex
	reported := map[*conveyor.Record]error{}
	n, err := p.ProduceBatch(ctx, recs, func(r *conveyor.Record, err error) {
		mu.Lock()
		reported[r] = err
		mu.Unlock()
	})
	if err != nil || n != len(recs) {
		t.Fatalf("ProduceBatch queued %d: %v", n, err)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if len(reported) != len(recs) {
		t.Fatalf("%d reports for %d records", len(reported), len(recs))
	}
	for r, err := range reported {
		if err != nil || r.Offset < 0 {
			t.Fatalf("record %s: offset %d err %v", r.Value, r.Offset, err)
		}
	}
	c, _ := conveyor.NewConsumer(conveyor.Config{"bootstrap.servers": b.BootstrapServers()})
	defer c.Close()
	c.Assign([]conveyor.TopicPartition{{Topic: "ba", Partition: 0, Offset: conveyor.OffsetBeginning},
		{Topic: "bb", Partition: 0, Offset: conveyor.OffsetBeginning}})
	byValue := map[string]*conveyor.Record{}
	var tombstone *conveyor.Record
	for len(byValue)+btoi(tombstone != nil) < len(recs) {
		got, err := c.PollBatch(ctx, 500)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range got {
			if r.Value == nil {
				tombstone = r
				continue
			}
			byValue[string(r.Value)] = r
		}
	}
	for i, want := range recs[:299] {
		got := byValue[fmt.Sprint(i)]
		if got == nil || got.Topic != want.Topic || !bytes.Equal(got.Key, want.Key) || (got.Key == nil) != (want.Key == nil) ||
			len(got.Headers) != len(want.Headers) {
			t.Fatalf("record %d: got %+v want %+v", i, got, want)
		}
	}
	// Record 299: topic (299/50)%2 = 1 -> "bb", key 299%3 = 2 -> null, value nil.
	if tombstone.Topic != "bb" || tombstone.Key != nil {
		t.Fatalf("tombstone %+v", tombstone)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestAdminGroupsLagResetDelete(t *testing.T) {
	b := startBroker(t, map[string]string{"group.initial.rebalance.delay.ms": "0", "offsets.topic.num.partitions": "3"})
	ctx := ctxT(t, 60*time.Second)
	bs := b.BootstrapServers()
	a, _ := conveyor.NewAdmin(conveyor.Config{"bootstrap.servers": bs})
	defer a.Close()
	if err := a.CreateTopic(ctx, "lagged", 2, 1, nil); err != nil {
		t.Fatal(err)
	}
	p, _ := conveyor.NewProducer(conveyor.Config{"bootstrap.servers": bs})
	for i := 0; i < 20; i++ {
		p.Produce(ctx, &conveyor.Record{Topic: "lagged", Partition: int32(i % 2), Value: []byte("x")}, nil)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	p.Close()
	c, _ := conveyor.NewConsumer(conveyor.Config{"bootstrap.servers": bs, "group.id": "lag-group", "client.id": "go-member",
		"auto.offset.reset": "earliest", "enable.auto.commit": "false"})
	if err := c.Subscribe([]string{"lagged"}, conveyor.RebalanceListener{}); err != nil {
		t.Fatal(err)
	}
	read := 0
	for read < 15 {
		recs, err := c.PollBatch(ctx, 15-read)
		if err != nil {
			t.Fatal(err)
		}
		read += len(recs)
	}
	if err := c.CommitSync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	lag, err := a.GroupLag(ctx, "lag-group")
	if err != nil {
		t.Fatal(err)
	}
	if lag.Group.State != "Stable" || len(lag.Group.Members) != 1 || lag.Group.Members[0].ClientID != "go-member" ||
		len(lag.Group.Members[0].Assignment) != 2 || len(lag.Partitions) != 2 || lag.TotalLag() != 5 {
		t.Fatalf("lag %+v", lag)
	}
	if err := a.AlterGroupOffsets(ctx, "lag-group", []conveyor.TopicPartition{{Topic: "lagged", Partition: 0, Offset: 0}}); !errors.Is(err, conveyor.ErrNonEmptyGroup) {
		t.Fatalf("reset with members: %v", err)
	}
	if err := a.DeleteGroup(ctx, "lag-group"); !errors.Is(err, conveyor.ErrNonEmptyGroup) {
		t.Fatalf("delete with members: %v", err)
	}
	c.Close()
	groups, err := a.ListGroups(ctx)
	if err != nil || len(groups) != 1 || groups[0].GroupID != "lag-group" || groups[0].State != "Empty" {
		t.Fatalf("groups %+v %v", groups, err)
	}
	if err := a.AlterGroupOffsets(ctx, "lag-group", []conveyor.TopicPartition{{Topic: "lagged", Partition: 0, Offset: 1},
		{Topic: "lagged", Partition: 1, Offset: 2}}); err != nil {
		t.Fatal(err)
	}
	offs, err := a.ListGroupOffsets(ctx, "lag-group", nil)
	if err != nil || len(offs) != 2 || offs[0].Offset != 1 || offs[1].Offset != 2 {
		t.Fatalf("offsets %+v %v", offs, err)
	}
	if err := a.DeleteGroup(ctx, "lag-group"); err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteGroup(ctx, "lag-group"); !errors.Is(err, conveyor.ErrGroupIDNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
}

// A rebalance listener may call the consumer it belongs to (Java's
// ConsumerRebalanceListener commits in onPartitionsRevoked): no deadlock.
func TestListenerCallsTheConsumer(t *testing.T) {
	b := startBroker(t, map[string]string{"group.initial.rebalance.delay.ms": "0", "offsets.topic.num.partitions": "1"})
	ctx := ctxT(t, 60*time.Second)
	p, _ := conveyor.NewProducer(conveyor.Config{"bootstrap.servers": b.BootstrapServers()})
	for i := 0; i < 10; i++ {
		p.Produce(ctx, &conveyor.Record{Topic: "lst", Partition: 0, Value: []byte("x")}, nil)
	}
	p.Flush(ctx)
	p.Close()
	c, _ := conveyor.NewConsumer(conveyor.Config{"bootstrap.servers": b.BootstrapServers(), "group.id": "lst",
		"auto.offset.reset": "earliest", "enable.auto.commit": "false"})
	var positions []int64
	var revokeErr error
	revoked := false
	err := c.Subscribe([]string{"lst"}, conveyor.RebalanceListener{
		Assigned: func(c *conveyor.Consumer, parts []conveyor.TopicPartition) {
			for _, tp := range parts {
				if err := c.Seek(conveyor.TopicPartition{Topic: tp.Topic, Partition: tp.Partition, Offset: 4}); err != nil {
					t.Errorf("Seek in Assigned: %v", err)
				}
				pos, err := c.Position(tp.Topic, tp.Partition)
				if err != nil {
					t.Errorf("Position in Assigned: %v", err)
				}
				positions = append(positions, pos)
			}
			if err := c.Close(); err == nil {
				t.Errorf("Close inside a callback was accepted")
			}
		},
		Revoked: func(c *conveyor.Consumer, parts []conveyor.TopicPartition) {
			revoked = true
			revokeErr = c.CommitSync(ctx, nil)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for got < 6 {
		recs, err := c.PollBatch(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if got == 0 && r.Offset != 4 {
				t.Fatalf("first record at %d after Seek(4) in Assigned", r.Offset)
			}
			got++
		}
	}
	if len(positions) != 1 || positions[0] != 4 {
		t.Fatalf("positions %v", positions)
	}
	if err := c.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	if !revoked || revokeErr != nil {
		t.Fatalf("revoked %v, commit inside Revoked: %v", revoked, revokeErr)
	}
	committed, err := c.Committed(ctx, []conveyor.TopicPartition{{Topic: "lst", Partition: 0}})
	if err != nil || committed[0].Offset != 10 {
		t.Fatalf("committed %v %v", committed, err)
	}
	c.Close()
}
