package io.conveyor;

import io.conveyor.internal.ConveyorNative;
import java.util.Map;

/**
 * An embedded single-node Kafka-compatible broker running on native threads inside this JVM.
 *
 * <pre>{@code
 * try (Broker broker = new Broker(Map.of("log.dirs", "/tmp/data"))) {
 *   String bootstrap = broker.bootstrapServers(); // "127.0.0.1:40123"
 * }
 * }</pre>
 *
 * <p>Configuration uses Kafka's broker property names ("Broker Configs": {@code listeners},
 * {@code log.dirs}, {@code num.partitions}, {@code auto.create.topics.enable}, ...). Embedded
 * defaults: {@code listeners} unset = {@code PLAINTEXT://127.0.0.1:0} (an ephemeral port);
 * {@code log.dirs} unset = a temporary directory removed again by {@link #close()}. A JVM that
 * exits without {@link #close()} leaves {@code log.dirs} recoverable: the next broker on it
 * recovers the log as after a crash.
 *
 * <p>Thread-safe; {@link #close()} is idempotent.
 */
public final class Broker implements AutoCloseable {
  private long handle;
  private final String bootstrapServers;
  private final String dataDir;
  private final int port;

  /** Starts a broker with every default (ephemeral port, temporary data directory). */
  public Broker() {
    this(Map.of());
  }

  /**
   * Starts a broker and returns once it accepts connections.
   *
   * @param config broker properties (Kafka's names)
   * @throws InvalidConfigException naming the key, for an unknown key or a bad value
   * @throws ConveyorException {@code KAFKA_STORAGE_ERROR} (data dir unusable) or
   *     {@code NETWORK_EXCEPTION} (bind failed)
   */
  public Broker(Map<String, String> config) {
    try (NativeConfig conf = new NativeConfig(config, "broker")) {
      handle = ConveyorNative.cvj_broker_new(conf.handle);
    }
    bootstrapServers = ConveyorNative.conveyor_broker_bootstrap_servers(handle);
    dataDir = ConveyorNative.conveyor_broker_data_dir(handle);
    port = ConveyorNative.conveyor_broker_port(handle);
  }

  /** {@code host:port} for {@code bootstrap.servers}; still answers after close. */
  public String bootstrapServers() { return bootstrapServers; }

  /** The bound TCP port (the real one when the listener asked for port 0). */
  public int port() { return port; }

  /** The data directory ({@code log.dirs}) in use. */
  public String dataDir() { return dataDir; }

  /** True until {@link #close()}. */
  public synchronized boolean isRunning() { return handle != 0; }

  /**
   * Stops accepting, closes connections, flushes every partition and writes clean-shutdown
   * checkpoints, then frees the broker. Idempotent.
   */
  @Override
  public synchronized void close() {
    if (handle == 0) return;
    long h = handle;
    handle = 0;
    try {
      ConveyorNative.conveyor_broker_stop(h);
    } finally {
      ConveyorNative.conveyor_broker_destroy(h);
    }
  }
}
