// The Go side of tests/interop/test_cross_language.py: two consumers of conveyor's Go binding
// in one consumer group (goroutines of this process) read a topic until they have seen
// EXPECT records between them; each delivery prints "go <value>"; offsets are committed as
// they go.
//
//	go run . BOOTSTRAP GROUP TOPIC EXPECT
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"conveyor.dev/conveyor"
)

func main() {
	bootstrap, group, topic := os.Args[1], os.Args[2], os.Args[3]
	expect, _ := strconv.Atoi(os.Args[4])
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	var seen atomic.Int64
	var out sync.Mutex
	var wg sync.WaitGroup
	for m := 0; m < 2; m++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := conveyor.NewConsumer(conveyor.Config{"bootstrap.servers": bootstrap, "group.id": group,
				"auto.offset.reset": "earliest", "enable.auto.commit": "false"})
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return
			}
			defer c.Close()
			if err := c.Subscribe([]string{topic}, conveyor.RebalanceListener{}); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return
			}
			for seen.Load() < int64(expect) && ctx.Err() == nil {
				pctx, pcancel := context.WithTimeout(ctx, 200*time.Millisecond)
				recs, err := c.PollBatch(pctx, 500)
				pcancel()
				if err != nil && !errors.Is(err, context.DeadlineExceeded) {
					fmt.Fprintln(os.Stderr, err)
					return
				}
				out.Lock()
				for _, r := range recs {
					fmt.Printf("go %s\n", r.Value)
				}
				out.Unlock()
				seen.Add(int64(len(recs)))
				if len(recs) > 0 {
					if err := c.CommitSync(ctx, nil); err != nil {
						fmt.Fprintln(os.Stderr, "commit:", err)
					}
				}
			}
		}()
	}
	wg.Wait()
	if seen.Load() < int64(expect) {
		os.Exit(1)
	}
}
