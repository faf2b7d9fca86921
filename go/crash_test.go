package conveyor_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"conveyor.dev/conveyor"
)

// A Go process that embeds a broker and exits without closing anything (here: os.Exit right
// after acknowledged writes, and SIGKILL in the middle of producing) leaves a data directory
// the next broker opens with every acknowledged record.
const crashChildEnv = "CONVEYOR_GO_CRASH_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(crashChildEnv); mode != "" {
		crashChild(mode, os.Getenv("CONVEYOR_GO_CRASH_DIR"))
		return
	}
	os.Exit(m.Run())
}

// crashChild produces acknowledged records forever ("kill" mode, printing each acked count) or
// 500 records then exits without closing ("exit" mode).
func crashChild(mode, dir string) {
	b, err := conveyor.StartBroker(conveyor.BrokerConfig{DataDir: dir,
		Properties: map[string]string{"log.flush.interval.messages": "1"}})
	if err != nil {
		fmt.Println("start:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	p, err := conveyor.NewProducer(conveyor.Config{"bootstrap.servers": b.BootstrapServers(), "linger.ms": "0"})
	if err != nil {
		os.Exit(2)
	}
	for i := 0; mode == "kill" || i < 500; i++ {
		if _, err := p.Send(ctx, &conveyor.Record{Topic: "crash", Partition: 0, Value: []byte(fmt.Sprint(i))}); err != nil {
			fmt.Println("send:", err)
			os.Exit(2)
		}
		fmt.Println("acked", i+1)
	}
	os.Exit(0) // no Close on anything
}

func runChild(t *testing.T, mode, dir string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+mode, "CONVEYOR_GO_CRASH_DIR="+dir)
	return cmd
}

func endOffset(t *testing.T, dir string) (int64, []string) {
	t.Helper()
	b, err := conveyor.StartBroker(conveyor.BrokerConfig{DataDir: dir})
	if err != nil {
		t.Fatalf("restart on the crashed data dir: %v", err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _ := conveyor.NewConsumer(conveyor.Config{"bootstrap.servers": b.BootstrapServers()})
	defer c.Close()
	a, _ := conveyor.NewAdmin(conveyor.Config{"bootstrap.servers": b.BootstrapServers()})
	defer a.Close()
	end, err := a.ListOffsets(ctx, []conveyor.TopicPartition{{Topic: "crash", Partition: 0}}, conveyor.OffsetEnd)
	if err != nil {
		t.Fatal(err)
	}
	c.Assign([]conveyor.TopicPartition{{Topic: "crash", Partition: 0, Offset: conveyor.OffsetBeginning}})
	var values []string
	for int64(len(values)) < end[0].Offset {
		recs, err := c.PollBatch(ctx, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			values = append(values, string(r.Value))
		}
	}
	return end[0].Offset, values
}

func TestExitWithoutCloseKeepsAcknowledgedRecords(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	out, err := runChild(t, "exit", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	end, values := endOffset(t, dir)
	if end != 500 {
		t.Fatalf("end offset %d after 500 acknowledged records", end)
	}
	for i, v := range values {
		if v != fmt.Sprint(i) {
			t.Fatalf("offset %d holds %q", i, v)
		}
	}
}

func TestSigkillMidProduceKeepsAcknowledgedRecords(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cmd := runChild(t, "kill", dir)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := 0
	buf := make([]byte, 1<<16)
	var line []byte
	for acked < 300 {
		n, err := stdout.Read(buf)
		if err != nil {
			t.Fatalf("child stopped after %d acks: %v", acked, err)
		}
		for _, ch := range buf[:n] {
			if ch == '\n' {
				fmt.Sscanf(string(line), "acked %d", &acked)
				line = line[:0]
			} else {
				line = append(line, ch)
			}
		}
	}
	cmd.Process.Kill() // SIGKILL: no cleanup of any kind
	cmd.Wait()
	end, values := endOffset(t, dir)
	if end < int64(acked) {
		t.Fatalf("end offset %d but %d records were acknowledged", end, acked)
	}
	for i, v := range values {
		if v != fmt.Sprint(i) {
			t.Fatalf("offset %d holds %q", i, v)
		}
	}
}
