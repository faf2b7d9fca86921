// Go producer throughput (issue 4 "Speed"): 100-byte records, acks=1, no compression, to
// partition 0 of a fresh topic on a broker embedded in this process — the same shape as
// `conveyor_produce_consume_bench --mode=produce`, so the two give the binding's ratio.
//
//	go run . [-records 1000000] [-size 100] [-runs 3] [-callbacks=true]
//
// Prints one line per run and the median records/s.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime/pprof"
	"sort"
	"sync/atomic"
	"syscall"
	"time"

	"conveyor.dev/conveyor"
)

func main() {
	records := flag.Int("records", 1_000_000, "records per run")
	size := flag.Int("size", 100, "value bytes")
	runs := flag.Int("runs", 3, "runs")
	callbacks := flag.Bool("callbacks", true, "a delivery callback per record (counts errors)")
	batchMode := flag.Int("batch", 0, "records per ProduceBatch call (0: Produce per record)")
	linger := flag.String("linger-ms", "5", "linger.ms")
	batch := flag.String("batch-size", "262144", "batch.size")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile here")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}

	b, err := conveyor.StartBroker(conveyor.BrokerConfig{})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	value := make([]byte, *size)
	var rates, perCPU []float64
	for run := 0; run < *runs; run++ {
		topic := fmt.Sprintf("bench-go-%d", run)
		a, _ := conveyor.NewAdmin(conveyor.Config{"bootstrap.servers": b.BootstrapServers()})
		if err := a.CreateTopic(ctx, topic, 1, 1, nil); err != nil {
			log.Fatal(err)
		}
		a.Close()
		p, err := conveyor.NewProducer(conveyor.Config{"bootstrap.servers": b.BootstrapServers(), "acks": "1",
			"linger.ms": *linger, "batch.size": *batch, "compression.type": "none", "enable.idempotence": "false"})
		if err != nil {
			log.Fatal(err)
		}
		var acked, failed atomic.Int64
		var cb conveyor.DeliveryFunc
		if *callbacks {
			cb = func(r *conveyor.Record, err error) {
				if err != nil {
					failed.Add(1)
				} else {
					acked.Add(1)
				}
			}
		}
		cpu0 := cpuSeconds()
		start := time.Now()
		if *batchMode > 0 {
			recs := make([]*conveyor.Record, 0, *batchMode)
			for i := 0; i < *records; i += len(recs) {
				recs = recs[:0]
				for j := i; j < *records && len(recs) < *batchMode; j++ {
					recs = append(recs, &conveyor.Record{Topic: topic, Partition: 0, Value: value})
				}
				for sent := 0; sent < len(recs); {
					n, err := p.ProduceBatch(ctx, recs[sent:], cb)
					sent += n
					if err == nil {
						continue
					}
					if ce, ok := err.(*conveyor.Error); ok && ce.Code == conveyor.ErrLocalQueueFull {
						time.Sleep(100 * time.Microsecond)
						continue
					}
					log.Fatal(err)
				}
			}
		}
		for i := 0; *batchMode == 0 && i < *records; i++ {
			rec := &conveyor.Record{Topic: topic, Partition: 0, Value: value}
			for {
				err := p.Produce(ctx, rec, cb)
				if err == nil {
					break
				}
				if ce, ok := err.(*conveyor.Error); ok && ce.Code == conveyor.ErrLocalQueueFull {
					time.Sleep(100 * time.Microsecond)
					continue
				}
				log.Fatal(err)
			}
		}
		if err := p.Flush(ctx); err != nil {
			log.Fatal(err)
		}
		secs := time.Since(start).Seconds()
		cpu := cpuSeconds() - cpu0
		p.Close()
		if failed.Load() > 0 || (*callbacks && acked.Load() != int64(*records)) {
			log.Fatalf("acked %d failed %d of %d", acked.Load(), failed.Load(), *records)
		}
		rate := float64(*records) / secs
		rates = append(rates, rate)
		fmt.Printf("run %d: %d records in %.3f s = %.0f records/s, %.0f records per cpu-second\n", run+1, *records, secs,
			rate, float64(*records)/cpu)
		perCPU = append(perCPU, float64(*records)/cpu)
	}
	sort.Float64s(rates)
	sort.Float64s(perCPU)
	fmt.Printf("go producer median: %.0f records/s  %.0f records per cpu-second\n", rates[len(rates)/2],
		perCPU[len(perCPU)/2])
}

// cpuSeconds is this process's user+system CPU time (every thread: Go, the C++ client and the
// embedded broker), the figure that does not depend on what else the machine runs.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
