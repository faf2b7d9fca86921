package io.conveyor;

/**
 * The processing of one record by a {@link RetryHandler}: return normally to accept it, throw
 * to fail this attempt (the exception's message becomes the dead letter's
 * {@code conveyor.dlt.error} header). Runs on the thread calling {@link RetryHandler#run}.
 */
@FunctionalInterface
public interface RecordHandler {
  /**
   * @param record the record
   * @throws Exception to fail this attempt
   */
  void handle(ConsumerRecord record) throws Exception;
}
