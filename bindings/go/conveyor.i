/*
 * SWIG interface for the Go binding: generates go/internal/cabi (cgo) from conveyor.h.
 * Regenerate with scripts/go-generate.sh; CI regenerates and fails on a difference.
 *
 * What is wrapped is a whitelist (the %rename rules below): the C ABI functions with plain
 * signatures, plus small cvgo_* adapters written here for what SWIG cannot map by itself:
 * byte slices in and out, arrays of topic partitions / strings / headers, and the delivery
 * and rebalance callbacks, which call exported Go functions (go/internal/cabi/callbacks.go).
 * Those callbacks run inside conveyor_producer_poll/_flush and conveyor_consumer_poll/...
 * on the goroutine's own thread (conveyor.h: callbacks never run on a library thread), so
 * Go is never entered from a thread it does not know.
 */
%module cabi

%{
#include <stdlib.h>
#include <string.h>
#include "conveyor/conveyor.h"
%}

%insert(cgo_comment_typedefs) %{
#cgo CFLAGS: -I${SRCDIR}/../../../capi/include
#cgo LDFLAGS: -lconveyor
#include <stdint.h>
#include <stddef.h>
%}

#define CONVEYOR_API
%include <stdint.i>
%include <cpointer.i>

/* []byte in: (pointer, length) pairs. A nil slice passes NULL (a null key/value); an empty
 * non-nil slice passes a non-NULL pointer with length 0. */
%typemap(gotype) (const void *BYTES, size_t LEN), (void *BYTES, size_t LEN) "[]byte"
%typemap(in) (const void *BYTES, size_t LEN), (void *BYTES, size_t LEN) %{
  $1 = ($1_ltype)$input.array;
  $2 = ($2_ltype)$input.len;
%}
/* []int64: a slice the adapter fills (OUT64) or reads (IN64). */
%typemap(gotype) (long long *OUT64, size_t LEN), (const long long *IN64, size_t IN_LEN) "[]int64"
%typemap(in) (long long *OUT64, size_t LEN), (const long long *IN64, size_t IN_LEN) %{
  $1 = ($1_ltype)$input.array;
  $2 = ($2_ltype)$input.len;
%}

/* Out-parameters of handle type: allocate a slot, pass it, read it, free it. */
%pointer_functions(conveyor_error_t *, errorpp);
%pointer_functions(conveyor_broker_t *, brokerpp);
%pointer_functions(conveyor_producer_t *, producerpp);
%pointer_functions(conveyor_consumer_t *, consumerpp);
%pointer_functions(conveyor_admin_t *, adminpp);
%pointer_functions(conveyor_message_t *, messagepp);
%pointer_functions(conveyor_partition_list_t *, partitionlistpp);
%pointer_functions(conveyor_topic_list_t *, topiclistpp);
%pointer_functions(conveyor_group_list_t *, grouplistpp);
%pointer_functions(conveyor_group_description_t *, groupdescpp);
%pointer_functions(conveyor_group_offsets_t *, groupoffsetspp);
%pointer_functions(conveyor_group_lag_t *, grouplagpp);
%pointer_functions(conveyor_retry_handler_t *, retryhandlerpp);
%pointer_functions(int64_t, int64p);
%pointer_functions(size_t, sizep);
%pointer_functions(int32_t, int32p);

