/*
 * conveyor.h — the stable C ABI of conveyor (DESIGN.md §5).
 *
 * Pure C99. Everything here is exported from libconveyor.so; nothing else is. This header is
 * append-only once released: existing declarations never change meaning.
 *
 * Conventions
 * -----------
 * - Handles are opaque. Every constructor (`*_new`) has a matching `*_destroy` that accepts
 *   NULL and does nothing then.
 * - Fallible functions return a conveyor_err_t: CONVEYOR_OK (0) on success, otherwise a Kafka
 *   wire error code (positive, e.g. 3 = UNKNOWN_TOPIC_OR_PARTITION, protocol guide
 *   "Error Codes") or a local client code (negative, CONVEYOR_ERR__*; the values follow
 *   librdkafka's local codes). Their last parameter is `conveyor_error_t **errp`: when it is
 *   non-NULL and the call fails, *errp receives a new error object (code, name, message,
 *   retriable, fatal) that the caller frees with conveyor_error_destroy(); on success *errp
 *   is set to NULL. Passing NULL for errp is always allowed.
 * - A NULL handle or a NULL required pointer fails with CONVEYOR_ERR__INVALID_ARG and a
 *   message naming the argument.
 * - Strings passed in are NUL-terminated UTF-8 and copied; buffers passed in (key, value,
 *   header values) are copied before the call returns. Pointers handed out state how long
 *   they stay valid.
 * - Configuration is string key -> string value with Kafka's property names
 *   (`bootstrap.servers`, `linger.ms`, `compression.type`, `log.dirs`, ...). An unknown key
 *   or a bad value fails with CONVEYOR_ERR_INVALID_CONFIG (40) and a message naming the key.
 * - Callbacks take `void *opaque` last and run only inside conveyor_producer_poll() /
 *   conveyor_producer_flush(), on the thread that called them.
 * - No C++ exception crosses this boundary; an unexpected internal failure becomes
 *   CONVEYOR_ERR__FAIL with its message.
 * - Times are milliseconds: `timeout_ms` (0 = do not block; negative = wait forever where
 *   noted), `timestamp_ms` (Unix epoch milliseconds).
 */
#ifndef CONVEYOR_CONVEYOR_H
#define CONVEYOR_CONVEYOR_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define CONVEYOR_API __declspec(dllexport)
#elif defined(__GNUC__)
#define CONVEYOR_API __attribute__((visibility("default")))
#else
#define CONVEYOR_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------- */
/* Version                                                                                  */
/* ---------------------------------------------------------------------------------------- */

#define CONVEYOR_VERSION_MAJOR 0
#define CONVEYOR_VERSION_MINOR 1
#define CONVEYOR_VERSION_PATCH 0
/* (major << 16) | (minor << 8) | patch, for compile-time comparisons. */
#define CONVEYOR_VERSION_NUMBER \
  ((CONVEYOR_VERSION_MAJOR << 16) | (CONVEYOR_VERSION_MINOR << 8) | CONVEYOR_VERSION_PATCH)

/* The library's version as "MAJOR.MINOR.PATCH" (static storage; thread-safe). It may differ
 * from the CONVEYOR_VERSION_* macros the caller was compiled with. */
CONVEYOR_API const char *conveyor_version(void);

/* ---------------------------------------------------------------------------------------- */
/* Errors                                                                                   */
/* ---------------------------------------------------------------------------------------- */

/* 0 = OK; > 0 a Kafka error code; < 0 a local code (CONVEYOR_ERR__*) or -1 UNKNOWN. */
typedef int32_t conveyor_err_t;

#define CONVEYOR_OK 0
/* Local codes (never on the wire). */
#define CONVEYOR_ERR__DESTROY (-197)           /* the handle is being destroyed */
#define CONVEYOR_ERR__FAIL (-196)              /* internal failure; see the message */
#define CONVEYOR_ERR__TRANSPORT (-195)         /* connection failed or broke */
#define CONVEYOR_ERR__MSG_TIMED_OUT (-192)     /* delivery.timeout.ms passed */
#define CONVEYOR_ERR__PARTITION_EOF (-191)     /* reached the end of a partition */
#define CONVEYOR_ERR__UNKNOWN_PARTITION (-190) /* partition not in the assignment/topic */
#define CONVEYOR_ERR__ALL_BROKERS_DOWN (-187)  /* no broker reachable */
#define CONVEYOR_ERR__INVALID_ARG (-186)       /* NULL handle, bad argument */
#define CONVEYOR_ERR__TIMED_OUT (-185)         /* the call's timeout_ms passed */
#define CONVEYOR_ERR__QUEUE_FULL (-184)        /* buffer.memory / queue limit reached */
#define CONVEYOR_ERR__STATE (-172)             /* wrong state, e.g. use after close */
/* Kafka codes that callers commonly test for (full list: protocol guide). */
#define CONVEYOR_ERR_UNKNOWN (-1)
#define CONVEYOR_ERR_OFFSET_OUT_OF_RANGE 1
#define CONVEYOR_ERR_UNKNOWN_TOPIC_OR_PARTITION 3
#define CONVEYOR_ERR_MESSAGE_TOO_LARGE 10
#define CONVEYOR_ERR_INVALID_TOPIC_EXCEPTION 17
#define CONVEYOR_ERR_TOPIC_ALREADY_EXISTS 36
#define CONVEYOR_ERR_INVALID_PARTITIONS 37
#define CONVEYOR_ERR_INVALID_REPLICATION_FACTOR 38
#define CONVEYOR_ERR_INVALID_CONFIG 40

/* Kafka's upper-case name of a code, e.g. "UNKNOWN_TOPIC_OR_PARTITION", or "LOCAL_TIMED_OUT"
 * for local codes; "UNKNOWN_ERROR_CODE" for codes not in the table. Static storage;
 * thread-safe. */
CONVEYOR_API const char *conveyor_err_name(conveyor_err_t code);
/* 1 if Kafka marks the code retriable (a RetriableException), else 0. Thread-safe. */
CONVEYOR_API int conveyor_err_retriable(conveyor_err_t code);

/* An error object: code + name + human message + flags. Immutable; thread-safe to read. */
typedef struct conveyor_error_s conveyor_error_t;

CONVEYOR_API conveyor_err_t conveyor_error_code(const conveyor_error_t *err);
/* Valid until conveyor_error_destroy(err). */
CONVEYOR_API const char *conveyor_error_name(const conveyor_error_t *err);
/* "what happened", e.g. "unknown config key \"lingr.ms\"". Valid until destroy. */
CONVEYOR_API const char *conveyor_error_message(const conveyor_error_t *err);
/* 1 if retrying the same operation may succeed. */
CONVEYOR_API int conveyor_error_retriable(const conveyor_error_t *err);
/* 1 if the handle that produced it is unusable from now on (e.g. a fenced producer). */
CONVEYOR_API int conveyor_error_fatal(const conveyor_error_t *err);
/* Accepts NULL. */
CONVEYOR_API void conveyor_error_destroy(conveyor_error_t *err);

/* ---------------------------------------------------------------------------------------- */
/* Configuration                                                                            */
/* ---------------------------------------------------------------------------------------- */

/* A string -> string map of Kafka properties. Not thread-safe: do not modify a config from
 * two threads, nor while a constructor reads it. Constructors copy it; the caller keeps
 * ownership and may destroy it right after. */
typedef struct conveyor_config_s conveyor_config_t;

CONVEYOR_API conveyor_config_t *conveyor_config_new(void);
/* A deep copy, or NULL if conf is NULL. */
CONVEYOR_API conveyor_config_t *conveyor_config_dup(const conveyor_config_t *conf);
CONVEYOR_API void conveyor_config_destroy(conveyor_config_t *conf);

/* Sets key = value (both copied). Fails with CONVEYOR_ERR_INVALID_CONFIG naming the key if
 * no conveyor component (broker, producer, consumer, admin, topic) knows the key, or if the
 * value does not parse for its type (e.g. "linger.ms" = "soon"). Whether the key applies to
 * the component the config is used for is checked again by that component's _new(). */
