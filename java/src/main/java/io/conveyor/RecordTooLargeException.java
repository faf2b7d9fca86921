package io.conveyor;

/**
 * MESSAGE_TOO_LARGE (10): the record exceeds max.request.size or the broker's message.max.bytes.
 * Immutable; thread-safe.
 */
public class RecordTooLargeException extends ConveyorException {
  private static final long serialVersionUID = 1L;

  /**
   * @param errorCode the code
   * @param errorName Kafka's name of the code
   * @param message what happened
   * @param retriable retriable flag
   * @param fatal fatal flag
   */
  public RecordTooLargeException(int errorCode, String errorName, String message, boolean retriable,
      boolean fatal) {
    super(errorCode, errorName, message, retriable, fatal);
  }
}
