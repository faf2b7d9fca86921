package conveyor_test

import (
	"context"
	"fmt"
	"time"

	"conveyor.dev/conveyor"
)

// Embed a broker, produce a record and read it back.
func Example() {
	b, err := conveyor.StartBroker(conveyor.BrokerConfig{})
	if err != nil {
		panic(err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	p, err := conveyor.NewProducer(conveyor.Config{"bootstrap.servers": b.BootstrapServers()})
	if err != nil {
		panic(err)
	}
	defer p.Close()
	rec, err := p.Send(ctx, &conveyor.Record{Topic: "orders", Partition: conveyor.PartitionAny,
		Key: []byte("AAPL"), Value: []byte("BUY 100")})
	if err != nil {
		panic(err)
	}
	fmt.Println("delivered to partition", rec.Partition, "offset", rec.Offset)

	c, err := conveyor.NewConsumer(conveyor.Config{"bootstrap.servers": b.BootstrapServers()})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	if err := c.Assign([]conveyor.TopicPartition{{Topic: "orders", Partition: rec.Partition, Offset: conveyor.OffsetBeginning}}); err != nil {
		panic(err)
	}
	got, err := c.Poll(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s %s\n", got.Key, got.Value)
	// Output:
	// delivered to partition 0 offset 0
	// AAPL BUY 100
}

// Consumer groups: members sharing a topic's partitions, committing after processing
// (at-least-once).
func ExampleConsumer_Subscribe() {
	b, _ := conveyor.StartBroker(conveyor.BrokerConfig{Properties: map[string]string{"group.initial.rebalance.delay.ms": "0"}})
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, _ := conveyor.NewProducer(conveyor.Config{"bootstrap.servers": b.BootstrapServers()})
	for i := 0; i < 3; i++ {
		p.Produce(ctx, &conveyor.Record{Topic: "jobs", Partition: 0, Value: []byte(fmt.Sprint("job-", i))}, nil)
	}
	p.Flush(ctx)
	p.Close()

	c, _ := conveyor.NewConsumer(conveyor.Config{"bootstrap.servers": b.BootstrapServers(), "group.id": "workers",
		"auto.offset.reset": "earliest", "enable.auto.commit": "false"})
	defer c.Close()
	c.Subscribe([]string{"jobs"}, conveyor.RebalanceListener{
		Assigned: func(_ *conveyor.Consumer, parts []conveyor.TopicPartition) { fmt.Println("assigned", len(parts)) },
	})
	for n := 0; n < 3; {
		recs, err := c.PollBatch(ctx, 10)
		if err != nil {
			panic(err)
		}
		for _, r := range recs {
			fmt.Println(string(r.Value)) // process, then commit
			n++
		}
	}
	if err := c.CommitSync(ctx, nil); err != nil {
		panic(err)
	}
	// Output:
	// assigned 1
	// job-0
	// job-1
	// job-2
}