CONVEYOR_API conveyor_err_t conveyor_config_set(conveyor_config_t *conf, const char *key,
                                                const char *value, conveyor_error_t **errp);
/* The value set for key, or NULL if unset. Valid until the key is set again or the config is
 * destroyed. */
CONVEYOR_API const char *conveyor_config_get(const conveyor_config_t *conf, const char *key);
/* Number of keys set, and the i-th key/value in key order (NULL if out of range); pointers
 * valid until the config is next modified or destroyed. */
CONVEYOR_API size_t conveyor_config_count(const conveyor_config_t *conf);
CONVEYOR_API const char *conveyor_config_key_at(const conveyor_config_t *conf, size_t i);
CONVEYOR_API const char *conveyor_config_value_at(const conveyor_config_t *conf, size_t i);

/* ---------------------------------------------------------------------------------------- */
/* Embedded broker                                                                          */
/* ---------------------------------------------------------------------------------------- */

/* A single-node Kafka-compatible broker running on its own threads inside this process. */
typedef struct conveyor_broker_s conveyor_broker_t;

/* Starts a broker and returns once it accepts connections. conf may be NULL (all defaults).
 * Broker property names as in Kafka ("Broker Configs"). Embedded defaults that differ from
 * `conveyor broker`: `listeners` unset -> PLAINTEXT://127.0.0.1:0 (an ephemeral port);
 * `log.dirs` unset -> a fresh temporary directory removed again by conveyor_broker_stop() /
 * _destroy(). Errors: INVALID_CONFIG (naming the key), KAFKA_STORAGE_ERROR (data dir
 * unusable), NETWORK_EXCEPTION (bind failed). Thread-safe. */
CONVEYOR_API conveyor_err_t conveyor_broker_new(const conveyor_config_t *conf,
                                                conveyor_broker_t **brokerp,
                                                conveyor_error_t **errp);
/* "host:port" for `bootstrap.servers`. Valid until conveyor_broker_destroy(). Thread-safe. */
CONVEYOR_API const char *conveyor_broker_bootstrap_servers(const conveyor_broker_t *broker);
/* The bound TCP port (the real one for port 0), or -1 if broker is NULL. Thread-safe. */
CONVEYOR_API int conveyor_broker_port(const conveyor_broker_t *broker);
/* The data directory in use. Valid until conveyor_broker_destroy(). Thread-safe. */
CONVEYOR_API const char *conveyor_broker_data_dir(const conveyor_broker_t *broker);
/* Stops accepting, closes connections, flushes partitions and writes clean-shutdown
 * checkpoints. Idempotent; blocks until done. Thread-safe (may race with itself). */
CONVEYOR_API conveyor_err_t conveyor_broker_stop(conveyor_broker_t *broker,
                                                 conveyor_error_t **errp);
/* Stops (if running) and frees. Accepts NULL. Not concurrent with other calls on broker. */
CONVEYOR_API void conveyor_broker_destroy(conveyor_broker_t *broker);

/* ---------------------------------------------------------------------------------------- */
/* Messages                                                                                 */
/* ---------------------------------------------------------------------------------------- */

/* A record: consumed (owned by the caller, free with conveyor_message_destroy()) or a
 * delivery report (borrowed: valid only during the delivery callback; do not destroy).
 * Immutable; reading it from several threads is safe. */
typedef struct conveyor_message_s conveyor_message_t;

/* Partition / offset special values. */
#define CONVEYOR_PARTITION_ANY (-1)   /* let the partitioner choose (produce) */
#define CONVEYOR_OFFSET_BEGINNING (-2) /* the log start offset ("earliest") */
#define CONVEYOR_OFFSET_END (-1)       /* the log end offset ("latest") */
#define CONVEYOR_OFFSET_INVALID (-1001) /* no position: auto.offset.reset decides */

#define CONVEYOR_TIMESTAMP_CREATE_TIME 0
#define CONVEYOR_TIMESTAMP_LOG_APPEND_TIME 1

/* Topic name; valid as long as the message. */
CONVEYOR_API const char *conveyor_message_topic(const conveyor_message_t *msg);
CONVEYOR_API int32_t conveyor_message_partition(const conveyor_message_t *msg);
/* The record's offset; -1 in a failed delivery report. */
CONVEYOR_API int64_t conveyor_message_offset(const conveyor_message_t *msg);
/* Epoch milliseconds, and its type (CONVEYOR_TIMESTAMP_*). */
CONVEYOR_API int64_t conveyor_message_timestamp(const conveyor_message_t *msg);
CONVEYOR_API int conveyor_message_timestamp_type(const conveyor_message_t *msg);
/* Key bytes and length; NULL (and *lenp = 0) for a null key. lenp may be NULL. Valid as long
 * as the message. */
CONVEYOR_API const void *conveyor_message_key(const conveyor_message_t *msg, size_t *lenp);
/* Value bytes and length; NULL for a null value (a tombstone). Valid as long as the message. */
CONVEYOR_API const void *conveyor_message_value(const conveyor_message_t *msg, size_t *lenp);
CONVEYOR_API size_t conveyor_message_header_count(const conveyor_message_t *msg);
/* The i-th header in record order: *keyp (NUL-terminated), *valuep and *value_lenp (NULL for a
 * null header value). Output pointers may be NULL. Valid as long as the message.
 * Limitation: a header key is a Kafka STRING and may legally contain a NUL byte; through this
 * call such a key reads as cut at its first NUL (the record itself is unchanged).
 * Errors: _INVALID_ARG for a NULL msg or i >= conveyor_message_header_count(). */
CONVEYOR_API conveyor_err_t conveyor_message_header(const conveyor_message_t *msg, size_t i,
                                                    const char **keyp, const void **valuep,
                                                    size_t *value_lenp);
/* The msg_opaque given to conveyor_producer_produce() (delivery reports); NULL otherwise. */
CONVEYOR_API void *conveyor_message_opaque(const conveyor_message_t *msg);
/* Frees a consumed message. Accepts NULL. Never call it on a delivery report. */
CONVEYOR_API void conveyor_message_destroy(conveyor_message_t *msg);

/* ---------------------------------------------------------------------------------------- */
/* Producer                                                                                 */
/* ---------------------------------------------------------------------------------------- */

typedef struct conveyor_producer_s conveyor_producer_t;

/* A record header for produce: key NUL-terminated (so a key cannot contain a NUL byte here);
 * value may be NULL (null header value). */
typedef struct conveyor_header_s {
  const char *key;
  const void *value;
  size_t value_len;
} conveyor_header_t;

/* Delivery report callback. msg is borrowed (valid only during the call) and carries topic,
 * partition, offset (-1 on failure), timestamp, key, value and msg_opaque (no headers). err is
 * NULL on success, else borrowed for the duration of the call. Runs only inside
 * conveyor_producer_poll() / conveyor_producer_flush(), on the calling thread. It must not
 * call conveyor_producer_destroy() on its producer. */
typedef void (*conveyor_delivery_cb_t)(const conveyor_message_t *msg,
                                       const conveyor_error_t *err, void *opaque);

/* Creates a producer (Kafka "Producer Configs": bootstrap.servers, acks, linger.ms,
 * batch.size, buffer.memory, compression.type, enable.idempotence, retries, ...).
 * delivery_cb may be NULL (no reports); opaque is passed back to it unchanged. Connecting is
 * lazy: an unreachable broker shows up as delivery errors, not here.
 * Errors: INVALID_CONFIG naming the key; _INVALID_ARG. Thread-safe. */
CONVEYOR_API conveyor_err_t conveyor_producer_new(const conveyor_config_t *conf,
                                                  conveyor_delivery_cb_t delivery_cb,
                                                  void *opaque, conveyor_producer_t **producerp,
                                                  conveyor_error_t **errp);
