// The C ABI's error contract: NULL handles and unknown/bad config keys fail with an error
// naming the problem; error objects carry code, name, message and flags; config round-trips.
#include <gtest/gtest.h>

#include <string>

#include "conveyor/conveyor.h"

namespace {

// Calls f(&err), expects `code` and a message containing `needle`, frees the error.
template <class F>
void expect_error(F f, conveyor_err_t code, const std::string& needle) {
  conveyor_error_t* err = nullptr;
  conveyor_err_t rc = f(&err);
  EXPECT_EQ(rc, code);
  ASSERT_NE(err, nullptr);
  EXPECT_EQ(conveyor_error_code(err), code);
  EXPECT_NE(std::string(conveyor_error_message(err)).find(needle), std::string::npos)
      << conveyor_error_message(err);
  EXPECT_STREQ(conveyor_error_name(err), conveyor_err_name(code));
  conveyor_error_destroy(err);
}

TEST(CapiConfig, UnknownKeyIsNamed) {
  conveyor_config_t* conf = conveyor_config_new();
  expect_error([&](conveyor_error_t** e) { return conveyor_config_set(conf, "no.such.key", "1", e); },
               CONVEYOR_ERR_INVALID_CONFIG, "no.such.key");
  EXPECT_EQ(conveyor_config_count(conf), 0u);
  conveyor_config_destroy(conf);
}

TEST(CapiConfig, BadValueIsNamed) {
  conveyor_config_t* conf = conveyor_config_new();
  expect_error([&](conveyor_error_t** e) { return conveyor_config_set(conf, "acks", "most", e); },
               CONVEYOR_ERR_INVALID_CONFIG, "acks");
  expect_error(
      [&](conveyor_error_t** e) { return conveyor_config_set(conf, "enable.idempotence", "maybe", e); },
      CONVEYOR_ERR_INVALID_CONFIG, "enable.idempotence");
  conveyor_config_destroy(conf);
}

TEST(CapiConfig, SetGetDupAndIterate) {
  conveyor_config_t* conf = conveyor_config_new();
  ASSERT_EQ(conveyor_config_set(conf, "linger.ms", "5", nullptr), CONVEYOR_OK);
  ASSERT_EQ(conveyor_config_set(conf, "bootstrap.servers", "h:1", nullptr), CONVEYOR_OK);
  ASSERT_EQ(conveyor_config_set(conf, "log.dirs", "/tmp/x", nullptr), CONVEYOR_OK);  // broker key
  ASSERT_EQ(conveyor_config_set(conf, "cleanup.policy", "delete", nullptr), CONVEYOR_OK);  // topic key
  ASSERT_EQ(conveyor_config_set(conf, "linger.ms", "7", nullptr), CONVEYOR_OK);
  EXPECT_STREQ(conveyor_config_get(conf, "linger.ms"), "7");
  EXPECT_EQ(conveyor_config_get(conf, "acks"), nullptr);
  conveyor_config_t* copy = conveyor_config_dup(conf);
  conveyor_config_destroy(conf);
  ASSERT_EQ(conveyor_config_count(copy), 4u);
  EXPECT_STREQ(conveyor_config_key_at(copy, 0), "bootstrap.servers");
  EXPECT_STREQ(conveyor_config_value_at(copy, 0), "h:1");
  EXPECT_EQ(conveyor_config_key_at(copy, 4), nullptr);
  conveyor_config_destroy(copy);
}

TEST(CapiConfig, ComponentRejectsKeyOfAnotherComponent) {
  conveyor_config_t* conf = conveyor_config_new();
  ASSERT_EQ(conveyor_config_set(conf, "bootstrap.servers", "127.0.0.1:1", nullptr), CONVEYOR_OK);
  ASSERT_EQ(conveyor_config_set(conf, "log.dirs", "/tmp/x", nullptr), CONVEYOR_OK);
  conveyor_producer_t* p = reinterpret_cast<conveyor_producer_t*>(1);
  expect_error([&](conveyor_error_t** e) { return conveyor_producer_new(conf, nullptr, nullptr, &p, e); },
               CONVEYOR_ERR_INVALID_CONFIG, "log.dirs");
  EXPECT_EQ(p, nullptr);
  conveyor_config_destroy(conf);
}

TEST(CapiNull, HandlesAndArgumentsAreNamed) {
  const conveyor_err_t inval = CONVEYOR_ERR__INVALID_ARG;
  expect_error([](conveyor_error_t** e) { return conveyor_config_set(nullptr, "a", "b", e); }, inval, "conf");
  conveyor_config_t* conf = conveyor_config_new();
  expect_error([&](conveyor_error_t** e) { return conveyor_config_set(conf, nullptr, "b", e); }, inval, "key");
  expect_error([&](conveyor_error_t** e) { return conveyor_config_set(conf, "acks", nullptr, e); }, inval, "value");
  conveyor_config_destroy(conf);

  expect_error([](conveyor_error_t** e) { return conveyor_broker_new(nullptr, nullptr, e); }, inval, "brokerp");
  expect_error([](conveyor_error_t** e) { return conveyor_broker_stop(nullptr, e); }, inval, "broker");
  conveyor_producer_t* p = nullptr;
  expect_error([&](conveyor_error_t** e) { return conveyor_producer_new(nullptr, nullptr, nullptr, &p, e); }, inval, "conf");
  expect_error([](conveyor_error_t** e) {
    return conveyor_producer_produce(nullptr, "t", -1, nullptr, 0, nullptr, 0, nullptr, 0, 0, nullptr, e);
  }, inval, "producer");
  expect_error([](conveyor_error_t** e) { return conveyor_producer_poll(nullptr, 0, nullptr, e); }, inval, "producer");
  expect_error([](conveyor_error_t** e) { return conveyor_producer_flush(nullptr, 0, e); }, inval, "producer");
  conveyor_consumer_t* c = nullptr;
  expect_error([&](conveyor_error_t** e) { return conveyor_consumer_new(nullptr, &c, e); }, inval, "conf");
  expect_error([](conveyor_error_t** e) { return conveyor_consumer_assign(nullptr, nullptr, 0, e); }, inval, "consumer");
  expect_error([](conveyor_error_t** e) { return conveyor_consumer_seek(nullptr, "t", 0, 0, e); }, inval, "consumer");
  conveyor_message_t* m = nullptr;
  expect_error([&](conveyor_error_t** e) { return conveyor_consumer_poll(nullptr, 0, &m, e); }, inval, "consumer");
  size_t n = 0;
  expect_error([&](conveyor_error_t** e) { return conveyor_consumer_consume(nullptr, 1, 0, &m, &n, e); }, inval, "consumer");
  int64_t off = 0;
  expect_error([&](conveyor_error_t** e) { return conveyor_consumer_position(nullptr, "t", 0, &off, e); }, inval, "consumer");
  expect_error([&](conveyor_error_t** e) {
    return conveyor_consumer_watermark_offsets(nullptr, "t", 0, 0, &off, &off, e);
  }, inval, "consumer");
  expect_error([](conveyor_error_t** e) { return conveyor_consumer_offsets_for_times(nullptr, nullptr, 0, 0, e); }, inval, "consumer");
  expect_error([](conveyor_error_t** e) { return conveyor_consumer_close(nullptr, e); }, inval, "consumer");
  conveyor_consumer_wakeup(nullptr);  // must not crash
  conveyor_admin_t* a = nullptr;
  expect_error([&](conveyor_error_t** e) { return conveyor_admin_new(nullptr, &a, e); }, inval, "conf");
  expect_error([](conveyor_error_t** e) { return conveyor_admin_create_topic(nullptr, "t", 1, 1, nullptr, 0, e); }, inval, "admin");
  expect_error([](conveyor_error_t** e) { return conveyor_admin_delete_topic(nullptr, "t", 0, e); }, inval, "admin");
  conveyor_topic_list_t* l = nullptr;
  expect_error([&](conveyor_error_t** e) { return conveyor_admin_list_topics(nullptr, 0, &l, e); }, inval, "admin");

  // Accessors on NULL return neutral values instead of crashing.
  EXPECT_EQ(conveyor_message_offset(nullptr), -1);
  EXPECT_EQ(conveyor_message_key(nullptr, &n), nullptr);
  EXPECT_EQ(conveyor_topic_list_count(nullptr), 0u);
  EXPECT_EQ(conveyor_broker_port(nullptr), -1);
  EXPECT_EQ(conveyor_producer_outstanding(nullptr), 0u);
}

TEST(CapiNull, ConsumerGroupFunctionsNameTheirArguments) {
  const auto inval = CONVEYOR_ERR__INVALID_ARG;
  const char* topics[] = {"t"};
  int64_t v = 0;
  int32_t g = 0;
  conveyor_partition_list_t* l = nullptr;
  expect_error([](conveyor_error_t** e) { return conveyor_consumer_set_rebalance_cb(nullptr, nullptr, nullptr, e); }, inval, "consumer");
  expect_error([](conveyor_error_t** e) { return conveyor_consumer_set_commit_cb(nullptr, nullptr, nullptr, e); }, inval, "consumer");
  expect_error([&](conveyor_error_t** e) { return conveyor_consumer_subscribe(nullptr, topics, 1, e); }, inval, "consumer");
  expect_error([](conveyor_error_t** e) { return conveyor_consumer_subscribe_pattern(nullptr, "x", e); }, inval, "consumer");
  expect_error([](conveyor_error_t** e) { return conveyor_consumer_unsubscribe(nullptr, e); }, inval, "consumer");
  expect_error([&](conveyor_error_t** e) { return conveyor_consumer_assignment(nullptr, &l, e); }, inval, "consumer");
  expect_error([&](conveyor_error_t** e) { return conveyor_consumer_subscription(nullptr, &l, e); }, inval, "consumer");
  expect_error([](conveyor_error_t** e) { return conveyor_consumer_commit(nullptr, nullptr, 0, nullptr, 0, -1, e); }, inval, "consumer");
  expect_error([](conveyor_error_t** e) { return conveyor_consumer_committed(nullptr, nullptr, 0, -1, e); }, inval, "consumer");
  expect_error([&](conveyor_error_t** e) { return conveyor_consumer_lag(nullptr, "t", 0, 0, &v, e); }, inval, "consumer");
  expect_error([&](conveyor_error_t** e) { return conveyor_consumer_group_member(nullptr, nullptr, 0, &g, e); }, inval, "consumer");
  conveyor_topic_partition_t tp{"t", 0, 0};
  expect_error([&](conveyor_error_t** e) { return conveyor_consumer_pause(nullptr, &tp, 1, e); }, inval, "consumer");
  expect_error([&](conveyor_error_t** e) { return conveyor_consumer_resume(nullptr, &tp, 1, e); }, inval, "consumer");
  expect_error([&](conveyor_error_t** e) { return conveyor_consumer_paused(nullptr, &l, e); }, inval, "consumer");
  EXPECT_EQ(conveyor_partition_list_count(nullptr), 0u);
  EXPECT_EQ(conveyor_partition_list_get(nullptr, 0), nullptr);
  conveyor_partition_list_destroy(nullptr);  // must not crash
  // A real consumer: NULL required pointers are named too.
  conveyor_config_t* conf = conveyor_config_new();
  ASSERT_EQ(conveyor_config_set(conf, "bootstrap.servers", "127.0.0.1:1", nullptr), CONVEYOR_OK);
  conveyor_consumer_t* c = nullptr;
  ASSERT_EQ(conveyor_consumer_new(conf, &c, nullptr), CONVEYOR_OK);
  expect_error([&](conveyor_error_t** e) { return conveyor_consumer_subscribe(c, nullptr, 1, e); }, inval, "topics");
  expect_error([&](conveyor_error_t** e) { return conveyor_consumer_subscribe_pattern(c, nullptr, e); }, inval, "regex");
  expect_error([&](conveyor_error_t** e) { return conveyor_consumer_lag(c, "t", 0, 0, nullptr, e); }, inval, "lagp");
  expect_error([&](conveyor_error_t** e) { return conveyor_consumer_assignment(c, nullptr, e); }, inval, "listp");
  expect_error([&](conveyor_error_t** e) { return conveyor_consumer_pause(c, nullptr, 1, e); }, inval, "partitions");
  expect_error([&](conveyor_error_t** e) { return conveyor_consumer_resume(c, nullptr, 1, e); }, inval, "partitions");
  expect_error([&](conveyor_error_t** e) { return conveyor_consumer_paused(c, nullptr, e); }, inval, "listp");
  conveyor_topic_partition_t null_topic{nullptr, 0, 0};
  expect_error([&](conveyor_error_t** e) { return conveyor_consumer_pause(c, &null_topic, 1, e); }, inval, "topic");
  expect_error([&](conveyor_error_t** e) { return conveyor_consumer_pause(c, &tp, 1, e); }, CONVEYOR_ERR__STATE, "t-0");
  conveyor_consumer_destroy(c);
  conveyor_config_destroy(conf);
}

TEST(CapiErrors, NamesAndFlags) {
  EXPECT_STREQ(conveyor_err_name(CONVEYOR_OK), "NONE");
  EXPECT_STREQ(conveyor_err_name(CONVEYOR_ERR_UNKNOWN_TOPIC_OR_PARTITION), "UNKNOWN_TOPIC_OR_PARTITION");
  EXPECT_STREQ(conveyor_err_name(CONVEYOR_ERR__TIMED_OUT), "LOCAL_TIMED_OUT");
  EXPECT_STREQ(conveyor_err_name(100000), "UNKNOWN_ERROR_CODE");
  EXPECT_EQ(conveyor_err_retriable(CONVEYOR_ERR_UNKNOWN_TOPIC_OR_PARTITION), 1);
  EXPECT_EQ(conveyor_err_retriable(CONVEYOR_ERR_TOPIC_ALREADY_EXISTS), 0);
  EXPECT_EQ(conveyor_error_code(nullptr), CONVEYOR_OK);
}

TEST(CapiVersion, MatchesMacros) {
  std::string expected = std::to_string(CONVEYOR_VERSION_MAJOR) + "." +
                         std::to_string(CONVEYOR_VERSION_MINOR) + "." +
                         std::to_string(CONVEYOR_VERSION_PATCH);
  EXPECT_EQ(conveyor_version(), expected);
}

TEST(CapiBroker, BadConfigIsNamed) {
  conveyor_config_t* conf = conveyor_config_new();
  ASSERT_EQ(conveyor_config_set(conf, "linger.ms", "5", nullptr), CONVEYOR_OK);  // a producer key
  conveyor_broker_t* b = nullptr;
  expect_error([&](conveyor_error_t** e) { return conveyor_broker_new(conf, &b, e); },
               CONVEYOR_ERR_INVALID_CONFIG, "linger.ms");
  EXPECT_EQ(b, nullptr);
  conveyor_config_destroy(conf);
}

}  // namespace

