package conveyor

import (
	"sync"

	"conveyor.dev/conveyor/internal/cabi"
)

// BrokerConfig configures an embedded broker. Zero values take the embedded defaults: a
// fresh temporary data directory (removed by Close) and PLAINTEXT://127.0.0.1:0 (an
// ephemeral port; BootstrapServers tells which).
type BrokerConfig struct {
	// DataDir is log.dirs: where partitions live. Kept by Close when set here.
	DataDir string
	// Listeners is Kafka's listeners, e.g. "PLAINTEXT://0.0.0.0:9092".
	Listeners string
	// Properties are any other broker properties by their Kafka names
	// (num.partitions, auto.create.topics.enable, log.segment.bytes, ...).
	Properties map[string]string
}

// Broker is a single-node Kafka-compatible broker running on its own threads inside this
// process (conveyor_broker_new). Methods are safe for concurrent use.
type Broker struct {
	mu                 sync.Mutex
	h                  cabi.Struct_SS_conveyor_broker_s
	bootstrap, dataDir string
	port               int
}

// StartBroker starts a broker and returns once it accepts connections. Errors:
// ErrInvalidConfig naming the key, ErrKafkaStorageError (data dir unusable), a network error
// when the listener cannot bind.
func StartBroker(cfg BrokerConfig) (*Broker, error) {
	props := Config{}
	for k, v := range cfg.Properties {
		props[k] = v
	}
	if cfg.DataDir != "" {
		props["log.dirs"] = cfg.DataDir
	}
	if cfg.Listeners != "" {
		props["listeners"] = cfg.Listeners
	}
	conf, err := props.toC()
	if err != nil {
		return nil, err
	}
	defer cabi.Conveyor_config_destroy(conf)
	out := cabi.New_brokerpp()
	defer cabi.Delete_brokerpp(out)
	slot := newErrSlot()
	if err := slot.result(cabi.Conveyor_broker_new(conf, out, slot.p)); err != nil {
		return nil, err
	}
	h := cabi.Brokerpp_value(out)
	return &Broker{h: h, bootstrap: cabi.Conveyor_broker_bootstrap_servers(h),
		dataDir: cabi.Conveyor_broker_data_dir(h), port: cabi.Conveyor_broker_port(h)}, nil
}

// BootstrapServers is "host:port" for bootstrap.servers.
func (b *Broker) BootstrapServers() string { return b.bootstrap }

// Port is the bound TCP port (the real one when the listener asked for port 0).
func (b *Broker) Port() int { return b.port }

// DataDir is the data directory in use.
func (b *Broker) DataDir() string { return b.dataDir }

// Close stops accepting, closes connections, flushes every partition, writes clean-shutdown
// checkpoints and frees the broker. Idempotent; later calls return nil.
func (b *Broker) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.h == nil {
		return nil
	}
	slot := newErrSlot()
	err := slot.result(cabi.Conveyor_broker_stop(b.h, slot.p))
	cabi.Conveyor_broker_destroy(b.h)
	b.h = nil
	return err
}