/* Queues one record for sending (asynchronous; the outcome arrives as a delivery report).
 * topic: required. partition: >= 0 or CONVEYOR_PARTITION_ANY (murmur2 of the key like the
 * Java client, sticky for null keys). key/value: NULL = null; copied. headers: an array of
 * header_count entries (may be NULL when 0); copied. timestamp_ms: 0 = now.
 * msg_opaque: returned by conveyor_message_opaque() in the delivery report.
 * Errors: _QUEUE_FULL (buffer.memory reached: poll and retry), MESSAGE_TOO_LARGE, _STATE
 * (closed or fatal error), _INVALID_ARG. Thread-safe. */
CONVEYOR_API conveyor_err_t conveyor_producer_produce(
    conveyor_producer_t *producer, const char *topic, int32_t partition, const void *key,
    size_t key_len, const void *value, size_t value_len, const conveyor_header_t *headers,
    size_t header_count, int64_t timestamp_ms, void *msg_opaque, conveyor_error_t **errp);
/* Runs the delivery callbacks that are ready, waiting up to timeout_ms (0 = none) for the
 * first one. *servedp (may be NULL) receives the number of callbacks run. Call it from one
 * thread at a time. */
CONVEYOR_API conveyor_err_t conveyor_producer_poll(conveyor_producer_t *producer,
                                                   int32_t timeout_ms, size_t *servedp,
                                                   conveyor_error_t **errp);
/* Sends everything queued (ignoring linger.ms) and runs delivery callbacks until no record
 * is outstanding or timeout_ms passed (negative = no limit). Errors: _TIMED_OUT with records
 * still outstanding. Call it from one thread at a time, not concurrently with _poll. */
CONVEYOR_API conveyor_err_t conveyor_producer_flush(conveyor_producer_t *producer,
                                                    int32_t timeout_ms,
                                                    conveyor_error_t **errp);
/* Records queued or in flight whose delivery report has not run yet. Thread-safe. */
CONVEYOR_API size_t conveyor_producer_outstanding(const conveyor_producer_t *producer);
/* Closes the producer without waiting (call _flush first to deliver); reports still pending
 * are dropped without running callbacks. Accepts NULL. Not concurrent with other calls. */
CONVEYOR_API void conveyor_producer_destroy(conveyor_producer_t *producer);

/* ---------------------------------------------------------------------------------------- */
/* Consumer (manual assignment)                                                             */
/* ---------------------------------------------------------------------------------------- */

typedef struct conveyor_consumer_s conveyor_consumer_t;

/* A topic partition with an offset (or, for offsets_for_times, a timestamp in and an offset
 * out). topic is borrowed for the call. */
typedef struct conveyor_topic_partition_s {
  const char *topic;
  int32_t partition;
  int64_t offset;
} conveyor_topic_partition_t;

/* Creates a consumer (Kafka "Consumer Configs": bootstrap.servers, auto.offset.reset,
 * fetch.min.bytes, fetch.max.wait.ms, max.partition.fetch.bytes, ...). Errors: INVALID_CONFIG
 * naming the key; _INVALID_ARG. Thread-safe. */
CONVEYOR_API conveyor_err_t conveyor_consumer_new(const conveyor_config_t *conf,
                                                  conveyor_consumer_t **consumerp,
                                                  conveyor_error_t **errp);
/* Replaces the assignment with these partitions. offset: a position, CONVEYOR_OFFSET_BEGINNING,
 * CONVEYOR_OFFSET_END or CONVEYOR_OFFSET_INVALID (auto.offset.reset decides). count 0 clears
 * the assignment. Not concurrent with _poll/_consume. */
CONVEYOR_API conveyor_err_t conveyor_consumer_assign(conveyor_consumer_t *consumer,
                                                     const conveyor_topic_partition_t *partitions,
                                                     size_t count, conveyor_error_t **errp);
/* Moves the position of an assigned partition (offset as in _assign). Errors:
 * _UNKNOWN_PARTITION if not assigned. Not concurrent with _poll/_consume. */
CONVEYOR_API conveyor_err_t conveyor_consumer_seek(conveyor_consumer_t *consumer,
                                                   const char *topic, int32_t partition,
                                                   int64_t offset, conveyor_error_t **errp);
/* Waits up to timeout_ms for the next record. On success *msgp is a message the caller frees
 * with conveyor_message_destroy(), or NULL if the timeout passed or _wakeup() was called.
 * Errors: fetch errors such as OFFSET_OUT_OF_RANGE (with auto.offset.reset=none),
 * _STATE after close. One thread at a time. */
CONVEYOR_API conveyor_err_t conveyor_consumer_poll(conveyor_consumer_t *consumer,
                                                   int32_t timeout_ms,
                                                   conveyor_message_t **msgp,
                                                   conveyor_error_t **errp);
/* Up to max_messages records into msgs[0..*countp) (each freed by the caller), waiting up to
 * timeout_ms for the first; returns what is buffered without waiting for more. *countp = 0
 * on timeout or wakeup. One thread at a time. */
CONVEYOR_API conveyor_err_t conveyor_consumer_consume(conveyor_consumer_t *consumer,
                                                      size_t max_messages, int32_t timeout_ms,
                                                      conveyor_message_t **msgs, size_t *countp,
                                                      conveyor_error_t **errp);
/* The offset of the next record poll() returns for an assigned partition. Does not block.
 * Errors: _UNKNOWN_PARTITION if not assigned; _STATE if not yet known (an offset reset by
 * auto.offset.reset is still pending). */
CONVEYOR_API conveyor_err_t conveyor_consumer_position(conveyor_consumer_t *consumer,
                                                       const char *topic, int32_t partition,
                                                       int64_t *offsetp, conveyor_error_t **errp);
/* Asks the partition leader for the log start offset (*lowp) and high watermark (*highp)
 * (ListOffsets -2 / -1). Blocks up to timeout_ms. Either output may be NULL. */
CONVEYOR_API conveyor_err_t conveyor_consumer_watermark_offsets(
    conveyor_consumer_t *consumer, const char *topic, int32_t partition, int32_t timeout_ms,
    int64_t *lowp, int64_t *highp, conveyor_error_t **errp);
/* For each entry, replaces the offset field (a timestamp in epoch ms on input) with the
 * earliest offset whose timestamp is >= it, or CONVEYOR_OFFSET_END (-1) if none
 * (ListOffsets by timestamp). Blocks up to timeout_ms. */
CONVEYOR_API conveyor_err_t conveyor_consumer_offsets_for_times(
    conveyor_consumer_t *consumer, conveyor_topic_partition_t *partitions, size_t count,
    int32_t timeout_ms, conveyor_error_t **errp);
/* Makes a blocking _poll/_consume (current or next) return early with no record.
 * Thread-safe: meant to be called from another thread or a signal-handling thread. */
CONVEYOR_API void conveyor_consumer_wakeup(conveyor_consumer_t *consumer);
/* Stops fetching and closes connections; later calls fail with _STATE. Idempotent. */
CONVEYOR_API conveyor_err_t conveyor_consumer_close(conveyor_consumer_t *consumer,
                                                    conveyor_error_t **errp);
/* Closes (if needed) and frees. Accepts NULL. Messages already returned stay valid. */
CONVEYOR_API void conveyor_consumer_destroy(conveyor_consumer_t *consumer);

/* ---------------------------------------------------------------------------------------- */
/* Consumer groups (Kafka's classic group protocol; needs group.id)                         */
/* ---------------------------------------------------------------------------------------- */
/* Group configuration (Kafka's names): group.id, group.instance.id (static membership,
 * KIP-345), session.timeout.ms (45000), heartbeat.interval.ms (3000), max.poll.interval.ms
 * (300000), partition.assignment.strategy ("range,cooperative-sticky"; also roundrobin and
 * the Java class names), enable.auto.commit (true), auto.commit.interval.ms (5000),
 * group.protocol (classic only). Membership runs on the consumer's background thread; every
 * callback below runs only inside _poll/_consume/_close/_unsubscribe on the caller's thread. */

