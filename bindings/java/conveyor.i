/*
 * SWIG interface for the Java binding: generates the JNI layer (package io.conveyor.internal,
 * class ConveyorNative) from conveyor.h. Built by CMake (-DCONVEYOR_BUILD_JAVA=ON) into
 * <build>/bindings/java/{src/,libconveyor_jni.so}; the Maven project in java/ compiles the
 * generated sources and packs the libraries. Nothing here is public API: java/src/main/java/
 * io/conveyor/*.java is.
 *
 * Whitelist: only what is %rename'd to its own name below (plus the cvj_* adapters written
 * here) is wrapped. Shapes:
 * - Handles are passed as Java `long` (0 = NULL); the public classes own them.
 * - `conveyor_error_t **errp` disappears from the Java signature: a failed call throws
 *   io.conveyor.ConveyorException (or a subclass) built by ConveyorException.fromNative with
 *   the error's code, name, message and flags; the native error is freed first.
 * - Payloads in: byte[] (null = a null key/value) or a direct java.nio.ByteBuffer slice.
 *   Payloads out: byte[] created here.
 *
 * Threads: conveyor.h runs every callback (delivery, rebalance, commit, record handler) only
 * inside the call that serves it, on the calling thread. Delivery reports are queued in C and
 * drained by Java after poll/flush returns (no JVM call from the callback). Rebalance/commit
 * callbacks and the retry handler's record callback call back into Java through the JNIEnv of
 * the very Java thread that made the serving call (stored in the adapter just before it), so
 * the JVM is never entered from a thread it does not know.
 */
%module ConveyorNative

%{
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conveyor/conveyor.h"

/* Throws the Java exception for a native error object (ConveyorException.fromNative). */
static void cvj_throw(JNIEnv *jenv, const conveyor_error_t *err) {
  if ((*jenv)->ExceptionCheck(jenv)) return;
  jclass cls = (*jenv)->FindClass(jenv, "io/conveyor/ConveyorException");
  if (!cls) return;
  jmethodID mid = (*jenv)->GetStaticMethodID(
      jenv, cls, "fromNative",
      "(ILjava/lang/String;Ljava/lang/String;ZZ)Lio/conveyor/ConveyorException;");
  if (!mid) return;
  jstring name = (*jenv)->NewStringUTF(jenv, conveyor_error_name(err));
  jstring msg = (*jenv)->NewStringUTF(jenv, conveyor_error_message(err));
  jobject ex = (*jenv)->CallStaticObjectMethod(jenv, cls, mid, (jint)conveyor_error_code(err),
                                               name, msg,
                                               (jboolean)(conveyor_error_retriable(err) != 0),
                                               (jboolean)(conveyor_error_fatal(err) != 0));
  if (ex && !(*jenv)->ExceptionCheck(jenv)) (*jenv)->Throw(jenv, (jthrowable)ex);
}

static void cvj_throw_iae(JNIEnv *jenv, const char *what) {
  if ((*jenv)->ExceptionCheck(jenv)) return;
  jclass cls = (*jenv)->FindClass(jenv, "java/lang/IllegalArgumentException");
  if (cls) (*jenv)->ThrowNew(jenv, cls, what);
}
%}

#define CONVEYOR_API
%include <stdint.i>

/* ---- typemaps ---- */

/* errp: hidden; a failure becomes a Java exception. */
%typemap(in, numinputs=0) conveyor_error_t **errp (conveyor_error_t *err_temp = NULL) %{
  $1 = &err_temp;
%}
%typemap(argout) conveyor_error_t **errp %{
  if (err_temp$argnum) {
    cvj_throw(jenv, err_temp$argnum);
    conveyor_error_destroy(err_temp$argnum);
  }
%}

/* errp of the critical-array adapters: thrown in freearg, which SWIG emits after the arrays'
 * freearg (they come first in the argument list), i.e. outside the critical region. */
%typemap(in, numinputs=0) conveyor_error_t **errp_late (conveyor_error_t *err_late = NULL) %{
  $1 = &err_late;
%}
%typemap(freearg) conveyor_error_t **errp_late %{
  if (err_late$argnum) {
    cvj_throw(jenv, err_late$argnum);
    conveyor_error_destroy(err_late$argnum);
  }
%}

/* Handles as long. */
%define CVJ_HANDLE(TYPE)
%typemap(jni) TYPE * "jlong"
%typemap(jtype) TYPE * "long"
%typemap(jstype) TYPE * "long"
%typemap(javain) TYPE * "$javainput"
%typemap(javaout) TYPE * { return $jnicall; }
%typemap(in) TYPE * %{ $1 = ($1_ltype)(intptr_t)$input; %}
%typemap(out) TYPE * %{ $result = (jlong)(intptr_t)$1; %}
%enddef
CVJ_HANDLE(conveyor_config_t)
CVJ_HANDLE(const conveyor_config_t)
CVJ_HANDLE(conveyor_broker_t)
CVJ_HANDLE(const conveyor_broker_t)
CVJ_HANDLE(conveyor_admin_t)
CVJ_HANDLE(conveyor_topic_list_t)
CVJ_HANDLE(const conveyor_topic_list_t)
CVJ_HANDLE(conveyor_message_t)
CVJ_HANDLE(const conveyor_message_t)
CVJ_HANDLE(conveyor_group_list_t)
CVJ_HANDLE(const conveyor_group_list_t)
CVJ_HANDLE(conveyor_group_description_t)
CVJ_HANDLE(const conveyor_group_description_t)
CVJ_HANDLE(cvj_producer_t)
CVJ_HANDLE(cvj_consumer_t)
CVJ_HANDLE(cvj_retry_t)

/* The calling thread's JNIEnv, for adapters that call back into Java. */
%typemap(in, numinputs=0) JNIEnv *jenv %{ $1 = jenv; %}

