// go-embedded: a Go program that embeds a conveyor broker and serves it on a port, so any
// Kafka client (kcat, confluent-kafka, conveyor's Python client, franz-go) can use it.
//
//	go run . -listen 127.0.0.1:9092 -data /tmp/conveyor-data
//
// It prints "go-embedded broker listening on HOST:PORT" once ready (port 0 picks a free
// one), creates the -topics it is given, and runs until SIGINT/SIGTERM or until -serve-for
// passes; then it closes the broker cleanly and exits 0.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"conveyor.dev/conveyor"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "host:port to serve Kafka clients on (port 0: any free port)")
	data := flag.String("data", "", "data directory (log.dirs); empty: a temporary one, removed at exit")
	topics := flag.String("topics", "", "topics to create, as name:partitions,name:partitions")
	serveFor := flag.Duration("serve-for", 0, "exit after this long (0: until SIGINT/SIGTERM)")
	flag.Parse()

	b, err := conveyor.StartBroker(conveyor.BrokerConfig{DataDir: *data, Listeners: "PLAINTEXT://" + *listen,
		Properties: map[string]string{"group.initial.rebalance.delay.ms": "0"}})
	if err != nil {
		log.Fatalf("start broker: %v", err)
	}
	if *topics != "" {
		if err := createTopics(b.BootstrapServers(), *topics); err != nil {
			b.Close()
			log.Fatalf("create topics: %v", err)
		}
	}
	fmt.Printf("go-embedded broker listening on %s\n", b.BootstrapServers())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *serveFor > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *serveFor)
		defer cancel()
	}
	<-ctx.Done()
	if err := b.Close(); err != nil {
		log.Fatalf("close broker: %v", err)
	}
	fmt.Println("go-embedded broker stopped")
}

func createTopics(bootstrap, spec string) error {
	a, err := conveyor.NewAdmin(conveyor.Config{"bootstrap.servers": bootstrap})
	if err != nil {
		return err
	}
	defer a.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, item := range strings.Split(spec, ",") {
		name, parts, found := strings.Cut(item, ":")
		n := 1
		if found {
			if n, err = strconv.Atoi(parts); err != nil || n < 1 {
				return fmt.Errorf("topic %q: partitions %q is not a positive number", name, parts)
			}
		}
		if err := a.CreateTopic(ctx, name, int32(n), 1, nil); err != nil {
			return fmt.Errorf("topic %q: %w", name, err)
		}
	}
	return nil
}