/* Rebalance events passed to conveyor_rebalance_cb_t. */
#define CONVEYOR_REBALANCE_ASSIGNED 1 /* partitions added by a rebalance (may be none) */
#define CONVEYOR_REBALANCE_REVOKED 2  /* partitions given up; still assigned during the call */
#define CONVEYOR_REBALANCE_LOST 3     /* generation lost: partitions may be owned elsewhere */

/* Rebalance callback (Java's ConsumerRebalanceListener). partitions[i].offset is -1001;
 * partitions and their topic strings are borrowed for the call. The callback may call any
 * consumer function except _destroy (e.g. _commit on REVOKED, _seek on ASSIGNED). */
typedef void (*conveyor_rebalance_cb_t)(conveyor_consumer_t *consumer, int event,
                                        const conveyor_topic_partition_t *partitions,
                                        size_t count, void *opaque);

/* Installs (cb != NULL) or removes the rebalance callback; it applies from the next event.
 * Without a callback for LOST, REVOKED is reported instead (Java's default). Not concurrent
 * with _poll/_consume. Errors: _INVALID_ARG. */
CONVEYOR_API conveyor_err_t conveyor_consumer_set_rebalance_cb(conveyor_consumer_t *consumer,
                                                               conveyor_rebalance_cb_t cb,
                                                               void *opaque,
                                                               conveyor_error_t **errp);

/* Joins group.id subscribed to `count` topic names (copied); replaces an earlier subscription.
 * Returns at once; partitions arrive through _poll (ASSIGNED). Errors: INVALID_GROUP_ID (no
 * group.id), _INVALID_ARG (count 0, NULL or empty name), _STATE (partitions assigned with
 * _assign: clear them first, or closed). Thread-safe. Kafka: KafkaConsumer.subscribe. */
CONVEYOR_API conveyor_err_t conveyor_consumer_subscribe(conveyor_consumer_t *consumer,
                                                        const char *const *topics,
                                                        size_t count, conveyor_error_t **errp);
/* Subscribes to every topic whose whole name matches the ECMAScript regular expression
 * (Java's Pattern.matches); the topic list is re-read every metadata.max.age.ms and a change
 * of the matching set rejoins. Internal topics never match (exclude.internal.topics). Errors
 * as _subscribe, plus _INVALID_ARG for a bad expression. Thread-safe.
 * Kafka: KafkaConsumer.subscribe(Pattern). */
CONVEYOR_API conveyor_err_t conveyor_consumer_subscribe_pattern(conveyor_consumer_t *consumer,
                                                                const char *regex,
                                                                conveyor_error_t **errp);
/* Commits (enable.auto.commit), reports REVOKED, leaves the group (LeaveGroup unless static)
 * and clears the assignment. No-op if not subscribed. Not concurrent with _poll/_consume.
 * Kafka: KafkaConsumer.unsubscribe, LeaveGroup. */
CONVEYOR_API conveyor_err_t conveyor_consumer_unsubscribe(conveyor_consumer_t *consumer,
                                                          conveyor_error_t **errp);

/* An immutable list of topic partitions handed out by the functions below. */
typedef struct conveyor_partition_list_s conveyor_partition_list_t;
CONVEYOR_API size_t conveyor_partition_list_count(const conveyor_partition_list_t *list);
/* Entry i (NULL if out of range); valid, with its topic string, until _destroy. */
CONVEYOR_API const conveyor_topic_partition_t *conveyor_partition_list_get(
    const conveyor_partition_list_t *list, size_t i);
/* Accepts NULL. */
CONVEYOR_API void conveyor_partition_list_destroy(conveyor_partition_list_t *list);

/* The current assignment (offset = position, or -1001 if not known yet), sorted. *listp is
 * freed with conveyor_partition_list_destroy(). Thread-safe. Kafka: KafkaConsumer.assignment. */
CONVEYOR_API conveyor_err_t conveyor_consumer_assignment(conveyor_consumer_t *consumer,
                                                         conveyor_partition_list_t **listp,
                                                         conveyor_error_t **errp);
/* The subscribed topics (for a pattern: the topics it matches now), one entry per topic with
 * partition -1 and offset -1001; empty if not subscribed. *listp is freed with
 * conveyor_partition_list_destroy(). Thread-safe. Kafka: KafkaConsumer.subscription. */
CONVEYOR_API conveyor_err_t conveyor_consumer_subscription(conveyor_consumer_t *consumer,
                                                           conveyor_partition_list_t **listp,
                                                           conveyor_error_t **errp);

/* Flow control (Kafka: KafkaConsumer.pause / resume / paused; librdkafka:
 * rd_kafka_pause_partitions / rd_kafka_resume_partitions). Work with _assign and with groups.
 *
 * conveyor_consumer_pause stops fetching `count` assigned partitions (offsets ignored; topics
 * borrowed for the call): _poll/_consume return none of their records until they are resumed,
 * and their positions stay after the last record the application got. Records already
 * prefetched for them are dropped and fetched again from the position after _resume, so none
 * is lost or returned twice. Heartbeats, commits, _seek and _position go on; keep calling
 * _poll so max.poll.interval.ms is not exceeded. A partition stays paused across _seek and an
 * _assign that keeps it; it loses the pause when it leaves the assignment (_assign, a
 * rebalance's REVOKED/LOST, _unsubscribe): after an eager rebalance everything is unpaused,
 * under cooperative-sticky the partitions a member keeps stay paused. Pausing a paused
 * partition, or count 0, does nothing.
 * Errors: _STATE "no current assignment for partition <topic>-<partition>" when any of them is
 * not assigned (then none is changed), _STATE after close, _INVALID_ARG (NULL consumer,
 * NULL partitions with count > 0, NULL topic). Thread-safe; may be called from callbacks. */
CONVEYOR_API conveyor_err_t conveyor_consumer_pause(conveyor_consumer_t *consumer,
                                                    const conveyor_topic_partition_t *partitions,
                                                    size_t count, conveyor_error_t **errp);
/* Fetching of these partitions restarts at their positions. Resuming a partition that is not
 * paused does nothing. Errors and thread-safety as conveyor_consumer_pause. */
CONVEYOR_API conveyor_err_t conveyor_consumer_resume(conveyor_consumer_t *consumer,
                                                     const conveyor_topic_partition_t *partitions,
                                                     size_t count, conveyor_error_t **errp);
/* The paused partitions (offset = position, or -1001 if not known yet), sorted; empty when
 * none. *listp is freed with conveyor_partition_list_destroy(). Errors: _INVALID_ARG.
 * Thread-safe. Kafka: KafkaConsumer.paused. */
CONVEYOR_API conveyor_err_t conveyor_consumer_paused(conveyor_consumer_t *consumer,
                                                     conveyor_partition_list_t **listp,
                                                     conveyor_error_t **errp);

#define CONVEYOR_COMMIT_SYNC 0  /* wait for the broker's answer (commitSync) */
#define CONVEYOR_COMMIT_ASYNC 1 /* return at once; outcome through the commit callback */

/* Outcome of an async commit or an auto-commit: err is NULL on success (borrowed for the
 * call); offsets are the ones sent (borrowed). Runs inside _poll/_consume/_close. */
typedef void (*conveyor_commit_cb_t)(conveyor_consumer_t *consumer, const conveyor_error_t *err,
                                     const conveyor_topic_partition_t *offsets, size_t count,
                                     void *opaque);
/* Installs (cb != NULL) or removes the commit callback. Not concurrent with _poll/_consume. */
CONVEYOR_API conveyor_err_t conveyor_consumer_set_commit_cb(conveyor_consumer_t *consumer,
                                                            conveyor_commit_cb_t cb, void *opaque,
                                                            conveyor_error_t **errp);

/* Commits offsets for the group (OffsetCommit). Each offset is that of the NEXT record to
 * consume (Kafka convention). offsets NULL / count 0: the current positions of every assigned
 * partition. metadata: NULL, or count strings (NULL entries = "") stored with the offsets.
 * mode: CONVEYOR_COMMIT_SYNC waits up to timeout_ms (-1 = request.timeout.ms);
 * CONVEYOR_COMMIT_ASYNC returns at once. Uses the member's generation when subscribed, or
 * generation -1 with manual assignment. Errors: INVALID_GROUP_ID (no group.id), _INVALID_ARG
 * (negative offset, NULL topic, bad mode), _TIMED_OUT, ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID
 * (the member rejoins), REBALANCE_IN_PROGRESS (commit again after the rebalance), broker
 * errors. Thread-safe. Kafka: KafkaConsumer.commitSync / commitAsync. */