// ---- admin: consumer groups and offsets ---------------------------------------------------

TEST(CapiGroups, NullArgumentsAreNamed) {
  expect_error([](conveyor_error_t** e) { return conveyor_admin_list_groups(nullptr, nullptr, 0, 0, nullptr, e); },
               CONVEYOR_ERR__INVALID_ARG, "admin");
  expect_error([](conveyor_error_t** e) { return conveyor_admin_describe_group(nullptr, "g", 0, nullptr, e); },
               CONVEYOR_ERR__INVALID_ARG, "admin");
  expect_error([](conveyor_error_t** e) { return conveyor_admin_group_lag(nullptr, "g", 0, nullptr, e); },
               CONVEYOR_ERR__INVALID_ARG, "admin");
  expect_error(
      [](conveyor_error_t** e) { return conveyor_admin_list_group_offsets(nullptr, "g", nullptr, 0, 0, nullptr, e); },
      CONVEYOR_ERR__INVALID_ARG, "admin");
  expect_error(
      [](conveyor_error_t** e) { return conveyor_admin_alter_group_offsets(nullptr, "g", nullptr, 0, 0, e); },
      CONVEYOR_ERR__INVALID_ARG, "admin");
  expect_error([](conveyor_error_t** e) { return conveyor_admin_delete_group(nullptr, "g", 0, e); },
               CONVEYOR_ERR__INVALID_ARG, "admin");
  expect_error([](conveyor_error_t** e) { return conveyor_admin_list_offsets(nullptr, nullptr, 0, -1, 0, e); },
               CONVEYOR_ERR__INVALID_ARG, "admin");

  // With a real (unconnected) admin handle: NULL group / outputs / arrays.
  conveyor_config_t* conf = conveyor_config_new();
  ASSERT_EQ(conveyor_config_set(conf, "bootstrap.servers", "127.0.0.1:1", nullptr), CONVEYOR_OK);
  conveyor_admin_t* admin = nullptr;
  ASSERT_EQ(conveyor_admin_new(conf, &admin, nullptr), CONVEYOR_OK);
  conveyor_config_destroy(conf);
  conveyor_group_description_t* desc = reinterpret_cast<conveyor_group_description_t*>(&conf);
  expect_error([&](conveyor_error_t** e) { return conveyor_admin_describe_group(admin, nullptr, 0, &desc, e); },
               CONVEYOR_ERR__INVALID_ARG, "group");
  EXPECT_EQ(desc, nullptr);  // outputs are reset even on failure
  expect_error([&](conveyor_error_t** e) { return conveyor_admin_describe_group(admin, "g", 0, nullptr, e); },
               CONVEYOR_ERR__INVALID_ARG, "descp");
  expect_error([&](conveyor_error_t** e) { return conveyor_admin_group_lag(admin, nullptr, 0, nullptr, e); },
               CONVEYOR_ERR__INVALID_ARG, "group");
  expect_error([&](conveyor_error_t** e) { return conveyor_admin_list_groups(admin, nullptr, 2, 0, nullptr, e); },
               CONVEYOR_ERR__INVALID_ARG, "listp");
  conveyor_group_list_t* list = nullptr;
  expect_error([&](conveyor_error_t** e) { return conveyor_admin_list_groups(admin, nullptr, 2, 0, &list, e); },
               CONVEYOR_ERR__INVALID_ARG, "states");
  expect_error(
      [&](conveyor_error_t** e) { return conveyor_admin_alter_group_offsets(admin, "g", nullptr, 1, 0, e); },
      CONVEYOR_ERR__INVALID_ARG, "offsets");
  conveyor_topic_partition_t bad[1] = {{nullptr, 0, 5}};
  expect_error([&](conveyor_error_t** e) { return conveyor_admin_alter_group_offsets(admin, "g", bad, 1, 0, e); },
               CONVEYOR_ERR__INVALID_ARG, "partitions[0].topic");
  conveyor_topic_partition_t negative[1] = {{"t", 0, -2}};
  expect_error(
      [&](conveyor_error_t** e) { return conveyor_admin_alter_group_offsets(admin, "g", negative, 1, 0, e); },
      CONVEYOR_ERR__INVALID_ARG, "must be >= 0");
  expect_error([&](conveyor_error_t** e) { return conveyor_admin_describe_group(admin, "", 0, &desc, e); },
               CONVEYOR_ERR__INVALID_ARG, "empty group id");
  expect_error([&](conveyor_error_t** e) { return conveyor_admin_list_offsets(admin, bad, 1, -1, 0, e); },
               CONVEYOR_ERR__INVALID_ARG, "partitions[0].topic");
  conveyor_admin_destroy(admin);
}