/* byte[] in: NULL for null. Copied by the C ABI before the call returns. */
%typemap(jni) (const void *BYTES, size_t LEN) "jbyteArray"
%typemap(jtype) (const void *BYTES, size_t LEN) "byte[]"
%typemap(jstype) (const void *BYTES, size_t LEN) "byte[]"
%typemap(javain) (const void *BYTES, size_t LEN) "$javainput"
%typemap(in) (const void *BYTES, size_t LEN) %{
  $1 = NULL; $2 = 0;
  if ($input) {
    $2 = (size_t)(*jenv)->GetArrayLength(jenv, $input);
    $1 = (*jenv)->GetByteArrayElements(jenv, $input, NULL);
    if (!$1) return $null;
  }
%}
%typemap(freearg) (const void *BYTES, size_t LEN) %{
  if ($1) (*jenv)->ReleaseByteArrayElements(jenv, $input, (jbyte *)$1, JNI_ABORT);
%}

/* The hot produce path: byte[] read in place (GetPrimitiveArrayCritical, no copy). Only for
 * conveyor_producer_produce, which copies the bytes and returns without waiting for another
 * Java thread (a full buffer is _QUEUE_FULL, not a wait). No JNI call happens between the Get
 * and Release calls: array lengths come from Java as separate int arguments (the internal
 * caller, Producer, passes array.length), and errors are thrown after the release. */
%typemap(jni) const void *CRIT "jbyteArray"
%typemap(jtype) const void *CRIT "byte[]"
%typemap(jstype) const void *CRIT "byte[]"
%typemap(javain) const void *CRIT "$javainput"
%typemap(in) const void *CRIT %{
  $1 = NULL;
  if ($input) {
    $1 = (*jenv)->GetPrimitiveArrayCritical(jenv, $input, NULL);
    if (!$1) return $null;
  }
%}
%typemap(freearg) const void *CRIT %{
  if ($1) (*jenv)->ReleasePrimitiveArrayCritical(jenv, $input, (void *)$1, JNI_ABORT);
%}

/* A direct ByteBuffer in (null = NULL); the adapter takes an offset and length into it. */
%typemap(jni) void *DIRECT "jobject"
%typemap(jtype) void *DIRECT "java.nio.ByteBuffer"
%typemap(jstype) void *DIRECT "java.nio.ByteBuffer"
%typemap(javain) void *DIRECT "$javainput"
%typemap(in) void *DIRECT %{
  $1 = NULL;
  if ($input) {
    $1 = (*jenv)->GetDirectBufferAddress(jenv, $input);
    if (!$1) { cvj_throw_iae(jenv, "ByteBuffer is not a direct buffer"); return $null; }
  }
%}

/* long[] / int[] out or in. */
%typemap(jni) (int64_t *ARR, size_t LEN) "jlongArray"
%typemap(jtype) (int64_t *ARR, size_t LEN) "long[]"
%typemap(jstype) (int64_t *ARR, size_t LEN) "long[]"
%typemap(javain) (int64_t *ARR, size_t LEN) "$javainput"
%typemap(in) (int64_t *ARR, size_t LEN) %{
  if (!$input) { cvj_throw_iae(jenv, "array is null"); return $null; }
  $2 = (size_t)(*jenv)->GetArrayLength(jenv, $input);
  $1 = (int64_t *)(*jenv)->GetLongArrayElements(jenv, $input, NULL);
  if (!$1) return $null;
%}
%typemap(freearg) (int64_t *ARR, size_t LEN) %{
  if ($1) (*jenv)->ReleaseLongArrayElements(jenv, $input, (jlong *)$1, 0);
%}

/* jbyteArray / jobjectArray results of adapters. */
%typemap(jni) jbyteArray "jbyteArray"
%typemap(jtype) jbyteArray "byte[]"
%typemap(jstype) jbyteArray "byte[]"
%typemap(javaout) jbyteArray { return $jnicall; }
%typemap(out) jbyteArray %{ $result = $1; %}
%typemap(jni) jobject CALLBACKS "jobject"
%typemap(jtype) jobject CALLBACKS "Object"
%typemap(jstype) jobject CALLBACKS "Object"
%typemap(javain) jobject CALLBACKS "$javainput"
%typemap(in) jobject CALLBACKS %{ $1 = $input; %}

/* ---- the whitelist of conveyor.h ---- */
%rename("$ignore", regextarget=1, fullname=1) "^conveyor_";
%rename("$ignore", regextarget=1, fullname=1) "^CONVEYOR_";
%rename("%s", regextarget=1) "^CONVEYOR_(OK|ERR_|PARTITION_ANY|OFFSET_|TIMESTAMP_|COMMIT_|REBALANCE_)";
%rename("%s") conveyor_version;
%rename("%s") conveyor_err_name;
%rename("%s") conveyor_err_retriable;
%rename("%s") conveyor_config_new;
%rename("%s") conveyor_config_set;
%rename("%s") conveyor_config_destroy;
%rename("%s") conveyor_broker_bootstrap_servers;
%rename("%s") conveyor_broker_port;
%rename("%s") conveyor_broker_data_dir;
%rename("%s") conveyor_broker_stop;
%rename("%s") conveyor_broker_destroy;
%rename("%s") conveyor_admin_delete_topic;
%rename("%s") conveyor_admin_destroy;
%rename("%s") conveyor_admin_delete_group;
%rename("%s") conveyor_topic_list_count;
%rename("%s") conveyor_topic_list_name;
%rename("%s") conveyor_topic_list_topic_id;
%rename("%s") conveyor_topic_list_error;
%rename("%s") conveyor_topic_list_is_internal;
%rename("%s") conveyor_topic_list_partition_count;
%rename("%s") conveyor_topic_list_partition_id;
%rename("%s") conveyor_topic_list_partition_leader;
%rename("%s") conveyor_topic_list_destroy;
%rename("%s") conveyor_group_list_count;
%rename("%s") conveyor_group_list_group_id;
%rename("%s") conveyor_group_list_protocol_type;
%rename("%s") conveyor_group_list_state;
%rename("%s") conveyor_group_list_destroy;
%rename("%s") conveyor_group_description_group_id;
%rename("%s") conveyor_group_description_state;
%rename("%s") conveyor_group_description_protocol_type;
%rename("%s") conveyor_group_description_protocol;
%rename("%s") conveyor_group_description_coordinator;
%rename("%s") conveyor_group_description_member_count;
%rename("%s") conveyor_group_description_member_id;
%rename("%s") conveyor_group_description_member_client_id;
%rename("%s") conveyor_group_description_member_host;
%rename("%s") conveyor_group_description_destroy;
%rename("%s") conveyor_message_topic;
%rename("%s") conveyor_message_partition;
%rename("%s") conveyor_message_offset;
%rename("%s") conveyor_message_timestamp;
%rename("%s") conveyor_message_timestamp_type;
%rename("%s") conveyor_message_header_count;