CONVEYOR_API conveyor_err_t conveyor_consumer_commit(conveyor_consumer_t *consumer,
                                                     const conveyor_topic_partition_t *offsets,
                                                     size_t count, const char *const *metadata,
                                                     int mode, int32_t timeout_ms,
                                                     conveyor_error_t **errp);
/* Fills partitions[i].offset with the group's committed offset (-1 if none), OffsetFetch with
 * require_stable (KIP-447). Blocks up to timeout_ms (-1 = request.timeout.ms); all or nothing.
 * Errors: INVALID_GROUP_ID, _INVALID_ARG, _TIMED_OUT, broker errors. Thread-safe. */
CONVEYOR_API conveyor_err_t conveyor_consumer_committed(conveyor_consumer_t *consumer,
                                                        conveyor_topic_partition_t *partitions,
                                                        size_t count, int32_t timeout_ms,
                                                        conveyor_error_t **errp);
/* *lagp = high watermark (last stable offset with read_committed; ListOffsets) - position,
 * >= 0, for an assigned partition. Blocks up to timeout_ms. Errors: _UNKNOWN_PARTITION (not
 * assigned), _STATE (position not known yet), _TIMED_OUT. Thread-safe. Kafka: the
 * records-lag of KafkaConsumer.currentLag / kafka-consumer-groups LAG. */
CONVEYOR_API conveyor_err_t conveyor_consumer_lag(conveyor_consumer_t *consumer,
                                                  const char *topic, int32_t partition,
                                                  int32_t timeout_ms, int64_t *lagp,
                                                  conveyor_error_t **errp);
/* The group member id (NUL-terminated, copied into buf of size len, truncated to fit; "" when
 * not a member) and generation (-1 when not a member). Either output may be NULL.
 * Thread-safe. Kafka: KafkaConsumer.groupMetadata (member id, generation). */
CONVEYOR_API conveyor_err_t conveyor_consumer_group_member(conveyor_consumer_t *consumer,
                                                           char *buf, size_t len,
                                                           int32_t *generationp,
                                                           conveyor_error_t **errp);

/* ---------------------------------------------------------------------------------------- */
/* Admin                                                                                    */
/* ---------------------------------------------------------------------------------------- */

typedef struct conveyor_admin_s conveyor_admin_t;
/* A list of topic descriptions returned by _list_topics / _describe_topics. Immutable. */
typedef struct conveyor_topic_list_s conveyor_topic_list_t;

/* Creates an admin client (bootstrap.servers, request.timeout.ms, ...). Thread-safe. */
CONVEYOR_API conveyor_err_t conveyor_admin_new(const conveyor_config_t *conf,
                                               conveyor_admin_t **adminp,
                                               conveyor_error_t **errp);
/* CreateTopics for one topic. partitions/replication_factor: -1 = broker default. config:
 * topic configs (cleanup.policy, retention.ms, ...), may be NULL. Blocks up to timeout_ms.
 * Errors: TOPIC_ALREADY_EXISTS, INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS,
 * INVALID_REPLICATION_FACTOR, INVALID_CONFIG, _TIMED_OUT. Thread-safe. */
CONVEYOR_API conveyor_err_t conveyor_admin_create_topic(conveyor_admin_t *admin,
                                                        const char *name, int32_t partitions,
                                                        int16_t replication_factor,
                                                        const conveyor_config_t *config,
                                                        int32_t timeout_ms,
                                                        conveyor_error_t **errp);
/* DeleteTopics for one topic. Errors: UNKNOWN_TOPIC_OR_PARTITION, _TIMED_OUT. Thread-safe. */
CONVEYOR_API conveyor_err_t conveyor_admin_delete_topic(conveyor_admin_t *admin,
                                                        const char *name, int32_t timeout_ms,
                                                        conveyor_error_t **errp);
/* Every topic (Metadata). *listp is freed with conveyor_topic_list_destroy(). Thread-safe. */
CONVEYOR_API conveyor_err_t conveyor_admin_list_topics(conveyor_admin_t *admin,
                                                       int32_t timeout_ms,
                                                       conveyor_topic_list_t **listp,
                                                       conveyor_error_t **errp);
/* The named topics (names: count NUL-terminated strings; count 0 = all topics). A missing
 * topic appears in the list with conveyor_topic_list_error() = UNKNOWN_TOPIC_OR_PARTITION.
 * Thread-safe. */
CONVEYOR_API conveyor_err_t conveyor_admin_describe_topics(conveyor_admin_t *admin,
                                                           const char *const *names,
                                                           size_t count, int32_t timeout_ms,
                                                           conveyor_topic_list_t **listp,
                                                           conveyor_error_t **errp);
/* Accepts NULL. */
CONVEYOR_API void conveyor_admin_destroy(conveyor_admin_t *admin);

/* Topic list accessors: t indexes topics [0, count), p partitions [0, partition_count).
 * Out-of-range indexes return NULL / -1 / 0. Strings and arrays stay valid until
 * conveyor_topic_list_destroy(). */
CONVEYOR_API size_t conveyor_topic_list_count(const conveyor_topic_list_t *list);
CONVEYOR_API const char *conveyor_topic_list_name(const conveyor_topic_list_t *list, size_t t);
/* The topic id as 36-character UUID text ("" if the broker sent none). */
CONVEYOR_API const char *conveyor_topic_list_topic_id(const conveyor_topic_list_t *list,
                                                      size_t t);
CONVEYOR_API conveyor_err_t conveyor_topic_list_error(const conveyor_topic_list_t *list,
                                                      size_t t);
CONVEYOR_API int conveyor_topic_list_is_internal(const conveyor_topic_list_t *list, size_t t);
CONVEYOR_API int32_t conveyor_topic_list_partition_count(const conveyor_topic_list_t *list,
                                                         size_t t);
/* Partition id of the p-th partition (partitions are sorted by id). */
CONVEYOR_API int32_t conveyor_topic_list_partition_id(const conveyor_topic_list_t *list,
                                                      size_t t, size_t p);
CONVEYOR_API int32_t conveyor_topic_list_partition_leader(const conveyor_topic_list_t *list,
                                                          size_t t, size_t p);
/* Replica / in-sync replica node ids; *countp receives the length. */
CONVEYOR_API const int32_t *conveyor_topic_list_partition_replicas(
    const conveyor_topic_list_t *list, size_t t, size_t p, size_t *countp);
CONVEYOR_API const int32_t *conveyor_topic_list_partition_isr(const conveyor_topic_list_t *list,
                                                              size_t t, size_t p,
                                                              size_t *countp);
CONVEYOR_API void conveyor_topic_list_destroy(conveyor_topic_list_t *list);

/* ---------------------------------------------------------------------------------------- */
/* Admin: consumer groups and offsets                                                       */
/* ---------------------------------------------------------------------------------------- */

/* Kafka codes the group calls return (protocol guide "Error Codes"). */
#define CONVEYOR_ERR_COORDINATOR_NOT_AVAILABLE 15
#define CONVEYOR_ERR_NOT_COORDINATOR 16
#define CONVEYOR_ERR_NON_EMPTY_GROUP 68
#define CONVEYOR_ERR_GROUP_ID_NOT_FOUND 69
#define CONVEYOR_ERR_GROUP_SUBSCRIBED_TO_TOPIC 86

/* Every group call goes to the group's coordinator (FindCoordinator, key type GROUP) and
 * retries COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR and lost
 * connections with exponential backoff (retry.backoff.ms doubling, capped at 1 s) until
 * timeout_ms, then fails with _TIMED_OUT naming the last error. All calls are blocking and
 * thread-safe. Result objects are immutable (safe to read from several threads); every string
 * or array they hand out stays valid until the object's _destroy(), which accepts NULL.
 * Out-of-range indexes return NULL / -1 / 0. */

