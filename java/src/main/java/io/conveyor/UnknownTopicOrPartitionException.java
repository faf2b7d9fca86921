package io.conveyor;

/**
 * UNKNOWN_TOPIC_OR_PARTITION (3): the topic or partition does not exist (retriable in Kafka).
 * Immutable; thread-safe.
 */
public class UnknownTopicOrPartitionException extends ConveyorException {
  private static final long serialVersionUID = 1L;

  /**
   * @param errorCode the code
   * @param errorName Kafka's name of the code
   * @param message what happened
   * @param retriable retriable flag
   * @param fatal fatal flag
   */
  public UnknownTopicOrPartitionException(int errorCode, String errorName, String message, boolean retriable,
      boolean fatal) {
    super(errorCode, errorName, message, retriable, fatal);
  }
}