/* The whitelist. Everything else in conveyor.h is left out of the Go layer. */
%rename("$ignore", regextarget=1, fullname=1) "^conveyor_";
%rename("$ignore", regextarget=1, fullname=1) "^CONVEYOR_";
%rename("%s", regextarget=1) "^CONVEYOR_(OK|ERR_|PARTITION_ANY|OFFSET_|TIMESTAMP_|COMMIT_|REBALANCE_)";
%rename("%s") conveyor_version;
%rename("%s") conveyor_err_name;
%rename("%s") conveyor_err_retriable;
%rename("%s") conveyor_error_code;
%rename("%s") conveyor_error_name;
%rename("%s") conveyor_error_message;
%rename("%s") conveyor_error_retriable;
%rename("%s") conveyor_error_fatal;
%rename("%s") conveyor_error_destroy;
%rename("%s") conveyor_config_new;
%rename("%s") conveyor_config_set;
%rename("%s") conveyor_config_destroy;
%rename("%s") conveyor_broker_new;
%rename("%s") conveyor_broker_bootstrap_servers;
%rename("%s") conveyor_broker_port;
%rename("%s") conveyor_broker_data_dir;
%rename("%s") conveyor_broker_stop;
%rename("%s") conveyor_broker_destroy;
%rename("%s") conveyor_message_topic;
%rename("%s") conveyor_message_destroy;
%rename("%s") conveyor_producer_poll;
%rename("%s") conveyor_producer_flush;
%rename("%s") conveyor_producer_outstanding;
%rename("%s") conveyor_producer_destroy;
%rename("%s") conveyor_consumer_new;
%rename("%s") conveyor_consumer_seek;
%rename("%s") conveyor_consumer_poll;
%rename("%s") conveyor_consumer_position;
%rename("%s") conveyor_consumer_watermark_offsets;
%rename("%s") conveyor_consumer_wakeup;
%rename("%s") conveyor_consumer_close;
%rename("%s") conveyor_consumer_destroy;
%rename("%s") conveyor_consumer_unsubscribe;
%rename("%s") conveyor_consumer_subscribe_pattern;
%rename("%s") conveyor_consumer_assignment;
%rename("%s") conveyor_consumer_paused;
%rename("%s") conveyor_consumer_lag;
%rename("%s") conveyor_partition_list_count;
%rename("%s") conveyor_partition_list_destroy;
%rename("%s") conveyor_admin_new;
%rename("%s") conveyor_admin_create_topic;
%rename("%s") conveyor_admin_delete_topic;
%rename("%s") conveyor_admin_list_topics;
%rename("%s") conveyor_admin_destroy;
%rename("%s") conveyor_topic_list_count;
%rename("%s") conveyor_topic_list_name;
%rename("%s") conveyor_topic_list_topic_id;
%rename("%s") conveyor_topic_list_error;
%rename("%s") conveyor_topic_list_is_internal;
%rename("%s") conveyor_topic_list_partition_count;
%rename("%s") conveyor_topic_list_partition_id;
%rename("%s") conveyor_topic_list_partition_leader;
%rename("%s") conveyor_topic_list_destroy;
%rename("%s", regextarget=1) "^conveyor_group_(list|offsets|lag)_";
%rename("%s", regextarget=1) "^conveyor_group_description_";
%rename("$ignore") conveyor_group_description_member_partition;
%rename("%s") conveyor_admin_describe_group;
%rename("%s") conveyor_admin_list_group_offsets;
%rename("%s") conveyor_admin_group_lag;
%rename("%s") conveyor_admin_alter_group_offsets;
%rename("%s") conveyor_admin_delete_group;
%rename("%s") conveyor_retry_handler_new;
%rename("%s") conveyor_retry_handler_stop;
%rename("%s") conveyor_retry_handler_destroy;

%include "conveyor/conveyor.h"

%rename("%s", regextarget=1) "^cvgo_";