/* ListOffsets to each partition's leader. spec: CONVEYOR_OFFSET_END (-1) = log end offset,
 * CONVEYOR_OFFSET_BEGINNING (-2) = log start offset, >= 0 = a timestamp in epoch ms (the
 * earliest offset whose timestamp is >= it, or -1 if none). On success every entry's offset
 * field is replaced with the answer; on failure none is (the error names the first partition
 * that failed, e.g. UNKNOWN_TOPIC_OR_PARTITION). Read-uncommitted, like Kafka's AdminClient. */
CONVEYOR_API conveyor_err_t conveyor_admin_list_offsets(conveyor_admin_t *admin,
                                                        conveyor_topic_partition_t *partitions,
                                                        size_t count, int64_t spec,
                                                        int32_t timeout_ms,
                                                        conveyor_error_t **errp);

/* DeleteRecords (KIP-107) to each partition's leader: every entry's offset is the offset before
 * which records are deleted (its log start offset moves up to it; -1 = the high watermark).
 * On success every entry's offset is replaced with the partition's low watermark (its new log
 * start offset); on failure none is, and the error names the first partition that failed
 * (OFFSET_OUT_OF_RANGE beyond the high watermark, UNKNOWN_TOPIC_OR_PARTITION, ...; an offset
 * < -1 is _INVALID_ARG). Kafka: AdminClient.deleteRecords. */
CONVEYOR_API conveyor_err_t conveyor_admin_delete_records(conveyor_admin_t *admin,
                                                          conveyor_topic_partition_t *partitions,
                                                          size_t count, int32_t timeout_ms,
                                                          conveyor_error_t **errp);

/* Groups known to the cluster (ListGroups on every broker, sorted by group id). */
typedef struct conveyor_group_list_s conveyor_group_list_t;

/* states: state_count names ("Stable", "Empty", "PreparingRebalance", "CompletingRebalance",
 * "Dead") to keep only groups in those states (KIP-518, ListGroups v4; UNSUPPORTED_VERSION
 * from older brokers); NULL / 0 = every group. *listp is freed with
 * conveyor_group_list_destroy(). */
CONVEYOR_API conveyor_err_t conveyor_admin_list_groups(conveyor_admin_t *admin,
                                                       const char *const *states,
                                                       size_t state_count, int32_t timeout_ms,
                                                       conveyor_group_list_t **listp,
                                                       conveyor_error_t **errp);
CONVEYOR_API size_t conveyor_group_list_count(const conveyor_group_list_t *list);
CONVEYOR_API const char *conveyor_group_list_group_id(const conveyor_group_list_t *list, size_t i);
/* "consumer" for consumer groups; "" for groups that only hold committed offsets. */
CONVEYOR_API const char *conveyor_group_list_protocol_type(const conveyor_group_list_t *list,
                                                           size_t i);
/* The group's state; "" when the broker answers ListGroups older than v4. */
CONVEYOR_API const char *conveyor_group_list_state(const conveyor_group_list_t *list, size_t i);
CONVEYOR_API void conveyor_group_list_destroy(conveyor_group_list_t *list);

/* One group as DescribeGroups reports it. A group the coordinator does not know is described
 * with state "Dead" and no members (not an error), as Kafka does. */
typedef struct conveyor_group_description_s conveyor_group_description_t;

/* *descp is freed with conveyor_group_description_destroy(). Errors: the group-level error
 * (e.g. GROUP_AUTHORIZATION_FAILED), _TIMED_OUT, _INVALID_ARG (empty group id). */
CONVEYOR_API conveyor_err_t conveyor_admin_describe_group(conveyor_admin_t *admin,
                                                          const char *group, int32_t timeout_ms,
                                                          conveyor_group_description_t **descp,
                                                          conveyor_error_t **errp);
CONVEYOR_API const char *conveyor_group_description_group_id(
    const conveyor_group_description_t *desc);
/* "Empty", "PreparingRebalance", "CompletingRebalance", "Stable" or "Dead". */
CONVEYOR_API const char *conveyor_group_description_state(const conveyor_group_description_t *desc);
/* "consumer" for consumer groups, "" while it has no members. */
CONVEYOR_API const char *conveyor_group_description_protocol_type(
    const conveyor_group_description_t *desc);
/* The assignor chosen by the group (e.g. "range"); "" unless Stable. */
CONVEYOR_API const char *conveyor_group_description_protocol(
    const conveyor_group_description_t *desc);
/* Node id of the group's coordinator. */
CONVEYOR_API int32_t conveyor_group_description_coordinator(
    const conveyor_group_description_t *desc);
CONVEYOR_API size_t conveyor_group_description_member_count(
    const conveyor_group_description_t *desc);
CONVEYOR_API const char *conveyor_group_description_member_id(
    const conveyor_group_description_t *desc, size_t m);
/* group.instance.id of a static member (KIP-345), or NULL for a dynamic one. */
CONVEYOR_API const char *conveyor_group_description_member_instance_id(
    const conveyor_group_description_t *desc, size_t m);
CONVEYOR_API const char *conveyor_group_description_member_client_id(
    const conveyor_group_description_t *desc, size_t m);
/* The member's address as the coordinator saw it, e.g. "/127.0.0.1". */
CONVEYOR_API const char *conveyor_group_description_member_host(
    const conveyor_group_description_t *desc, size_t m);
/* The member's assigned partitions, decoded from its assignment (consumer protocol), sorted. */
CONVEYOR_API size_t conveyor_group_description_member_partition_count(
    const conveyor_group_description_t *desc, size_t m);
/* The i-th assigned partition: *topicp (valid until destroy) and *partitionp; either output
 * may be NULL. Errors: _INVALID_ARG for out-of-range m or i. */
CONVEYOR_API conveyor_err_t conveyor_group_description_member_partition(
    const conveyor_group_description_t *desc, size_t m, size_t i, const char **topicp,
    int32_t *partitionp);
CONVEYOR_API void conveyor_group_description_destroy(conveyor_group_description_t *desc);

/* A group's committed offsets (OffsetFetch), sorted by topic and partition. */
typedef struct conveyor_group_offsets_s conveyor_group_offsets_t;

/* partitions: the partitions to look up (offset fields ignored), or NULL / 0 for every
 * partition the group has committed. *offsetsp is freed with conveyor_group_offsets_destroy().
 * Errors: the group-level error, _TIMED_OUT. */
CONVEYOR_API conveyor_err_t conveyor_admin_list_group_offsets(
    conveyor_admin_t *admin, const char *group, const conveyor_topic_partition_t *partitions,
    size_t count, int32_t timeout_ms, conveyor_group_offsets_t **offsetsp,
    conveyor_error_t **errp);
CONVEYOR_API size_t conveyor_group_offsets_count(const conveyor_group_offsets_t *offsets);
CONVEYOR_API const char *conveyor_group_offsets_topic(const conveyor_group_offsets_t *offsets,
                                                      size_t i);
CONVEYOR_API int32_t conveyor_group_offsets_partition(const conveyor_group_offsets_t *offsets,
                                                      size_t i);
/* The committed offset, or -1 when the group has committed nothing for the partition. */
CONVEYOR_API int64_t conveyor_group_offsets_offset(const conveyor_group_offsets_t *offsets,
                                                   size_t i);
CONVEYOR_API int32_t conveyor_group_offsets_leader_epoch(const conveyor_group_offsets_t *offsets,
                                                         size_t i);
/* The committed metadata string exactly as committed ("" if none). */
CONVEYOR_API const char *conveyor_group_offsets_metadata(const conveyor_group_offsets_t *offsets,
                                                         size_t i);
/* Per-partition error (e.g. UNKNOWN_TOPIC_OR_PARTITION), 0 if none. */
CONVEYOR_API conveyor_err_t conveyor_group_offsets_error(const conveyor_group_offsets_t *offsets,
                                                         size_t i);
