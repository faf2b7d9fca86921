package io.conveyor;

/**
 * Thrown by {@link Consumer#poll} (and the next poll, if none was in progress) after
 * {@link Consumer#wakeup()} was called from another thread, like Kafka's
 * {@code org.apache.kafka.common.errors.WakeupException}. Not retriable in itself: the caller
 * usually closes the consumer.
 */
public class WakeupException extends ConveyorException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception. */
  public WakeupException() {
    super(-1, "WAKEUP", "consumer woken up by wakeup()", false, false);
  }
}
