/* conveyor from C: start an embedded broker, create a topic, produce ten records, read them
 * back. Build: cc -std=c99 quickstart.c -I capi/include -L build/capi -lconveyor
 * Run:   LD_LIBRARY_PATH=build/capi ./a.out */
#include <conveyor/conveyor.h>

#include <stdio.h>
#include <string.h>

static void on_delivery(const conveyor_message_t *msg, const conveyor_error_t *err, void *opaque) {
  (void)opaque;
  if (err)
    fprintf(stderr, "delivery failed: %s\n", conveyor_error_message(err));
  else
    printf("delivered to %s [%d] at offset %lld\n", conveyor_message_topic(msg),
           (int)conveyor_message_partition(msg), (long long)conveyor_message_offset(msg));
}

static int fail(const char *what, conveyor_error_t *err) {
  fprintf(stderr, "%s: %s: %s\n", what, conveyor_error_name(err), conveyor_error_message(err));
  conveyor_error_destroy(err);
  return 1;
}

int main(void) {
  conveyor_error_t *err = NULL;
  conveyor_broker_t *broker = NULL;
  conveyor_config_t *conf = conveyor_config_new();
  conveyor_admin_t *admin = NULL;
  conveyor_producer_t *producer = NULL;
  conveyor_consumer_t *consumer = NULL;
  conveyor_topic_partition_t tp;
  int i, read = 0, tries;

  if (conveyor_broker_new(NULL, &broker, &err)) return fail("broker", err);
  printf("conveyor %s, broker at %s\n", conveyor_version(), conveyor_broker_bootstrap_servers(broker));
  if (conveyor_config_set(conf, "bootstrap.servers", conveyor_broker_bootstrap_servers(broker), &err))
    return fail("config", err);

  if (conveyor_admin_new(conf, &admin, &err)) return fail("admin", err);
  if (conveyor_admin_create_topic(admin, "greetings", 1, 1, NULL, 10000, &err)) return fail("create", err);

  if (conveyor_producer_new(conf, on_delivery, NULL, &producer, &err)) return fail("producer", err);
  for (i = 0; i < 10; ++i) {
    char value[32];
    sprintf(value, "hello %d", i);
    if (conveyor_producer_produce(producer, "greetings", CONVEYOR_PARTITION_ANY, "k", 1, value,
                                  strlen(value), NULL, 0, 0, NULL, &err))
      return fail("produce", err);
  }
  if (conveyor_producer_flush(producer, 10000, &err)) return fail("flush", err);

  if (conveyor_consumer_new(conf, &consumer, &err)) return fail("consumer", err);
  tp.topic = "greetings";
  tp.partition = 0;
  tp.offset = CONVEYOR_OFFSET_BEGINNING;
  if (conveyor_consumer_assign(consumer, &tp, 1, &err)) return fail("assign", err);
  for (tries = 0; read < 10 && tries < 100; ++tries) {
    conveyor_message_t *msg = NULL;
    size_t len = 0;
    const char *value;
    if (conveyor_consumer_poll(consumer, 100, &msg, &err)) return fail("poll", err);
    if (!msg) continue;
    value = (const char *)conveyor_message_value(msg, &len);
    printf("offset %lld: %.*s\n", (long long)conveyor_message_offset(msg), (int)len, value);
    conveyor_message_destroy(msg);
    ++read;
  }
  conveyor_consumer_destroy(consumer);
  conveyor_producer_destroy(producer);
  conveyor_admin_destroy(admin);
  conveyor_config_destroy(conf);
  conveyor_broker_destroy(broker);
  return read == 10 ? 0 : 1;
}