/* Not wrapped: the C side of the callbacks. */
%{
/* ---- callbacks into Go (exported from go/internal/cabi/callbacks.go) ---- */
extern void cvgoRebalance(uintptr_t consumer_id, int event, conveyor_topic_partition_t *parts,
                          size_t count);
extern int cvgoHandleRecord(uintptr_t handler_id, conveyor_message_t *msg, char *errbuf,
                            size_t errbuf_size);
extern void cvgoCommitted(uintptr_t consumer_id, int32_t code, char *message,
                          conveyor_topic_partition_t *parts, size_t count);

/* Delivery reports are queued here by the callback (inside conveyor_producer_poll/_flush,
 * which the Go side serialises) and drained by Go after the call: one cgo call per batch
 * instead of a C-to-Go callback per record. */
struct cvgo_reports_s {
  int64_t *v;          /* 5 per report: record id, partition, offset, timestamp, code */
  char **messages;     /* per report: the error message (NULL on success) */
  size_t n, cap;
};
static void cvgo_delivery_tramp(const conveyor_message_t *msg, const conveyor_error_t *err,
                                void *opaque) {
  struct cvgo_reports_s *q = (struct cvgo_reports_s *)opaque;
  if (q->n == q->cap) {
    size_t cap = q->cap ? q->cap * 2 : 1024;
    int64_t *v = (int64_t *)realloc(q->v, cap * 5 * sizeof(int64_t));
    char **m = (char **)realloc(q->messages, cap * sizeof(char *));
    if (v) q->v = v;
    if (m) q->messages = m;
    if (!v || !m) return; /* out of memory: the report is lost, the record stays pending */
    q->cap = cap;
  }
  int64_t *r = q->v + q->n * 5;
  r[0] = (int64_t)(uintptr_t)conveyor_message_opaque(msg);
  r[1] = conveyor_message_partition(msg);
  r[2] = conveyor_message_offset(msg);
  r[3] = conveyor_message_timestamp(msg);
  r[4] = err ? conveyor_error_code(err) : 0;
  q->messages[q->n] = err ? strdup(conveyor_error_message(err)) : NULL;
  q->n++;
}
static void cvgo_rebalance_tramp(conveyor_consumer_t *consumer, int event,
                                 const conveyor_topic_partition_t *parts, size_t count,
                                 void *opaque) {
  (void)consumer;
  cvgoRebalance((uintptr_t)opaque, event, (conveyor_topic_partition_t *)parts, count);
}
static int cvgo_record_tramp(const conveyor_message_t *msg, char *errbuf, size_t errbuf_size,
                             void *opaque) {
  return cvgoHandleRecord((uintptr_t)opaque, (conveyor_message_t *)msg, errbuf, errbuf_size);
}
static void cvgo_commit_tramp(conveyor_consumer_t *consumer, const conveyor_error_t *err,
                              const conveyor_topic_partition_t *offsets, size_t count,
                              void *opaque) {
  (void)consumer;
  cvgoCommitted((uintptr_t)opaque, err ? conveyor_error_code(err) : 0,
                err ? (char *)conveyor_error_message(err) : NULL,
                (conveyor_topic_partition_t *)offsets, count);
}

%}

%apply (const void *BYTES, size_t LEN) { (const void *value, size_t value_len) };

/* A list of C strings the ABI takes as `const char *const *`. */
%inline %{
typedef struct cvgo_strings_s { char **v; size_t n; } cvgo_strings_t;
%}

