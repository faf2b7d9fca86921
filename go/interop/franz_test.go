// Package interop runs franz-go (github.com/twmb/franz-go/pkg/kgo), a pure-Go Kafka client,
// against a conveyor broker embedded through the Go binding. It is its own module so the
// public package does not depend on franz-go.
package interop

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"conveyor.dev/conveyor"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func embedded(t *testing.T) *conveyor.Broker {
	t.Helper()
	b, err := conveyor.StartBroker(conveyor.BrokerConfig{DataDir: filepath.Join(t.TempDir(), "data"),
		Properties: map[string]string{"group.initial.rebalance.delay.ms": "0", "offsets.topic.num.partitions": "5"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// franz-go's defaults: idempotent producer, acks=all, snappy? (no: none), its own sticky
// partitioner. Produce 3,000 records, then two group members (cooperative-sticky, franz-go's
// default balancer) read each exactly once and commit; a third client sees the commits.
func TestFranzGoProduceGroupConsumeCommit(t *testing.T) {
	b := embedded(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	seeds := kgo.SeedBrokers(b.BootstrapServers())

	adm, err := kgo.NewClient(seeds)
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	admin := kadm.NewClient(adm)
	if _, err := admin.CreateTopic(ctx, 4, 1, nil, "franz"); err != nil {
		t.Fatalf("CreateTopic: %v", err)
	}

	prod, err := kgo.NewClient(seeds, kgo.ProducerBatchCompression(kgo.Lz4Compression()))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	const n = 3000
	var wg sync.WaitGroup
	var mu sync.Mutex
	var produceErrs []error
	for i := 0; i < n; i++ {
		wg.Add(1)
		prod.Produce(ctx, &kgo.Record{Topic: "franz", Key: []byte(strconv.Itoa(i % 50)), Value: []byte(strconv.Itoa(i))},
			func(r *kgo.Record, err error) {
				defer wg.Done()
				if err != nil {
					mu.Lock()
					produceErrs = append(produceErrs, err)
					mu.Unlock()
				}
			})
	}
	wg.Wait()
	if len(produceErrs) > 0 {
		t.Fatalf("%d produce errors, first %v", len(produceErrs), produceErrs[0])
	}

	seen := map[string]int{}
	members := make([]*kgo.Client, 2)
	for i := range members {
		c, err := kgo.NewClient(seeds, kgo.ConsumerGroup("franz-group"), kgo.ConsumeTopics("franz"),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit(),
			kgo.HeartbeatInterval(300*time.Millisecond), kgo.SessionTimeout(6*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		members[i] = c
	}
	for total := 0; total < n; {
		for _, c := range members {
			pctx, pcancel := context.WithTimeout(ctx, 200*time.Millisecond)
			fetches := c.PollFetches(pctx)
			pcancel()
			fetches.EachError(func(topic string, p int32, err error) {
				if ctx.Err() == nil && err != context.DeadlineExceeded {
					t.Errorf("fetch %s-%d: %v", topic, p, err)
				}
			})
			fetches.EachRecord(func(r *kgo.Record) {
				seen[string(r.Value)]++
				total++
			})
			if err := c.CommitUncommittedOffsets(ctx); err != nil {
				t.Fatalf("commit: %v", err)
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d", total, n)
		}
	}
	for v, count := range seen {
		if count != 1 {
			t.Fatalf("record %s read %d times", v, count)
		}
	}
	if len(seen) != n {
		t.Fatalf("distinct records %d, want %d", len(seen), n)
	}

	offsets, err := admin.FetchOffsets(ctx, "franz-group")
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	offsets.Each(func(o kadm.OffsetResponse) {
		if o.Err != nil {
			t.Errorf("offset %s-%d: %v", o.Topic, o.Partition, o.Err)
		}
		sum += o.At
	})
	if sum != n {
		t.Fatalf("committed offsets sum %d, want %d", sum, n)
	}
	// conveyor's Go consumer in the same group sees franz-go's commits.
	c, err := conveyor.NewConsumer(conveyor.Config{"bootstrap.servers": b.BootstrapServers(), "group.id": "franz-group"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	parts := make([]conveyor.TopicPartition, 4)
	for i := range parts {
		parts[i] = conveyor.TopicPartition{Topic: "franz", Partition: int32(i)}
	}
	committed, err := c.Committed(ctx, parts)
	if err != nil {
		t.Fatal(err)
	}
	var sum2 int64
	for _, tp := range committed {
		sum2 += tp.Offset
	}
	if sum2 != n {
		t.Fatalf("conveyor sees committed sum %d", sum2)
	}
}

// franz-go's admin client lists and describes topics created by conveyor's Go Admin.
func TestFranzGoAdminSeesConveyorTopics(t *testing.T) {
	b := embedded(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a, err := conveyor.NewAdmin(conveyor.Config{"bootstrap.servers": b.BootstrapServers()})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for i := 1; i <= 3; i++ {
		if err := a.CreateTopic(ctx, fmt.Sprintf("t%d", i), int32(i), 1, nil); err != nil {
			t.Fatal(err)
		}
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.BootstrapServers()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	details, err := kadm.NewClient(cl).ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for name, d := range details {
		if d.Err != nil {
			t.Fatalf("%s: %v", name, d.Err)
		}
		names = append(names, fmt.Sprintf("%s/%d", name, len(d.Partitions)))
	}
	sort.Strings(names)
	want := []string{"t1/1", "t2/2", "t3/3"}
	if fmt.Sprint(names) != fmt.Sprint(want) {
		t.Fatalf("franz-go sees %v, want %v", names, want)
	}
}