CONVEYOR_API void conveyor_group_offsets_destroy(conveyor_group_offsets_t *offsets);

/* A group's lag: its description and one row per partition a member owns or the group has
 * committed (what kafka-consumer-groups --describe prints), sorted by topic and partition. */
typedef struct conveyor_group_lag_s conveyor_group_lag_t;

/* DescribeGroups + OffsetFetch + ListOffsets(latest). *lagp is freed with
 * conveyor_group_lag_destroy(). */
CONVEYOR_API conveyor_err_t conveyor_admin_group_lag(conveyor_admin_t *admin, const char *group,
                                                     int32_t timeout_ms,
                                                     conveyor_group_lag_t **lagp,
                                                     conveyor_error_t **errp);
/* The group's description; borrowed, valid until conveyor_group_lag_destroy(lag) (do not
 * destroy it). */
CONVEYOR_API const conveyor_group_description_t *conveyor_group_lag_group(
    const conveyor_group_lag_t *lag);
CONVEYOR_API size_t conveyor_group_lag_count(const conveyor_group_lag_t *lag);
CONVEYOR_API const char *conveyor_group_lag_topic(const conveyor_group_lag_t *lag, size_t i);
CONVEYOR_API int32_t conveyor_group_lag_partition(const conveyor_group_lag_t *lag, size_t i);
/* Committed offset, or -1 if nothing is committed. */
CONVEYOR_API int64_t conveyor_group_lag_current_offset(const conveyor_group_lag_t *lag, size_t i);
/* Log end offset (high watermark), or -1 if ListOffsets failed (see _error). */
CONVEYOR_API int64_t conveyor_group_lag_log_end_offset(const conveyor_group_lag_t *lag, size_t i);
/* log end offset - committed offset, or -1 when either is unknown. */
CONVEYOR_API int64_t conveyor_group_lag_lag(const conveyor_group_lag_t *lag, size_t i);
/* The owning member's id, host and client id; "" when no member owns the partition. */
CONVEYOR_API const char *conveyor_group_lag_consumer_id(const conveyor_group_lag_t *lag, size_t i);
CONVEYOR_API const char *conveyor_group_lag_host(const conveyor_group_lag_t *lag, size_t i);
CONVEYOR_API const char *conveyor_group_lag_client_id(const conveyor_group_lag_t *lag, size_t i);
CONVEYOR_API conveyor_err_t conveyor_group_lag_error(const conveyor_group_lag_t *lag, size_t i);
CONVEYOR_API void conveyor_group_lag_destroy(conveyor_group_lag_t *lag);

/* Sets (resets) the group's committed offsets: OffsetCommit with generation -1 and an empty
 * member id, as Kafka's AdminClient alterConsumerGroupOffsets does. offsets: count entries with
 * absolute offsets >= 0. Refused with NON_EMPTY_GROUP while the group has members (the broker
 * refuses such commits too). Errors: NON_EMPTY_GROUP, the first per-partition error,
 * _INVALID_ARG (negative offset, NULL topic), _TIMED_OUT. */
CONVEYOR_API conveyor_err_t conveyor_admin_alter_group_offsets(
    conveyor_admin_t *admin, const char *group, const conveyor_topic_partition_t *offsets,
    size_t count, int32_t timeout_ms, conveyor_error_t **errp);

/* DeleteGroups for one group (its committed offsets go with it). Errors: NON_EMPTY_GROUP
 * (it has members), GROUP_ID_NOT_FOUND, _TIMED_OUT. */
CONVEYOR_API conveyor_err_t conveyor_admin_delete_group(conveyor_admin_t *admin,
                                                        const char *group, int32_t timeout_ms,
                                                        conveyor_error_t **errp);

/* ---------------------------------------------------------------------------------------- */
/* Admin: topic configuration and partitions                                                */
/* ---------------------------------------------------------------------------------------- */

/* Config resource types (protocol guide, DescribeConfigs "resource_type"). */
#define CONVEYOR_RESOURCE_TOPIC 2
#define CONVEYOR_RESOURCE_BROKER 4  /* name: the broker's node.id as text */

/* Where a config value comes from (Kafka's ConfigSource, KIP-226). */
#define CONVEYOR_CONFIG_SOURCE_UNKNOWN 0
#define CONVEYOR_CONFIG_SOURCE_DYNAMIC_TOPIC 1          /* a topic override */
#define CONVEYOR_CONFIG_SOURCE_DYNAMIC_BROKER 2
#define CONVEYOR_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER 3
#define CONVEYOR_CONFIG_SOURCE_STATIC_BROKER 4          /* the broker's properties */
#define CONVEYOR_CONFIG_SOURCE_DEFAULT 5                /* Kafka's default */

/* IncrementalAlterConfigs operations (KIP-339). */
#define CONVEYOR_ALTER_CONFIG_SET 0
#define CONVEYOR_ALTER_CONFIG_DELETE 1    /* back to the default; value ignored */
#define CONVEYOR_ALTER_CONFIG_APPEND 2    /* list configs (cleanup.policy): add items */
#define CONVEYOR_ALTER_CONFIG_SUBTRACT 3  /* list configs: remove items */

/* The configs of one resource (DescribeConfigs), sorted by name. Immutable; every string
 * stays valid until conveyor_config_entries_destroy(), which accepts NULL. Out-of-range
 * indexes return NULL / 0 / -1. */
typedef struct conveyor_config_entries_s conveyor_config_entries_t;

/* DescribeConfigs (v1-4; Kafka: AdminClient.describeConfigs) of one resource:
 * resource_type CONVEYOR_RESOURCE_TOPIC with a topic name, or CONVEYOR_RESOURCE_BROKER with a
 * node id as text. keys: key_count config names to return (NULL / 0 = all). Synonyms and
 * documentation are always asked for. A topic's entries are every topic config with its
 * effective value (source DYNAMIC_TOPIC for an override, STATIC_BROKER from the broker's
 * properties, DEFAULT otherwise); a broker's are read-only. *entriesp is freed with
 * conveyor_config_entries_destroy(). Errors: UNKNOWN_TOPIC_OR_PARTITION, INVALID_REQUEST
 * (another broker's id, an unsupported resource type), _INVALID_ARG (NULL name, a broker name
 * that is not a number), _TIMED_OUT. Blocking, thread-safe. */
CONVEYOR_API conveyor_err_t conveyor_admin_describe_configs(
    conveyor_admin_t *admin, int resource_type, const char *resource_name,
    const char *const *keys, size_t key_count, int32_t timeout_ms,
    conveyor_config_entries_t **entriesp, conveyor_error_t **errp);
CONVEYOR_API size_t conveyor_config_entries_count(const conveyor_config_entries_t *entries);
CONVEYOR_API const char *conveyor_config_entries_name(const conveyor_config_entries_t *entries,
                                                      size_t i);
/* The value, or NULL (a sensitive config, or a key without a value). */
CONVEYOR_API const char *conveyor_config_entries_value(const conveyor_config_entries_t *entries,
                                                       size_t i);
/* CONVEYOR_CONFIG_SOURCE_*; -1 for an out-of-range index. */
CONVEYOR_API int conveyor_config_entries_source(const conveyor_config_entries_t *entries, size_t i);
CONVEYOR_API int conveyor_config_entries_read_only(const conveyor_config_entries_t *entries,
                                                   size_t i);
CONVEYOR_API int conveyor_config_entries_is_sensitive(const conveyor_config_entries_t *entries,
                                                      size_t i);
/* Kafka's config_type (KIP-569): 1 BOOLEAN, 2 STRING, 3 INT, 4 SHORT, 5 LONG, 6 DOUBLE,
 * 7 LIST, 8 CLASS, 9 PASSWORD; 0 when the broker answered DescribeConfigs < v3. */
CONVEYOR_API int conveyor_config_entries_type(const conveyor_config_entries_t *entries, size_t i);
/* One line of documentation, or NULL. */
CONVEYOR_API const char *conveyor_config_entries_documentation(
    const conveyor_config_entries_t *entries, size_t i);
