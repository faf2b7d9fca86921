package io.conveyor;

import io.conveyor.internal.ConveyorNative;
import io.conveyor.internal.NativeLibrary;
import java.util.Map;

/** Turns a {@code Map<String,String>} of Kafka properties into a native config. Internal. */
final class NativeConfig implements AutoCloseable {
  static {
    NativeLibrary.load();
  }

  final long handle;

  /**
   * @throws NullPointerException for a null map, key or value (naming the key)
   * @throws InvalidConfigException for an unknown key or a value that does not parse
   */
  NativeConfig(Map<String, String> config, String what) {
    if (config == null) throw new NullPointerException(what + " config must not be null");
    long h = ConveyorNative.conveyor_config_new();
    try {
      for (Map.Entry<String, String> e : config.entrySet()) {
        if (e.getKey() == null) throw new NullPointerException(what + " config has a null key");
        if (e.getValue() == null) {
          throw new NullPointerException(what + " config key \"" + e.getKey() + "\" has a null value");
        }
        ConveyorNative.conveyor_config_set(h, e.getKey(), e.getValue());
      }
    } catch (RuntimeException ex) {
      ConveyorNative.conveyor_config_destroy(h);
      throw ex;
    }
    handle = h;
  }

  @Override
  public void close() {
    ConveyorNative.conveyor_config_destroy(handle);
  }

  static int timeoutMs(java.time.Duration d) {
    if (d == null) throw new NullPointerException("timeout must not be null");
    if (d.isNegative()) throw new IllegalArgumentException("timeout must not be negative: " + d);
    long ms = d.toMillis();
    return ms > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) ms;
  }
}