%include "conveyor/conveyor.h"

/* ---- adapters (cvj_*): what SWIG cannot map by itself ---- */
%rename("%s", regextarget=1) "^cvj_";

%{
/* A producer plus the queue its delivery callback fills (inside poll/flush, which Java
 * serialises with a lock; Java drains it under the same lock). */
typedef struct cvj_producer_s {
  conveyor_producer_t *p;
  int64_t *reports; /* 5 per report: record id, partition, offset, timestamp, error code */
  size_t n, cap;    /* reports queued / capacity (bounded by the producer's outstanding records) */
  char **messages;  /* error message per failed report, FIFO */
  size_t mn, mcap, mhead;
} cvj_producer_t;

static void cvj_delivery(const conveyor_message_t *msg, const conveyor_error_t *err, void *opaque) {
  cvj_producer_t *h = (cvj_producer_t *)opaque;
  if (h->n == h->cap) {
    size_t cap = h->cap ? h->cap * 2 : 1024;
    int64_t *r = (int64_t *)realloc(h->reports, cap * 5 * sizeof(int64_t));
    if (!r) return; /* the future then completes from Producer.close() with an error */
    h->reports = r;
    h->cap = cap;
  }
  int64_t *r = h->reports + h->n * 5;
  r[0] = (int64_t)(intptr_t)conveyor_message_opaque(msg);
  r[1] = conveyor_message_partition(msg);
  r[2] = conveyor_message_offset(msg);
  r[3] = conveyor_message_timestamp(msg);
  r[4] = err ? conveyor_error_code(err) : 0;
  h->n++;
  if (err) {
    if (h->mn == h->mcap) {
      size_t cap = h->mcap ? h->mcap * 2 : 16;
      char **m = (char **)realloc(h->messages, cap * sizeof(char *));
      if (!m) return;
      h->messages = m;
      h->mcap = cap;
    }
    const char *text = conveyor_error_message(err);
    h->messages[h->mn++] = strdup(text ? text : "");
  }
}

/* A consumer plus the batch of its last consume and the Java object its rebalance / commit
 * callbacks call (io.conveyor.internal.ConsumerCallbacks). */
typedef struct cvj_consumer_s {
  conveyor_consumer_t *c;
  conveyor_message_t **batch;
  size_t n, cap;
  JNIEnv *env;        /* the Java thread inside the current serving call; NULL otherwise */
  jobject callbacks;  /* global ref */
  jthrowable pending; /* global ref: thrown by a callback, rethrown after the serving call */
} cvj_consumer_t;

static void cvj_consumer_keep_exception(cvj_consumer_t *h, JNIEnv *env) {
  jthrowable t = (*env)->ExceptionOccurred(env);
  (*env)->ExceptionClear(env);
  if (t && !h->pending) h->pending = (jthrowable)(*env)->NewGlobalRef(env, t);
}

static jobjectArray cvj_topics(JNIEnv *env, const conveyor_topic_partition_t *p, size_t n) {
  jclass scls = (*env)->FindClass(env, "java/lang/String");
  if (!scls) return NULL;
  jobjectArray a = (*env)->NewObjectArray(env, (jsize)n, scls, NULL);
  for (size_t i = 0; a && i < n; i++) {
    jstring s = (*env)->NewStringUTF(env, p[i].topic ? p[i].topic : "");
    (*env)->SetObjectArrayElement(env, a, (jsize)i, s);
    (*env)->DeleteLocalRef(env, s);
  }
  return a;
}

static void cvj_rebalance(conveyor_consumer_t *c, int event, const conveyor_topic_partition_t *p,
                          size_t n, void *opaque) {
  cvj_consumer_t *h = (cvj_consumer_t *)opaque;
  JNIEnv *env = h->env;
  if (!env || !h->callbacks || h->pending || (*env)->ExceptionCheck(env)) return;
  (*env)->PushLocalFrame(env, 8);
  jobjectArray topics = cvj_topics(env, p, n);
  jintArray parts = (*env)->NewIntArray(env, (jsize)n);
  if (topics && parts) {
    for (size_t i = 0; i < n; i++) {
      jint v = p[i].partition;
      (*env)->SetIntArrayRegion(env, parts, (jsize)i, 1, &v);
    }
    jclass cls = (*env)->GetObjectClass(env, h->callbacks);
    jmethodID mid = (*env)->GetMethodID(env, cls, "onRebalance", "(I[Ljava/lang/String;[I)V");
    if (mid) (*env)->CallVoidMethod(env, h->callbacks, mid, (jint)event, topics, parts);
  }
  if ((*env)->ExceptionCheck(env)) cvj_consumer_keep_exception(h, env);
  (*env)->PopLocalFrame(env, NULL);
}

static void cvj_committed(conveyor_consumer_t *c, const conveyor_error_t *err,
                          const conveyor_topic_partition_t *p, size_t n, void *opaque) {
  cvj_consumer_t *h = (cvj_consumer_t *)opaque;
  JNIEnv *env = h->env;
  if (!env || !h->callbacks || h->pending || (*env)->ExceptionCheck(env)) return;
  (*env)->PushLocalFrame(env, 8);
  jobjectArray topics = cvj_topics(env, p, n);
  jintArray parts = (*env)->NewIntArray(env, (jsize)n);
  jlongArray offs = (*env)->NewLongArray(env, (jsize)n);
  jstring msg = err ? (*env)->NewStringUTF(env, conveyor_error_message(err)) : NULL;
  if (topics && parts && offs) {
    for (size_t i = 0; i < n; i++) {
      jint v = p[i].partition;
      jlong o = p[i].offset;
      (*env)->SetIntArrayRegion(env, parts, (jsize)i, 1, &v);
      (*env)->SetLongArrayRegion(env, offs, (jsize)i, 1, &o);
    }
    jclass cls = (*env)->GetObjectClass(env, h->callbacks);
    jmethodID mid = (*env)->GetMethodID(env, cls, "onCommit",
                                        "(ILjava/lang/String;[Ljava/lang/String;[I[J)V");
    if (mid)
      (*env)->CallVoidMethod(env, h->callbacks, mid, (jint)(err ? conveyor_error_code(err) : 0),
                             msg, topics, parts, offs);
  }
  if ((*env)->ExceptionCheck(env)) cvj_consumer_keep_exception(h, env);
  (*env)->PopLocalFrame(env, NULL);
}

/* After a serving call: rethrow what a callback threw (takes precedence over a native error
 * already pending? no: a native error thrown by the errp typemap comes later and is skipped
 * by cvj_throw when this one is pending). */
static void cvj_consumer_end_call(cvj_consumer_t *h, JNIEnv *env) {
  h->env = NULL;
  if (h->pending) {
    jthrowable t = h->pending;
    h->pending = NULL;
    if (!(*env)->ExceptionCheck(env)) (*env)->Throw(env, t);
    (*env)->DeleteGlobalRef(env, t);
  }
}

static void cvj_consumer_clear_batch(cvj_consumer_t *h) {
  for (size_t i = 0; i < h->n; i++) conveyor_message_destroy(h->batch[i]);
  h->n = 0;
}

/* Headers packed by Java: per header [u32 key length][key bytes][i32 value length, -1 =
 * null][value bytes], big-endian. Parsed into an array the caller frees. */
static uint32_t cvj_be32(const unsigned char *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

typedef struct cvj_retry_s {
  conveyor_retry_handler_t *r;
  cvj_consumer_t *consumer;
  jobject handler; /* during a run: the Java RecordHandler bridge (local ref) */
  JNIEnv *env;
} cvj_retry_t;

static int cvj_record(const conveyor_message_t *msg, char *errbuf, size_t errbuf_size,
                      void *opaque) {
  cvj_retry_t *h = (cvj_retry_t *)opaque;
  JNIEnv *env = h->env;
  if (!env || (*env)->ExceptionCheck(env)) {
    if (errbuf_size) snprintf(errbuf, errbuf_size, "%s", "handler not callable");
    return 1;
  }
  jclass cls = (*env)->GetObjectClass(env, h->handler);
  jmethodID mid = (*env)->GetMethodID(env, cls, "handle", "(J)Ljava/lang/String;");
  jstring res = mid ? (jstring)(*env)->CallObjectMethod(env, h->handler, mid,
                                                        (jlong)(intptr_t)msg)
                    : NULL;
  (*env)->DeleteLocalRef(env, cls);
  if ((*env)->ExceptionCheck(env)) { /* the bridge catches handler exceptions; be safe */
    (*env)->ExceptionClear(env);
    if (errbuf_size) snprintf(errbuf, errbuf_size, "%s", "exception in the record handler");
    return 1;
  }
  if (!res) return 0;
  const char *text = (*env)->GetStringUTFChars(env, res, NULL);
  if (errbuf_size) snprintf(errbuf, errbuf_size, "%s", text ? text : "");
  if (text) (*env)->ReleaseStringUTFChars(env, res, text);
  (*env)->DeleteLocalRef(env, res);
  return 1;
}
%}

%{
static jbyteArray cvj_bytes(JNIEnv *jenv, const void *p, size_t n) {
  if (!p) return NULL;
  jbyteArray a = (*jenv)->NewByteArray(jenv, (jsize)n);
  if (a && n) (*jenv)->SetByteArrayRegion(jenv, a, 0, (jsize)n, (const jbyte *)p);
  return a;
}
%}

%apply (const void *BYTES, size_t LEN) { (const void *key, size_t key_len) };
%apply (const void *BYTES, size_t LEN) { (const void *value, size_t value_len) };
%apply (const void *BYTES, size_t LEN) { (const void *headers, size_t headers_len) };
%apply const void *CRIT { const void *topic_utf8, const void *ckey, const void *cvalue };
%apply (int64_t *ARR, size_t LEN) { (int64_t *out, size_t out_len) };
%apply (int64_t *ARR, size_t LEN) { (int64_t *offsets, size_t offsets_len) };
%apply void *DIRECT { void *key_buf };
%apply void *DIRECT { void *value_buf };
%apply jobject CALLBACKS { jobject callbacks };
%apply jobject CALLBACKS { jobject handler };
%newobject cvj_producer_take_error_message;
%newobject cvj_consumer_assignment;
%newobject cvj_consumer_paused;

%inline %{
/* ---- broker / admin creation (out-parameter -> return value) ---- */
conveyor_broker_t *cvj_broker_new(const conveyor_config_t *conf, conveyor_error_t **errp) {
  conveyor_broker_t *b = NULL;
  conveyor_broker_new(conf, &b, errp);
  return b;
}
conveyor_admin_t *cvj_admin_new(const conveyor_config_t *conf, conveyor_error_t **errp) {
  conveyor_admin_t *a = NULL;
  conveyor_admin_new(conf, &a, errp);
  return a;
}
int cvj_admin_create_topic(conveyor_admin_t *admin, const char *name, int32_t partitions,
                           int32_t replication_factor, const conveyor_config_t *config,
                           int32_t timeout_ms, conveyor_error_t **errp) {
  return conveyor_admin_create_topic(admin, name, partitions, (int16_t)replication_factor, config,
                                     timeout_ms, errp);
}
conveyor_topic_list_t *cvj_admin_list_topics(conveyor_admin_t *admin, int32_t timeout_ms,
                                             conveyor_error_t **errp) {
  conveyor_topic_list_t *l = NULL;
  conveyor_admin_list_topics(admin, timeout_ms, &l, errp);
  return l;
}
/* names: joined with '\n' ("" = every topic). */
conveyor_topic_list_t *cvj_admin_describe_topics(conveyor_admin_t *admin, const char *names,
                                                 int32_t timeout_ms, conveyor_error_t **errp) {
  conveyor_topic_list_t *l = NULL;
  if (!names) names = "";
  size_t count = 0, len = strlen(names);
  char *copy = strdup(names);
  const char **v = (const char **)calloc(len + 1, sizeof(char *));
  if (!copy || !v) { free(copy); free((void *)v); return NULL; }
  if (len) {
    char *s = copy;
    v[count++] = s;
    for (; *s; s++) if (*s == '\n') { *s = 0; v[count++] = s + 1; }
  }
  conveyor_admin_describe_topics(admin, v, count, timeout_ms, &l, errp);
  free(copy);
  free((void *)v);
  return l;
}
conveyor_group_list_t *cvj_admin_list_groups(conveyor_admin_t *admin, int32_t timeout_ms,
                                             conveyor_error_t **errp) {
  conveyor_group_list_t *l = NULL;
  conveyor_admin_list_groups(admin, NULL, 0, timeout_ms, &l, errp);
  return l;
}
conveyor_group_description_t *cvj_admin_describe_group(conveyor_admin_t *admin, const char *group,
                                                       int32_t timeout_ms,
                                                       conveyor_error_t **errp) {
  conveyor_group_description_t *d = NULL;
  conveyor_admin_describe_group(admin, group, timeout_ms, &d, errp);
  return d;
}

/* ---- producer ---- */
cvj_producer_t *cvj_producer_new(const conveyor_config_t *conf, conveyor_error_t **errp) {
  cvj_producer_t *h = (cvj_producer_t *)calloc(1, sizeof(cvj_producer_t));
  if (!h) return NULL;
  if (conveyor_producer_new(conf, cvj_delivery, h, &h->p, errp) != CONVEYOR_OK) {
    free(h);
    return NULL;
  }
  return h;
}
/* headers: packed (see cvj_be32 above) or null. */
int cvj_produce(cvj_producer_t *h, const char *topic, int32_t partition, const void *key,
                size_t key_len, const void *value, size_t value_len, const void *headers,
                size_t headers_len, int64_t timestamp_ms, int64_t id, conveyor_error_t **errp) {
  conveyor_header_t local[16];
  conveyor_header_t *hs = local;
  size_t count = 0;
  if (headers && headers_len) {
    const unsigned char *p = (const unsigned char *)headers, *end = p + headers_len;
    size_t cap = 16;
    while (p < end) {
      if (end - p < 8) goto bad;
      uint32_t klen = cvj_be32(p);
      if ((size_t)(end - p - 4) < (size_t)klen + 4) goto bad;
      const unsigned char *k = p + 4;
      int32_t vlen = (int32_t)cvj_be32(k + klen);
      const unsigned char *v = k + klen + 4;
      if (vlen < -1 || (vlen > 0 && (size_t)(end - v) < (size_t)vlen)) goto bad;
      if (count == cap) {
        cap *= 2;
        conveyor_header_t *n = (conveyor_header_t *)malloc(cap * sizeof(conveyor_header_t));
        if (!n) goto bad;
        memcpy(n, hs, count * sizeof(conveyor_header_t));
        if (hs != local) free(hs);
        hs = n;
      }
      /* keys are NUL-terminated by Java's packing (klen counts the NUL) */
      if (klen == 0 || k[klen - 1] != 0) goto bad;
      hs[count].key = (const char *)k;
      hs[count].value = vlen < 0 ? NULL : (const void *)v;
      hs[count].value_len = vlen < 0 ? 0 : (size_t)vlen;
      count++;
      p = v + (vlen > 0 ? vlen : 0);
    }
  }
  {
    int rc = conveyor_producer_produce(h ? h->p : NULL, topic, partition, key, key_len, value,
                                       value_len, count ? hs : NULL, count, timestamp_ms,
                                       (void *)(intptr_t)id, errp);
    if (hs != local) free(hs);
    return rc;
  }
bad:
  if (hs != local) free(hs);
  return CONVEYOR_ERR__INVALID_ARG; /* Java packs headers itself; never reached */
}
/* The fast path: no headers; topic as NUL-terminated UTF-8 bytes; all arrays read in place. */
int cvj_produce_fast(cvj_producer_t *h, const void *topic_utf8, int32_t topic_len,
                     int32_t partition, const void *ckey, int32_t ckey_len, const void *cvalue,
                     int32_t cvalue_len,
                     int64_t timestamp_ms, int64_t id, conveyor_error_t **errp_late) {
  const char *topic = (const char *)topic_utf8;
  if (topic && (topic_len <= 0 || topic[topic_len - 1] != 0)) topic = NULL; /* -> _INVALID_ARG */
  return conveyor_producer_produce(h ? h->p : NULL, topic, partition, ckey,
                                   ckey ? (size_t)ckey_len : 0, cvalue,
                                   cvalue ? (size_t)cvalue_len : 0, NULL, 0, timestamp_ms,
                                   (void *)(intptr_t)id, errp_late);
}
/* A record whose key/value are slices of direct ByteBuffers (null buffer = null). */
int cvj_produce_direct(cvj_producer_t *h, const char *topic, int32_t partition, void *key_buf,
                       int32_t key_off, int32_t key_len, void *value_buf, int32_t value_off,
                       int32_t value_len, int64_t timestamp_ms, int64_t id,
                       conveyor_error_t **errp) {
  const char *k = key_buf ? (const char *)key_buf + key_off : NULL;
  const char *v = value_buf ? (const char *)value_buf + value_off : NULL;
  return conveyor_producer_produce(h ? h->p : NULL, topic, partition, k, k ? (size_t)key_len : 0,
                                   v, v ? (size_t)value_len : 0, NULL, 0, timestamp_ms,
                                   (void *)(intptr_t)id, errp);
}
int cvj_producer_poll(cvj_producer_t *h, int32_t timeout_ms, conveyor_error_t **errp) {
  size_t served = 0;
  conveyor_producer_poll(h ? h->p : NULL, timeout_ms, &served, errp);
  return (int)served;
}
int cvj_producer_flush(cvj_producer_t *h, int32_t timeout_ms, conveyor_error_t **errp) {
  return conveyor_producer_flush(h ? h->p : NULL, timeout_ms, errp);
}
long long cvj_producer_outstanding(cvj_producer_t *h) {
  return h ? (long long)conveyor_producer_outstanding(h->p) : 0;
}
/* Moves up to out_len/5 queued reports into out (5 longs each, in report order); returns how
 * many. */
int cvj_producer_take_reports(cvj_producer_t *h, int64_t *out, size_t out_len) {
  if (!h) return 0;
  size_t k = out_len / 5;
  if (k > h->n) k = h->n;
  memcpy(out, h->reports, k * 5 * sizeof(int64_t));
  memmove(h->reports, h->reports + k * 5, (h->n - k) * 5 * sizeof(int64_t));
  h->n -= k;
  return (int)k;
}
/* The message of the oldest failed report not yet taken (taken in report order). */
char *cvj_producer_take_error_message(cvj_producer_t *h) {
  if (!h || h->mhead >= h->mn) return NULL;
  char *m = h->messages[h->mhead++];
  if (h->mhead == h->mn) h->mhead = h->mn = 0;
  return m; /* freed by the %newobject rule */
}
void cvj_producer_destroy(cvj_producer_t *h) {
  if (!h) return;
  conveyor_producer_destroy(h->p);
  for (size_t i = h->mhead; i < h->mn; i++) free(h->messages[i]);
  free(h->messages);
  free(h->reports);
  free(h);
}
%}

%inline %{
/* ---- consumer ---- */
cvj_consumer_t *cvj_consumer_new(JNIEnv *jenv, const conveyor_config_t *conf, jobject callbacks,
                                 conveyor_error_t **errp) {
  cvj_consumer_t *h = (cvj_consumer_t *)calloc(1, sizeof(cvj_consumer_t));
  if (!h) return NULL;
  if (conveyor_consumer_new(conf, &h->c, errp) != CONVEYOR_OK) {
    free(h);
    return NULL;
  }
  if (callbacks) {
    h->callbacks = (*jenv)->NewGlobalRef(jenv, callbacks);
    conveyor_consumer_set_rebalance_cb(h->c, cvj_rebalance, h, NULL);
    conveyor_consumer_set_commit_cb(h->c, cvj_committed, h, NULL);
  }
  return h;
}
/* The topics joined with '\n'. */
int cvj_consumer_subscribe(cvj_consumer_t *h, const char *topics, conveyor_error_t **errp) {
  if (!topics) topics = "";
  size_t count = 0, len = strlen(topics);
  char *copy = strdup(topics);
  const char **v = (const char **)calloc(len + 1, sizeof(char *));
  int rc = CONVEYOR_ERR__FAIL;
  if (copy && v) {
    if (len) {
      char *s = copy;
      v[count++] = s;
      for (; *s; s++) if (*s == '\n') { *s = 0; v[count++] = s + 1; }
    }
    rc = conveyor_consumer_subscribe(h ? h->c : NULL, v, count, errp);
  }
  free(copy);
  free((void *)v);
  return rc;
}
int cvj_consumer_subscribe_pattern(cvj_consumer_t *h, const char *regex, conveyor_error_t **errp) {
  return conveyor_consumer_subscribe_pattern(h ? h->c : NULL, regex, errp);
}
int cvj_consumer_unsubscribe(JNIEnv *jenv, cvj_consumer_t *h, conveyor_error_t **errp) {
  if (!h) return conveyor_consumer_unsubscribe(NULL, errp);
  h->env = jenv;
  int rc = conveyor_consumer_unsubscribe(h->c, errp);
  cvj_consumer_end_call(h, jenv);
  return rc;
}
/* topics joined with '\n'; partitions and offsets as parallel arrays in offsets (2 per entry:
 * partition, offset). */
int cvj_consumer_assign(cvj_consumer_t *h, const char *topics, int64_t *offsets,
                        size_t offsets_len, conveyor_error_t **errp) {
  size_t n = offsets_len / 2, len = topics ? strlen(topics) : 0;
  char *copy = strdup(topics ? topics : "");
  conveyor_topic_partition_t *tp =
      (conveyor_topic_partition_t *)calloc(n ? n : 1, sizeof(conveyor_topic_partition_t));
  int rc = CONVEYOR_ERR__FAIL;
  if (copy && tp) {
    char *s = copy;
    size_t i = 0;
    if (n) {
      tp[i].topic = s;
      for (; *s && i < n; s++) if (*s == '\n') { *s = 0; if (++i < n) tp[i].topic = s + 1; }
    }
    (void)len;
    for (size_t j = 0; j < n; j++) {
      if (!tp[j].topic) tp[j].topic = "";
      tp[j].partition = (int32_t)offsets[2 * j];
      tp[j].offset = offsets[2 * j + 1];
    }
    rc = conveyor_consumer_assign(h ? h->c : NULL, tp, n, errp);
  }
  free(copy);
  free(tp);
  return rc;
}
int cvj_consumer_seek(cvj_consumer_t *h, const char *topic, int32_t partition, int64_t offset,
                      conveyor_error_t **errp) {
  return conveyor_consumer_seek(h ? h->c : NULL, topic, partition, offset, errp);
}
long long cvj_consumer_position(cvj_consumer_t *h, const char *topic, int32_t partition,
                                conveyor_error_t **errp) {
  int64_t off = -1;
  conveyor_consumer_position(h ? h->c : NULL, topic, partition, &off, errp);
  return off;
}
/* Polls up to max records into the consumer's batch (the previous batch is freed); returns
 * the count. */
int cvj_consumer_consume(JNIEnv *jenv, cvj_consumer_t *h, int32_t max, int32_t timeout_ms,
                         conveyor_error_t **errp) {
  if (!h) {
    size_t none = 0;
    conveyor_consumer_consume(NULL, 1, 0, NULL, &none, errp);
    return 0;
  }
  cvj_consumer_clear_batch(h);
  if (max < 1) max = 1;
  if ((size_t)max > h->cap) {
    conveyor_message_t **b =
        (conveyor_message_t **)realloc(h->batch, (size_t)max * sizeof(conveyor_message_t *));
    if (!b) return 0;
    h->batch = b;
    h->cap = (size_t)max;
  }
  size_t count = 0;
  h->env = jenv;
  conveyor_consumer_consume(h->c, (size_t)max, timeout_ms, h->batch, &count, errp);
  h->n = count;
  cvj_consumer_end_call(h, jenv);
  return (int)count;
}
conveyor_message_t *cvj_consumer_batch_get(cvj_consumer_t *h, int32_t i) {
  return (h && i >= 0 && (size_t)i < h->n) ? h->batch[i] : NULL;
}
void cvj_consumer_batch_clear(cvj_consumer_t *h) {
  if (h) cvj_consumer_clear_batch(h);
}
/* offsets: (partition, offset) pairs with topics joined by '\n'; none = current positions. */
int cvj_consumer_commit(JNIEnv *jenv, cvj_consumer_t *h, const char *topics, int64_t *offsets,
                        size_t offsets_len, int32_t async, int32_t timeout_ms,
                        conveyor_error_t **errp) {
  size_t n = offsets_len / 2;
  char *copy = strdup(topics ? topics : "");
  conveyor_topic_partition_t *tp =
      (conveyor_topic_partition_t *)calloc(n ? n : 1, sizeof(conveyor_topic_partition_t));
  int rc = CONVEYOR_ERR__FAIL;
  if (copy && tp) {
    char *s = copy;
    size_t i = 0;
    if (n) {
      tp[i].topic = s;
      for (; *s && i < n; s++) if (*s == '\n') { *s = 0; if (++i < n) tp[i].topic = s + 1; }
    }
    for (size_t j = 0; j < n; j++) {
      if (!tp[j].topic) tp[j].topic = "";
      tp[j].partition = (int32_t)offsets[2 * j];
      tp[j].offset = offsets[2 * j + 1];
    }
    if (h) h->env = jenv;
    rc = conveyor_consumer_commit(h ? h->c : NULL, n ? tp : NULL, n, NULL,
                                  async ? CONVEYOR_COMMIT_ASYNC : CONVEYOR_COMMIT_SYNC,
                                  timeout_ms, errp);
    if (h) cvj_consumer_end_call(h, jenv);
  }
  free(copy);
  free(tp);
  return rc;
}
/* Committed offset of one partition (-1 if none). */
long long cvj_consumer_committed(cvj_consumer_t *h, const char *topic, int32_t partition,
                                 int32_t timeout_ms, conveyor_error_t **errp) {
  conveyor_topic_partition_t tp;
  tp.topic = topic;
  tp.partition = partition;
  tp.offset = -1;
  conveyor_consumer_committed(h ? h->c : NULL, &tp, 1, timeout_ms, errp);
  return tp.offset;
}
/* The assignment as "topic\npartition\n..." pairs. */
char *cvj_consumer_assignment(cvj_consumer_t *h, conveyor_error_t **errp) {
  conveyor_partition_list_t *l = NULL;
  if (conveyor_consumer_assignment(h ? h->c : NULL, &l, errp) != CONVEYOR_OK) return NULL;
  size_t n = conveyor_partition_list_count(l), size = 1;
  for (size_t i = 0; i < n; i++) size += strlen(conveyor_partition_list_get(l, i)->topic) + 16;
  char *out = (char *)malloc(size), *p = out;
  if (out) {
    *p = 0;
    for (size_t i = 0; i < n; i++) {
      const conveyor_topic_partition_t *tp = conveyor_partition_list_get(l, i);
      p += sprintf(p, "%s\n%d\n", tp->topic, (int)tp->partition);
    }
  }
  conveyor_partition_list_destroy(l);
  return out;
}
/* Flow control: topics joined with '\n', (partition, offset) pairs in offsets (offsets
 * ignored); pause != 0 pauses, 0 resumes. */
int cvj_consumer_pause(cvj_consumer_t *h, const char *topics, int64_t *offsets, size_t offsets_len,
                       int32_t pause, conveyor_error_t **errp) {
  size_t n = offsets_len / 2;
  char *copy = strdup(topics ? topics : "");
  conveyor_topic_partition_t *tp =
      (conveyor_topic_partition_t *)calloc(n ? n : 1, sizeof(conveyor_topic_partition_t));
  int rc = CONVEYOR_ERR__FAIL;
  if (copy && tp) {
    char *s = copy;
    size_t i = 0;
    if (n) {
      tp[i].topic = s;
      for (; *s && i < n; s++) if (*s == '\n') { *s = 0; if (++i < n) tp[i].topic = s + 1; }
    }
    for (size_t j = 0; j < n; j++) {
      if (!tp[j].topic) tp[j].topic = "";
      tp[j].partition = (int32_t)offsets[2 * j];
      tp[j].offset = CONVEYOR_OFFSET_INVALID;
    }
    rc = pause ? conveyor_consumer_pause(h ? h->c : NULL, tp, n, errp)
               : conveyor_consumer_resume(h ? h->c : NULL, tp, n, errp);
  }
  free(copy);
  free(tp);
  return rc;
}
/* offsets_for_times: topics joined with '\n', (partition, timestamp ms) pairs in offsets; on
 * success each timestamp is replaced by the earliest offset whose timestamp is >= it, or -1. */
int cvj_consumer_offsets_for_times(cvj_consumer_t *h, const char *topics, int64_t *offsets,
                                   size_t offsets_len, int32_t timeout_ms, conveyor_error_t **errp) {
  size_t n = offsets_len / 2;
  char *copy = strdup(topics ? topics : "");
  conveyor_topic_partition_t *tp =
      (conveyor_topic_partition_t *)calloc(n ? n : 1, sizeof(conveyor_topic_partition_t));
  int rc = CONVEYOR_ERR__FAIL;
  if (copy && tp) {
    char *s = copy;
    size_t i = 0;
    if (n) {
      tp[i].topic = s;
      for (; *s && i < n; s++) if (*s == '\n') { *s = 0; if (++i < n) tp[i].topic = s + 1; }
    }
    for (size_t j = 0; j < n; j++) {
      if (!tp[j].topic) tp[j].topic = "";
      tp[j].partition = (int32_t)offsets[2 * j];
      tp[j].offset = offsets[2 * j + 1];
    }
    rc = conveyor_consumer_offsets_for_times(h ? h->c : NULL, tp, n, timeout_ms, errp);
    if (rc == CONVEYOR_OK)
      for (size_t j = 0; j < n; j++) offsets[2 * j + 1] = tp[j].offset;
  }
  free(copy);
  free(tp);
  return rc;
}
/* The paused partitions as "topic\npartition\n..." pairs. */
char *cvj_consumer_paused(cvj_consumer_t *h, conveyor_error_t **errp) {
  conveyor_partition_list_t *l = NULL;
  if (conveyor_consumer_paused(h ? h->c : NULL, &l, errp) != CONVEYOR_OK) return NULL;
  size_t n = conveyor_partition_list_count(l), size = 1;
  for (size_t i = 0; i < n; i++) size += strlen(conveyor_partition_list_get(l, i)->topic) + 16;
  char *out = (char *)malloc(size), *p = out;
  if (out) {
    *p = 0;
    for (size_t i = 0; i < n; i++) {
      const conveyor_topic_partition_t *tp = conveyor_partition_list_get(l, i);
      p += sprintf(p, "%s\n%d\n", tp->topic, (int)tp->partition);
    }
  }
  conveyor_partition_list_destroy(l);
  return out;
}
void cvj_consumer_wakeup(cvj_consumer_t *h) {
  if (h) conveyor_consumer_wakeup(h->c);
}
int cvj_consumer_close(JNIEnv *jenv, cvj_consumer_t *h, conveyor_error_t **errp) {
  if (!h) return conveyor_consumer_close(NULL, errp);
  h->env = jenv;
  int rc = conveyor_consumer_close(h->c, errp);
  cvj_consumer_end_call(h, jenv);
  return rc;
}
void cvj_consumer_destroy(JNIEnv *jenv, cvj_consumer_t *h) {
  if (!h) return;
  cvj_consumer_clear_batch(h);
  h->env = NULL; /* destroy closes without calling back */
  if (h->callbacks) {
    conveyor_consumer_set_rebalance_cb(h->c, NULL, NULL, NULL);
    conveyor_consumer_set_commit_cb(h->c, NULL, NULL, NULL);
  }
  conveyor_consumer_destroy(h->c);
  if (h->callbacks) (*jenv)->DeleteGlobalRef(jenv, h->callbacks);
  if (h->pending) (*jenv)->DeleteGlobalRef(jenv, h->pending);
  free(h->batch);
  free(h);
}

/* ---- messages (consumed, or handed to a record handler) ---- */
/* out[0..4] = partition, offset, timestamp, timestamp type, header count. */
void cvj_message_meta(const conveyor_message_t *msg, int64_t *out, size_t out_len) {
  if (!msg || out_len < 5) return;
  out[0] = conveyor_message_partition(msg);
  out[1] = conveyor_message_offset(msg);
  out[2] = conveyor_message_timestamp(msg);
  out[3] = conveyor_message_timestamp_type(msg);
  out[4] = (int64_t)conveyor_message_header_count(msg);
}
jbyteArray cvj_message_key(JNIEnv *jenv, const conveyor_message_t *msg) {
  size_t n = 0;
  const void *p = msg ? conveyor_message_key(msg, &n) : NULL;
  return cvj_bytes(jenv, p, n);
}
jbyteArray cvj_message_value(JNIEnv *jenv, const conveyor_message_t *msg) {
  size_t n = 0;
  const void *p = msg ? conveyor_message_value(msg, &n) : NULL;
  return cvj_bytes(jenv, p, n);
}
const char *cvj_message_header_key(const conveyor_message_t *msg, int32_t i) {
  const char *k = NULL;
  if (!msg || conveyor_message_header(msg, (size_t)i, &k, NULL, NULL) != CONVEYOR_OK) return NULL;
  return k;
}
jbyteArray cvj_message_header_value(JNIEnv *jenv, const conveyor_message_t *msg, int32_t i) {
  const void *v = NULL;
  size_t n = 0;
  if (!msg || conveyor_message_header(msg, (size_t)i, NULL, &v, &n) != CONVEYOR_OK) return NULL;
  return cvj_bytes(jenv, v, n);
}

/* ---- retry / dead-letter handler ---- */
cvj_retry_t *cvj_retry_new(cvj_consumer_t *consumer, cvj_producer_t *producer,
                           const conveyor_config_t *conf, conveyor_error_t **errp) {
  cvj_retry_t *h = (cvj_retry_t *)calloc(1, sizeof(cvj_retry_t));
  if (!h) return NULL;
  h->consumer = consumer;
  if (conveyor_retry_handler_new(consumer ? consumer->c : NULL, producer ? producer->p : NULL,
                                 conf, &h->r, errp) != CONVEYOR_OK) {
    free(h);
    return NULL;
  }
  return h;
}
/* Runs up to timeout_ms calling handler.handle(long message) (null = accepted, else the failure
 * reason); stats out: records, succeeded, retries, dead_lettered, commits, commit_failures. */
int cvj_retry_run(JNIEnv *jenv, cvj_retry_t *h, jobject handler, int32_t timeout_ms,
                  int64_t *out, size_t out_len, conveyor_error_t **errp) {
  conveyor_retry_stats_t st;
  memset(&st, 0, sizeof st);
  if (!h) return conveyor_retry_handler_run(NULL, cvj_record, NULL, timeout_ms, &st, errp);
  h->env = jenv;
  h->handler = handler;
  if (h->consumer) h->consumer->env = jenv;
  int rc = conveyor_retry_handler_run(h->r, cvj_record, h, timeout_ms, &st, errp);
  h->env = NULL;
  h->handler = NULL;
  if (h->consumer) cvj_consumer_end_call(h->consumer, jenv);
  if (out_len >= 6) {
    out[0] = (int64_t)st.records;
    out[1] = (int64_t)st.succeeded;
    out[2] = (int64_t)st.retries;
    out[3] = (int64_t)st.dead_lettered;
    out[4] = (int64_t)st.commits;
    out[5] = (int64_t)st.commit_failures;
  }
  return rc;
}
void cvj_retry_stop(cvj_retry_t *h) {
  if (h) conveyor_retry_handler_stop(h->r);
}
void cvj_retry_stats(cvj_retry_t *h, int64_t *out, size_t out_len) {
  conveyor_retry_stats_t st;
  memset(&st, 0, sizeof st);
  if (h) conveyor_retry_handler_stats(h->r, &st);
  if (out_len >= 6) {
    out[0] = (int64_t)st.records;
    out[1] = (int64_t)st.succeeded;
    out[2] = (int64_t)st.retries;
    out[3] = (int64_t)st.dead_lettered;
    out[4] = (int64_t)st.commits;
    out[5] = (int64_t)st.commit_failures;
  }
}
void cvj_retry_destroy(cvj_retry_t *h) {
  if (!h) return;
  conveyor_retry_handler_destroy(h->r);
  free(h);
}
%}
