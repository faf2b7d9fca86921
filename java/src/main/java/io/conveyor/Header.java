package io.conveyor;

import java.util.Objects;

/**
 * A record header (Kafka's {@code org.apache.kafka.common.header.Header}): a UTF-8 key and a
 * value that may be null. Immutable (the value array is not copied: do not modify it).
 *
 * @param key header key, not null
 * @param value header value bytes, or null
 */
public record Header(String key, byte[] value) {
  /** @throws NullPointerException if key is null */
  public Header {
    Objects.requireNonNull(key, "header key must not be null");
  }
}
