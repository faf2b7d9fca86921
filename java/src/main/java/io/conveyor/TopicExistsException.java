package io.conveyor;

/**
 * TOPIC_ALREADY_EXISTS (36): CreateTopics for a topic that exists.
 * Immutable; thread-safe.
 */
public class TopicExistsException extends ConveyorException {
  private static final long serialVersionUID = 1L;

  /**
   * @param errorCode the code
   * @param errorName Kafka's name of the code
   * @param message what happened
   * @param retriable retriable flag
   * @param fatal fatal flag
   */
  public TopicExistsException(int errorCode, String errorName, String message, boolean retriable,
      boolean fatal) {
    super(errorCode, errorName, message, retriable, fatal);
  }
}
