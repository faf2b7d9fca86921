package io.conveyor;

/**
 * OFFSET_OUT_OF_RANGE (1): the fetch position is outside the log and auto.offset.reset=none.
 * Immutable; thread-safe.
 */
public class OffsetOutOfRangeException extends ConveyorException {
  private static final long serialVersionUID = 1L;

  /**
   * @param errorCode the code
   * @param errorName Kafka's name of the code
   * @param message what happened
   * @param retriable retriable flag
   * @param fatal fatal flag
   */
  public OffsetOutOfRangeException(int errorCode, String errorName, String message, boolean retriable,
      boolean fatal) {
    super(errorCode, errorName, message, retriable, fatal);
  }
}
