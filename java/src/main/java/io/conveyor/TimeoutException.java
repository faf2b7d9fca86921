package io.conveyor;

/**
 * a local _TIMED_OUT (-185) or REQUEST_TIMED_OUT (7): the call's timeout passed (Kafka's org.apache.kafka.common.errors.TimeoutException; retriable).
 * Immutable; thread-safe.
 */
public class TimeoutException extends ConveyorException {
  private static final long serialVersionUID = 1L;

  /**
   * @param errorCode the code
   * @param errorName Kafka's name of the code
   * @param message what happened
   * @param retriable retriable flag
   * @param fatal fatal flag
   */
  public TimeoutException(int errorCode, String errorName, String message, boolean retriable,
      boolean fatal) {
    super(errorCode, errorName, message, retriable, fatal);
  }
}
