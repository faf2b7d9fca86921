package io.conveyor;

/**
 * An error reported by conveyor: a Kafka error code (positive, protocol guide "Error Codes"),
 * a local client code (negative, e.g. -185 {@code _TIMED_OUT}) with Kafka's upper-case name,
 * and a message naming what went wrong (e.g. the config key).
 *
 * <p>Unchecked, like Kafka's {@code org.apache.kafka.common.KafkaException}. Subclasses mirror
 * the Kafka exceptions for the common codes ({@link InvalidConfigException},
 * {@link TimeoutException}, {@link UnknownTopicOrPartitionException},
 * {@link TopicExistsException}, {@link RecordTooLargeException},
 * {@link OffsetOutOfRangeException}); {@link #isRetriable()} tells whether Kafka marks the code
 * as a {@code RetriableException}. Immutable; thread-safe.
 */
public class ConveyorException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int errorCode;
  private final String errorName;
  private final boolean retriable;
  private final boolean fatal;

  /**
   * @param errorCode Kafka or local error code
   * @param errorName Kafka's name of the code, e.g. {@code UNKNOWN_TOPIC_OR_PARTITION}
   * @param message what happened
   * @param retriable whether retrying the operation may succeed
   * @param fatal whether the client that raised it is unusable from now on
   */
  public ConveyorException(int errorCode, String errorName, String message, boolean retriable,
                           boolean fatal) {
    super(errorName + ": " + message);
    this.errorCode = errorCode;
    this.errorName = errorName;
    this.retriable = retriable;
    this.fatal = fatal;
  }

  /** The Kafka error code (positive) or local code (negative). */
  public int errorCode() { return errorCode; }

  /** Kafka's upper-case name of {@link #errorCode()}, e.g. {@code INVALID_CONFIG}. */
  public String errorName() { return errorName; }

  /** True if retrying the same operation may succeed (Kafka's {@code RetriableException}). */
  public boolean isRetriable() { return retriable; }

  /** True if the client that raised it can no longer be used (e.g. a fenced producer). */
  public boolean isFatal() { return fatal; }

  /**
   * Builds the exception for a native error; called by the JNI layer.
   *
   * @param code error code
   * @param name Kafka's name for it
   * @param message the native message
   * @param retriable retriable flag
   * @param fatal fatal flag
   * @return the most specific subclass for the code
   */
  public static ConveyorException fromNative(int code, String name, String message,
                                             boolean retriable, boolean fatal) {
    switch (code) {
      case 40: return new InvalidConfigException(code, name, message, retriable, fatal);
      case -185: case 7:
        return new TimeoutException(code, name, message, retriable, fatal);
      case 3: return new UnknownTopicOrPartitionException(code, name, message, retriable, fatal);
      case 36: return new TopicExistsException(code, name, message, retriable, fatal);
      case 10: return new RecordTooLargeException(code, name, message, retriable, fatal);
      case 1: return new OffsetOutOfRangeException(code, name, message, retriable, fatal);
      default: return new ConveyorException(code, name, message, retriable, fatal);
    }
  }

  static ConveyorException forCode(int code, String message) {
    String name = io.conveyor.internal.ConveyorNative.conveyor_err_name(code);
    boolean retriable = io.conveyor.internal.ConveyorNative.conveyor_err_retriable(code) != 0;
    return fromNative(code, name, message, retriable, false);
  }
}