TEST(CapiGroups, AccessorsOfNullObjectsAreSafe) {
  EXPECT_EQ(conveyor_group_list_count(nullptr), 0u);
  EXPECT_EQ(conveyor_group_list_group_id(nullptr, 0), nullptr);
  EXPECT_EQ(conveyor_group_description_state(nullptr), nullptr);
  EXPECT_EQ(conveyor_group_description_member_count(nullptr), 0u);
  EXPECT_EQ(conveyor_group_description_member_id(nullptr, 0), nullptr);
  EXPECT_EQ(conveyor_group_description_coordinator(nullptr), -1);
  EXPECT_EQ(conveyor_group_description_member_partition(nullptr, 0, 0, nullptr, nullptr), CONVEYOR_ERR__INVALID_ARG);
  EXPECT_EQ(conveyor_group_offsets_count(nullptr), 0u);
  EXPECT_EQ(conveyor_group_offsets_offset(nullptr, 0), -1);
  EXPECT_EQ(conveyor_group_offsets_error(nullptr, 0), CONVEYOR_ERR__INVALID_ARG);
  EXPECT_EQ(conveyor_group_lag_group(nullptr), nullptr);
  EXPECT_EQ(conveyor_group_lag_count(nullptr), 0u);
  EXPECT_EQ(conveyor_group_lag_lag(nullptr, 0), -1);
  EXPECT_EQ(conveyor_group_lag_topic(nullptr, 0), nullptr);
  conveyor_group_list_destroy(nullptr);
  conveyor_group_description_destroy(nullptr);
  conveyor_group_offsets_destroy(nullptr);
  conveyor_group_lag_destroy(nullptr);
}
