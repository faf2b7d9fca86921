#include <pthread.h>

#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "conveyor/base/properties.h"
#include "conveyor/base/result.h"
#include "conveyor/base/thread_name.h"

namespace conveyor {
namespace {

TEST(ErrorCode, NamesAndRetriable) {
  EXPECT_EQ(error_name(ErrorCode::unknown_topic_or_partition), "UNKNOWN_TOPIC_OR_PARTITION");
  EXPECT_TRUE(error_retriable(ErrorCode::not_leader_or_follower));
  EXPECT_FALSE(error_retriable(ErrorCode::message_too_large));
  EXPECT_EQ(static_cast<int>(ErrorCode::invalid_record), 87);
  EXPECT_TRUE(error_code_known(79));
  EXPECT_FALSE(error_code_known(30000));
}

ConfigSchema schema() {
  ConfigSchema s;
  s.add({.name = "linger.ms", .type = ConfigType::integer, .default_value = "5", .min = 0});
  s.add({.name = "acks", .type = ConfigType::string, .default_value = "all",
         .choices = {"0", "1", "-1", "all"}});
  s.add({.name = "enable.idempotence", .type = ConfigType::boolean, .default_value = "true"});
  return s;
}

TEST(Properties, DefaultsAndValues) {
  Properties p({{"linger.ms", "20"}});
  ASSERT_TRUE(p.validate(schema()));
  EXPECT_EQ(*p.get_int(schema(), "linger.ms"), 20);
  EXPECT_EQ(*p.get_string(schema(), "acks"), "all");
  EXPECT_TRUE(*p.get_bool(schema(), "enable.idempotence"));
}

TEST(Properties, UnknownKeyIsNamed) {
  Properties p({{"lingr.ms", "20"}});
  auto r = p.validate(schema());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::invalid_config);
  EXPECT_NE(r.error().message.find("lingr.ms"), std::string::npos);
}

TEST(Properties, BadValueIsNamed) {
  Properties p({{"linger.ms", "soon"}});
  auto r = p.validate(schema());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("linger.ms"), std::string::npos);
  Properties q({{"linger.ms", "-1"}});
  EXPECT_FALSE(q.validate(schema()));
  Properties a({{"acks", "2"}});
  EXPECT_FALSE(a.validate(schema()));
}

TEST(Properties, FloatingKeysTakeFiniteNumbersOnly) {
  ConfigSchema s;
  s.add({.name = "min.cleanable.dirty.ratio", .type = ConfigType::floating, .default_value = "0.5"});
  for (const char* ok : {"0.5", " 0.25 ", "1", "1e-3", "1.7976931348623157E308", "-0"})
    EXPECT_TRUE(Properties({{"min.cleanable.dirty.ratio", ok}}).validate(s)) << ok;
  for (const char* bad : {"", "half", "0.5x", "inf", "nan", "1e999"}) {
    auto r = Properties({{"min.cleanable.dirty.ratio", bad}}).validate(s);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("min.cleanable.dirty.ratio"), std::string::npos) << r.error().message;
  }
}

TEST(Properties, ParsesJavaPropertiesText) {
  auto p = Properties::parse("# comment\nlinger.ms = 7\n\nacks: 1\n");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->get_raw("linger.ms"), "7");
  EXPECT_EQ(p->get_raw("acks"), "1");
  EXPECT_FALSE(Properties::parse("novalue\n"));
}

}  // namespace
}  // namespace conveyor

TEST(ThreadName, NamesTheCallingThreadCutTo15Bytes) {
  std::string seen_short, seen_long;
  std::thread([&] {
    char buf[32] = {};
    conveyor::set_current_thread_name("cv-io-0");
    pthread_getname_np(pthread_self(), buf, sizeof buf);
    seen_short = buf;
    conveyor::set_current_thread_name("cv-a-name-longer-than-fifteen");
    pthread_getname_np(pthread_self(), buf, sizeof buf);
    seen_long = buf;
  }).join();
  EXPECT_EQ(seen_short, "cv-io-0");
  EXPECT_EQ(seen_long, "cv-a-name-longe");
}
