package io.conveyor;

/**
 * INVALID_CONFIG (40): an unknown configuration key or a value that does not parse; the message names the key (Kafka's ConfigException / InvalidConfigurationException).
 * Immutable; thread-safe.
 */
public class InvalidConfigException extends ConveyorException {
  private static final long serialVersionUID = 1L;

  /**
   * @param errorCode the code
   * @param errorName Kafka's name of the code
   * @param message what happened
   * @param retriable retriable flag
   * @param fatal fatal flag
   */
  public InvalidConfigException(int errorCode, String errorName, String message, boolean retriable,
      boolean fatal) {
    super(errorCode, errorName, message, retriable, fatal);
  }
}
