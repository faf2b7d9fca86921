package io.conveyor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The records one {@link Consumer#poll} returned, in fetch order (Kafka's
 * {@code ConsumerRecords}). Immutable; iterable.
 */
public final class ConsumerRecords implements Iterable<ConsumerRecord> {
  private final List<ConsumerRecord> records;

  ConsumerRecords(List<ConsumerRecord> records) {
    this.records = Collections.unmodifiableList(records);
  }

  /** Number of records. */
  public int count() { return records.size(); }

  /** True if the poll returned nothing. */
  public boolean isEmpty() { return records.isEmpty(); }

  /** The records as a list. */
  public List<ConsumerRecord> asList() { return records; }

  /** The records of one partition, in offset order. @param tp the partition */
  public List<ConsumerRecord> records(TopicPartition tp) {
    List<ConsumerRecord> out = new ArrayList<>();
    for (ConsumerRecord r : records) {
      if (r.partition() == tp.partition() && r.topic().equals(tp.topic())) out.add(r);
    }
    return out;
  }

  /** The partitions that have records in this batch. */
  public Set<TopicPartition> partitions() {
    Set<TopicPartition> out = new TreeSet<>((a, b) -> a.topic().equals(b.topic())
        ? Integer.compare(a.partition(), b.partition()) : a.topic().compareTo(b.topic()));
    for (ConsumerRecord r : records) out.add(r.topicPartition());
    return out;
  }

  @Override
  public Iterator<ConsumerRecord> iterator() { return records.iterator(); }
}