/* Synonyms (KIP-226), most specific first: e.g. retention.ms of a topic without an override
 * has log.retention.hours (STATIC_BROKER or DEFAULT). */
CONVEYOR_API size_t conveyor_config_entries_synonym_count(const conveyor_config_entries_t *entries,
                                                          size_t i);
/* The j-th synonym of entry i: *namep, *valuep (NULL when null) and *sourcep; each output may
 * be NULL. Errors: _INVALID_ARG for out-of-range i or j. */
CONVEYOR_API conveyor_err_t conveyor_config_entries_synonym(
    const conveyor_config_entries_t *entries, size_t i, size_t j, const char **namep,
    const char **valuep, int *sourcep);
CONVEYOR_API void conveyor_config_entries_destroy(conveyor_config_entries_t *entries);

/* One IncrementalAlterConfigs operation. value: NUL-terminated (ignored for DELETE). */
typedef struct conveyor_alter_config_op_s {
  const char *name;
  int op; /* CONVEYOR_ALTER_CONFIG_* */
  const char *value;
} conveyor_alter_config_op_t;

/* IncrementalAlterConfigs (v0-1, KIP-339; Kafka: AdminClient.incrementalAlterConfigs) of one
 * resource: ops[count] applied together (all or nothing). validate_only != 0 checks without
 * changing anything. On a conveyor broker the change reaches the running partition logs at
 * once and persists across restarts. Errors: INVALID_CONFIG naming the key (unknown key, bad
 * value, APPEND/SUBTRACT on a non-list key; broker resources: conveyor has no dynamic broker
 * configs), UNKNOWN_TOPIC_OR_PARTITION, INVALID_REQUEST, _INVALID_ARG (NULL name, SET/APPEND/
 * SUBTRACT without a value), _TIMED_OUT. Blocking, thread-safe. The ops are copied. */
CONVEYOR_API conveyor_err_t conveyor_admin_alter_configs(conveyor_admin_t *admin,
                                                         int resource_type,
                                                         const char *resource_name,
                                                         const conveyor_alter_config_op_t *ops,
                                                         size_t count, int validate_only,
                                                         int32_t timeout_ms,
                                                         conveyor_error_t **errp);

/* CreatePartitions (v0-3, KIP-195; Kafka: AdminClient.createPartitions): grows topic to
 * total_count partitions (the new total, not the number to add); the broker places them.
 * validate_only != 0 checks without creating. Otherwise returns once Metadata lists the new
 * partitions with leaders (bounded by timeout_ms). Errors: INVALID_PARTITIONS (total_count not
 * larger than the current count), UNKNOWN_TOPIC_OR_PARTITION, _INVALID_ARG, _TIMED_OUT.
 * Blocking, thread-safe. */
CONVEYOR_API conveyor_err_t conveyor_admin_create_partitions(conveyor_admin_t *admin,
                                                             const char *topic,
                                                             int32_t total_count,
                                                             int validate_only,
                                                             int32_t timeout_ms,
                                                             conveyor_error_t **errp);

/* ---------------------------------------------------------------------------------------- */
/* Retry and dead-letter handler (consumer side)                                            */
/* ---------------------------------------------------------------------------------------- */

/* A loop that polls a consumer, hands each record to the caller's handler, retries a record
 * whose handler fails up to max.retries more times with exponential backoff (retry.backoff.ms
 * doubling up to retry.backoff.max.ms, KIP-580's shape), then writes it to a dead-letter topic
 * and commits past it. Successfully handled records are committed after each polled batch, so
 * the loop is at-least-once: a crash between handling and committing hands a record to the
 * handler again.
 *
 * The dead-letter record keeps the original key, value and headers and adds these headers
 * (UTF-8 text, numbers in decimal): conveyor.dlt.original.topic, conveyor.dlt.original.partition,
 * conveyor.dlt.original.offset, conveyor.dlt.original.timestamp (epoch ms), conveyor.dlt.error
 * (the handler's last message) and conveyor.dlt.attempts (1 + retries). Its topic is
 * dead.letter.topic if set, else the original topic + dead.letter.topic.suffix (".DLT", Spring
 * Kafka's convention); it must exist or be auto-created by the broker. The loop waits for the
 * broker to acknowledge the dead letter (up to dead.letter.timeout.ms) before committing. */
typedef struct conveyor_retry_handler_s conveyor_retry_handler_t;

/* Counters of a retry handler (conveyor_retry_handler_stats) or of one run. */
typedef struct conveyor_retry_stats_s {
  uint64_t records;         /* records handed to the handler (first attempts) */
  uint64_t succeeded;       /* records the handler eventually accepted */
  uint64_t retries;         /* handler calls after a failure */
  uint64_t dead_lettered;   /* records written to a dead-letter topic */
  uint64_t commits;         /* successful commits */
  uint64_t commit_failures; /* commits the coordinator refused (e.g. during a rebalance) */
} conveyor_retry_stats_t;

/* The caller's processing of one record. Return 0 to accept it, non-zero to fail this attempt;
 * on failure, write a NUL-terminated reason of at most errbuf_size bytes into errbuf (it becomes
 * the conveyor.dlt.error header; empty is allowed). msg is borrowed for the call (do not
 * destroy it). Runs inside conveyor_retry_handler_run() on its calling thread. */
typedef int (*conveyor_record_handler_cb_t)(const conveyor_message_t *msg, char *errbuf,
                                            size_t errbuf_size, void *opaque);

/* Creates a retry handler over consumer (subscribed or assigned; it should have
 * enable.auto.commit=false) and producer (writes the dead letters; may be shared). Both must
 * outlive the handler, and nothing else may poll the consumer while a run is in progress.
 * conf may be NULL (defaults) or hold: max.retries (3, 0..1000), retry.backoff.ms (100),
 * retry.backoff.max.ms (1000), dead.letter.topic (""), dead.letter.topic.suffix (".DLT"),
 * dead.letter.timeout.ms (30000), max.poll.records (500). Errors: INVALID_CONFIG naming the
 * key, _INVALID_ARG. */
CONVEYOR_API conveyor_err_t conveyor_retry_handler_new(conveyor_consumer_t *consumer,
                                                       conveyor_producer_t *producer,
                                                       const conveyor_config_t *conf,
                                                       conveyor_retry_handler_t **handlerp,
                                                       conveyor_error_t **errp);

/* Polls and handles records until conveyor_retry_handler_stop() or until timeout_ms passed
 * (negative = until stopped). *statsp (may be NULL) receives this run's counters (zeros when
 * the run fails; conveyor_retry_handler_stats() has the totals). The consumer's rebalance callbacks and the producer's delivery callbacks may run
 * inside. Errors: a poll error (e.g. OFFSET_OUT_OF_RANGE with auto.offset.reset=none), a
 * dead-letter write that failed or timed out (the record is given back, not committed),
 * _STATE after stop. One thread at a time. */
CONVEYOR_API conveyor_err_t conveyor_retry_handler_run(conveyor_retry_handler_t *handler,
                                                       conveyor_record_handler_cb_t cb,
                                                       void *opaque, int32_t timeout_ms,
                                                       conveyor_retry_stats_t *statsp,
                                                       conveyor_error_t **errp);

/* Makes a run return soon (after the handler call in progress; a backoff wait is cut short);
 * sticky. Records polled but not handled are given back (their partitions are sought to the
 * first unhandled offset). Thread-safe; accepts NULL. */
CONVEYOR_API void conveyor_retry_handler_stop(conveyor_retry_handler_t *handler);

/* Counters since the handler was created. Thread-safe. Errors: _INVALID_ARG. */
CONVEYOR_API conveyor_err_t conveyor_retry_handler_stats(const conveyor_retry_handler_t *handler,
                                                         conveyor_retry_stats_t *statsp);

/* Frees the handler (not its consumer or producer). Accepts NULL. Not concurrent with a run. */
CONVEYOR_API void conveyor_retry_handler_destroy(conveyor_retry_handler_t *handler);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CONVEYOR_CONVEYOR_H */
