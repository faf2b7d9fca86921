package io.conveyor;

/**
 * Called once per record with its outcome (Kafka's producer {@code Callback}): metadata on
 * success, or the exception. Runs on the thread completing the record's future: the producer's
 * internal poller thread, or a thread inside {@link Producer#flush()} — never a native thread.
 * It should return quickly.
 */
@FunctionalInterface
public interface Callback {
  /**
   * @param metadata where the record was written, or null on failure
   * @param exception null on success
   */
  void onCompletion(RecordMetadata metadata, Exception exception);
}