%inline %{
/* A queue of delivery reports for one producer. */
typedef struct cvgo_reports_s cvgo_reports_t;
cvgo_reports_t *cvgo_reports_new(void) {
  return (cvgo_reports_t *)calloc(1, sizeof(cvgo_reports_t));
}
size_t cvgo_reports_count(const cvgo_reports_t *q) { return q->n; }
/* Copies report i's 5 numbers (record id, partition, offset, timestamp, code) for
 * i in [from, from + LEN/5) into OUT64; returns how many reports were copied. */
size_t cvgo_reports_copy(const cvgo_reports_t *q, size_t from, long long *OUT64, size_t LEN) {
  size_t k = 0;
  for (size_t i = from; i < q->n && (k + 1) * 5 <= LEN; i++, k++)
    memcpy(OUT64 + k * 5, q->v + i * 5, 5 * sizeof(int64_t));
  return k;
}
const char *cvgo_reports_message(const cvgo_reports_t *q, size_t i) {
  return i < q->n && q->messages[i] ? q->messages[i] : "";
}
void cvgo_reports_clear(cvgo_reports_t *q) {
  for (size_t i = 0; i < q->n; i++) free(q->messages[i]);
  q->n = 0;
}
void cvgo_reports_free(cvgo_reports_t *q) {
  if (!q) return;
  cvgo_reports_clear(q);
  free(q->v);
  free(q->messages);
  free(q);
}

/* A producer whose delivery reports are queued in q (drained after each poll/flush). */
conveyor_err_t cvgo_producer_new(const conveyor_config_t *conf, cvgo_reports_t *q,
                                 conveyor_producer_t **producerp, conveyor_error_t **errp) {
  return conveyor_producer_new(conf, cvgo_delivery_tramp, q, producerp, errp);
}

/* Produce with byte slices; headers (may be NULL) from cvgo_headers_new. */
conveyor_err_t cvgo_produce(conveyor_producer_t *producer, const char *topic, int32_t partition,
                            const void *BYTES, size_t LEN, const void *value, size_t value_len,
                            const conveyor_header_t *headers, size_t header_count,
                            int64_t timestamp_ms, uintptr_t record_id, conveyor_error_t **errp) {
  return conveyor_producer_produce(producer, topic, partition, BYTES, LEN, value, value_len,
                                   headers, header_count, timestamp_ms, (void *)record_id, errp);
}

/* Queues records of one topic from packed arrays in one call (the binding's batch path).
 * IN64: 5 numbers per record: partition, key length (-1 = null key), value length (-1 = null
 * value), timestamp ms (0 = now), record id (the delivery report's). BYTES: every record's key
 * then value, back to back in record order. Stops at the first record the producer refuses
 * (e.g. _QUEUE_FULL) and returns its code with *errp; *queuedp gets how many were queued. */
conveyor_err_t cvgo_produce_batch(conveyor_producer_t *producer, const char *topic,
                                  const long long *IN64, size_t IN_LEN, const void *BYTES,
                                  size_t LEN, size_t *queuedp, conveyor_error_t **errp) {
  const char *data = (const char *)BYTES;
  size_t pos = 0, n = IN_LEN / 5;
  *queuedp = 0;
  for (size_t i = 0; i < n; i++) {
    const long long *m = IN64 + i * 5;
    size_t klen = m[1] < 0 ? 0 : (size_t)m[1], vlen = m[2] < 0 ? 0 : (size_t)m[2];
    if (pos + klen + vlen > LEN) return CONVEYOR_ERR__INVALID_ARG;
    const void *key = m[1] < 0 ? NULL : (const void *)(data + pos);
    const void *value = m[2] < 0 ? NULL : (const void *)(data + pos + klen);
    conveyor_err_t rc = conveyor_producer_produce(producer, topic, (int32_t)m[0], key, klen, value,
                                                  vlen, NULL, 0, m[3], (void *)(uintptr_t)m[4],
                                                  errp);
    if (rc != CONVEYOR_OK) return rc;
    pos += klen + vlen;
    *queuedp = i + 1;
  }
  return CONVEYOR_OK;
}

/* Rebalance and commit callbacks of a consumer go to cvgoRebalance / cvgoCommitted. */
conveyor_err_t cvgo_consumer_callbacks(conveyor_consumer_t *consumer, uintptr_t consumer_id,
                                       conveyor_error_t **errp) {
  conveyor_err_t rc = conveyor_consumer_set_rebalance_cb(consumer, cvgo_rebalance_tramp,
                                                         (void *)consumer_id, errp);
  if (rc != CONVEYOR_OK) return rc;
  return conveyor_consumer_set_commit_cb(consumer, cvgo_commit_tramp, (void *)consumer_id, errp);
}

/* ---- retry and dead-letter handler ---- */
/* Runs the handler with records going to cvgoHandleRecord(handler_id, ...); this run's six
 * counters (records, succeeded, retries, dead_lettered, commits, commit_failures) into OUT64. */
conveyor_err_t cvgo_retry_run(conveyor_retry_handler_t *h, uintptr_t handler_id, int32_t timeout_ms,
                              long long *OUT64, size_t LEN, conveyor_error_t **errp) {
  conveyor_retry_stats_t st;
  conveyor_err_t rc = conveyor_retry_handler_run(h, cvgo_record_tramp, (void *)handler_id, timeout_ms,
                                                 &st, errp);
  long long v[6] = {(long long)st.records, (long long)st.succeeded, (long long)st.retries,
                    (long long)st.dead_lettered, (long long)st.commits,
                    (long long)st.commit_failures};
  for (size_t i = 0; i < LEN && i < 6; i++) OUT64[i] = v[i];
  return rc;
}
/* The handler's totals, as cvgo_retry_run orders them. */
void cvgo_retry_stats(const conveyor_retry_handler_t *h, long long *OUT64, size_t LEN) {
  conveyor_retry_stats_t st;
  memset(&st, 0, sizeof st);
  conveyor_retry_handler_stats(h, &st);
  long long v[6] = {(long long)st.records, (long long)st.succeeded, (long long)st.retries,
                    (long long)st.dead_lettered, (long long)st.commits,
                    (long long)st.commit_failures};
  for (size_t i = 0; i < LEN && i < 6; i++) OUT64[i] = v[i];
}

/* ---- consumer groups through Admin ---- */
conveyor_err_t cvgo_list_groups(conveyor_admin_t *a, const cvgo_strings_t *states,
                                int32_t timeout_ms, conveyor_group_list_t **listp,
                                conveyor_error_t **errp) {
  return conveyor_admin_list_groups(a, (const char *const *)states->v, states->n, timeout_ms,
                                    listp, errp);
}
/* Member m's i-th assigned partition: its topic (a copy is made by the wrapper) and, through
 * cvgo_member_partition_index, its partition. */
const char *cvgo_member_partition_topic(const conveyor_group_description_t *d, size_t m,
                                        size_t i) {
  const char *topic = "";
  conveyor_group_description_member_partition(d, m, i, &topic, NULL);
  return topic;
}
int32_t cvgo_member_partition_index(const conveyor_group_description_t *d, size_t m, size_t i) {
  int32_t partition = -1;
  conveyor_group_description_member_partition(d, m, i, NULL, &partition);
  return partition;
}

/* ---- arrays the ABI takes: topic partitions, strings, headers, messages ---- */
conveyor_topic_partition_t *cvgo_tps_new(size_t n) {
  return (conveyor_topic_partition_t *)calloc(n ? n : 1, sizeof(conveyor_topic_partition_t));
}
void cvgo_tps_set(conveyor_topic_partition_t *tps, size_t i, const char *topic,
                  int32_t partition, int64_t offset) {
  free((void *)tps[i].topic);
  tps[i].topic = strdup(topic);
  tps[i].partition = partition;
  tps[i].offset = offset;
}
const char *cvgo_tps_topic(const conveyor_topic_partition_t *tps, size_t i) { return tps[i].topic; }
int32_t cvgo_tps_partition(const conveyor_topic_partition_t *tps, size_t i) { return tps[i].partition; }
int64_t cvgo_tps_offset(const conveyor_topic_partition_t *tps, size_t i) { return tps[i].offset; }
/* Frees an array made by cvgo_tps_new (and its topic copies). */
void cvgo_tps_free(conveyor_topic_partition_t *tps, size_t n) {
  if (!tps) return;
  for (size_t i = 0; i < n; i++) free((void *)tps[i].topic);
  free(tps);
}
/* Entry i of a list the library handed out (borrowed). */
const char *cvgo_list_topic(const conveyor_partition_list_t *l, size_t i) {
  const conveyor_topic_partition_t *tp = conveyor_partition_list_get(l, i);
  return tp ? tp->topic : "";
}
int32_t cvgo_list_partition(const conveyor_partition_list_t *l, size_t i) {
  const conveyor_topic_partition_t *tp = conveyor_partition_list_get(l, i);
  return tp ? tp->partition : -1;
}
int64_t cvgo_list_offset(const conveyor_partition_list_t *l, size_t i) {
  const conveyor_topic_partition_t *tp = conveyor_partition_list_get(l, i);
  return tp ? tp->offset : -1001;
}

cvgo_strings_t *cvgo_strings_new(size_t n) {
  cvgo_strings_t *s = (cvgo_strings_t *)calloc(1, sizeof(cvgo_strings_t));
  s->v = (char **)calloc(n ? n : 1, sizeof(char *));
  s->n = n;
  return s;
}
void cvgo_strings_set(cvgo_strings_t *s, size_t i, const char *value) {
  if (i >= s->n) return;
  free(s->v[i]);
  s->v[i] = strdup(value);
}
void cvgo_strings_free(cvgo_strings_t *s) {
  if (!s) return;
  for (size_t i = 0; i < s->n; i++) free(s->v[i]);
  free(s->v);
  free(s);
}

conveyor_header_t *cvgo_headers_new(size_t n) {
  return (conveyor_header_t *)calloc(n ? n : 1, sizeof(conveyor_header_t));
}
/* value: a nil slice is a null header value. */
void cvgo_headers_set(conveyor_header_t *h, size_t i, const char *key, const void *BYTES,
                      size_t LEN) {
  h[i].key = strdup(key);
  h[i].value_len = LEN;
  if (BYTES) {
    void *copy = malloc(LEN ? LEN : 1);
    if (LEN) memcpy(copy, BYTES, LEN);
    h[i].value = copy;
  } else {
    h[i].value = NULL;
  }
}
void cvgo_headers_free(conveyor_header_t *h, size_t n) {
  if (!h) return;
  for (size_t i = 0; i < n; i++) {
    free((void *)h[i].key);
    free((void *)h[i].value);
  }
  free(h);
}

conveyor_err_t cvgo_subscribe(conveyor_consumer_t *c, const cvgo_strings_t *topics,
                              conveyor_error_t **errp) {
  return conveyor_consumer_subscribe(c, (const char *const *)topics->v, topics->n, errp);
}
conveyor_err_t cvgo_assign(conveyor_consumer_t *c, const conveyor_topic_partition_t *tps,
                           size_t count, conveyor_error_t **errp) {
  return conveyor_consumer_assign(c, tps, count, errp);
}
conveyor_err_t cvgo_pause(conveyor_consumer_t *c, const conveyor_topic_partition_t *tps,
                          size_t count, conveyor_error_t **errp) {
  return conveyor_consumer_pause(c, tps, count, errp);
}
conveyor_err_t cvgo_resume(conveyor_consumer_t *c, const conveyor_topic_partition_t *tps,
                           size_t count, conveyor_error_t **errp) {
  return conveyor_consumer_resume(c, tps, count, errp);
}
conveyor_err_t cvgo_commit(conveyor_consumer_t *c, const conveyor_topic_partition_t *tps,
                           size_t count, int mode, int32_t timeout_ms, conveyor_error_t **errp) {
  return conveyor_consumer_commit(c, tps, count, NULL, mode, timeout_ms, errp);
}
conveyor_err_t cvgo_committed(conveyor_consumer_t *c, conveyor_topic_partition_t *tps,
                              size_t count, int32_t timeout_ms, conveyor_error_t **errp) {
  return conveyor_consumer_committed(c, tps, count, timeout_ms, errp);
}
conveyor_err_t cvgo_describe_topics(conveyor_admin_t *a, const cvgo_strings_t *names,
                                    int32_t timeout_ms, conveyor_topic_list_t **listp,
                                    conveyor_error_t **errp) {
  return conveyor_admin_describe_topics(a, (const char *const *)names->v, names->n, timeout_ms,
                                        listp, errp);
}
conveyor_err_t cvgo_list_offsets(conveyor_admin_t *a, conveyor_topic_partition_t *tps,
                                 size_t count, int64_t spec, int32_t timeout_ms,
                                 conveyor_error_t **errp) {
  return conveyor_admin_list_offsets(a, tps, count, spec, timeout_ms, errp);
}

/* The consumer's member id ("" when not a member; the wrapper copies it before returning, so
 * a thread-local buffer is safe) and, through generationp, the generation (-1). */
const char *cvgo_member_id(conveyor_consumer_t *c, int32_t *generationp) {
  static __thread char buf[256];
  buf[0] = '\0';
  conveyor_consumer_group_member(c, buf, sizeof buf, generationp, NULL);
  return buf;
}

conveyor_message_t **cvgo_msgs_new(size_t n) {
  return (conveyor_message_t **)calloc(n ? n : 1, sizeof(conveyor_message_t *));
}
conveyor_message_t *cvgo_msgs_get(conveyor_message_t **msgs, size_t i) { return msgs[i]; }
/* Frees the array only: each message is destroyed by the caller. */
void cvgo_msgs_free(conveyor_message_t **msgs) { free(msgs); }
conveyor_err_t cvgo_consume(conveyor_consumer_t *c, size_t max, int32_t timeout_ms,
                            conveyor_message_t **msgs, size_t *countp, conveyor_error_t **errp) {
  return conveyor_consumer_consume(c, max, timeout_ms, msgs, countp, errp);
}

/* A consumed message's scalars in one call: out[0] partition, [1] offset, [2] timestamp,
 * [3] timestamp type, [4] key length (-1 = null key), [5] value length (-1 = null value),
 * [6] header count, [7] total bytes of header keys and values. */
void cvgo_message_meta(const conveyor_message_t *m, long long *OUT64, size_t LEN) {
  size_t klen = 0, vlen = 0, n = conveyor_message_header_count(m), hbytes = 0;
  const void *k = conveyor_message_key(m, &klen);
  const void *v = conveyor_message_value(m, &vlen);
  int64_t vals[8];
  vals[0] = conveyor_message_partition(m);
  vals[1] = conveyor_message_offset(m);
  vals[2] = conveyor_message_timestamp(m);
  vals[3] = conveyor_message_timestamp_type(m);
  vals[4] = k ? (int64_t)klen : -1;
  vals[5] = v ? (int64_t)vlen : -1;
  vals[6] = (int64_t)n;
  for (size_t i = 0; i < n; i++) {
    const char *hk = NULL;
    size_t hl = 0;
    conveyor_message_header(m, i, &hk, NULL, &hl);
    hbytes += strlen(hk) + hl;
  }
  vals[7] = (int64_t)hbytes;
  for (size_t i = 0; i < LEN && i < 8; i++) OUT64[i] = vals[i];
}
/* Copies key then value into dst (sized by cvgo_message_meta). */
void cvgo_message_copy_kv(const conveyor_message_t *m, void *BYTES, size_t LEN) {
  size_t klen = 0, vlen = 0;
  const void *k = conveyor_message_key(m, &klen);
  const void *v = conveyor_message_value(m, &vlen);
  char *out = (char *)BYTES;
  if (k && klen <= LEN) { memcpy(out, k, klen); out += klen; LEN -= klen; }
  if (v && vlen <= LEN) memcpy(out, v, vlen);
}
/* Header i: its key length, value length (-1 = null) into lens[0..1]; key then value bytes
 * into dst. */
void cvgo_message_header_lens(const conveyor_message_t *m, size_t i, long long *OUT64, size_t LEN) {
  const char *hk = NULL;
  const void *hv = NULL;
  size_t hl = 0;
  conveyor_message_header(m, i, &hk, &hv, &hl);
  if (LEN > 0) OUT64[0] = (int64_t)strlen(hk);
  if (LEN > 1) OUT64[1] = hv ? (int64_t)hl : -1;
}
void cvgo_message_header_copy(const conveyor_message_t *m, size_t i, void *BYTES, size_t LEN) {
  const char *hk = NULL;
  const void *hv = NULL;
  size_t hl = 0;
  conveyor_message_header(m, i, &hk, &hv, &hl);
  size_t kl = strlen(hk);
  char *out = (char *)BYTES;
  if (kl <= LEN) { memcpy(out, hk, kl); out += kl; LEN -= kl; }
  if (hv && hl <= LEN) memcpy(out, hv, hl);
}
%}
