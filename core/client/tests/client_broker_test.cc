// Producer, Consumer and Admin against a real in-process conveyor broker
// (conveyor::broker::Broker). The client code itself knows nothing about conveyor.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "conveyor/broker/broker.h"
#include "conveyor/client/admin.h"
#include "conveyor/client/consumer.h"
#include "conveyor/client/producer.h"
#include "conveyor/io/client_loop.h"

using namespace conveyor;
using namespace conveyor::client;

namespace {

Bytes bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }
std::string text(const std::optional<Bytes>& b) { return b ? std::string(b->begin(), b->end()) : "<null>"; }

class ClientBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override { start_broker(); }
  void TearDown() override {
    if (broker_) broker_->stop();
  }
  void start_broker(const std::string& listener = "PLAINTEXT://127.0.0.1:0", const std::string& dir = "") {
    Properties props{{"listeners", listener}, {"num.partitions", "3"}, {"auto.create.topics.enable", "true"}};
    if (!dir.empty()) props.set("log.dirs", dir);
    auto b = broker::Broker::start(props);
    ASSERT_TRUE(b.has_value()) << b.error().to_string();
    broker_ = std::move(*b);
    bootstrap_ = broker_->bootstrap_servers();
  }
  Properties conf(std::initializer_list<std::pair<const std::string, std::string>> extra = {}) {
    Properties p{{"bootstrap.servers", bootstrap_}};
    for (const auto& [k, v] : extra) p.set(k, v);
    return p;
  }
  std::unique_ptr<Admin> admin() {
    auto a = Admin::create(conf());
    EXPECT_TRUE(a.has_value());
    return std::move(*a);
  }
  // Reads everything in [0, end) of each partition by assignment.
  std::vector<ConsumerRecord> read_all(const std::string& topic, int partitions, size_t expected,
                                       Properties extra = {}) {
    Properties p = conf({{"auto.offset.reset", "earliest"}});
    for (const auto& [k, v] : extra.values()) p.set(k, v);
    auto c = Consumer::create(p);
    EXPECT_TRUE(c.has_value()) << c.error().to_string();
    std::vector<TopicPartitionOffset> assign;
    for (int i = 0; i < partitions; ++i) assign.push_back({topic, i, kOffsetBeginning});
    EXPECT_TRUE((*c)->assign(assign).has_value());
    std::vector<ConsumerRecord> out;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (out.size() < expected && std::chrono::steady_clock::now() < deadline) {
      auto batch = (*c)->consume(500, 200);
      EXPECT_TRUE(batch.has_value()) << batch.error().to_string();
      if (!batch) break;
      for (auto& r : *batch) out.push_back(std::move(r));
    }
    (*c)->close();
    return out;
  }

  std::unique_ptr<broker::Broker> broker_;
  std::string bootstrap_;
};

TEST_F(ClientBrokerTest, AdminCreateListDescribeDelete) {
  auto a = admin();
  ASSERT_TRUE(a->create_topic("orders", 6, 1, {}, 5000).has_value());
  auto again = a->create_topic("orders", 6, 1, {}, 5000);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ErrorCode::topic_already_exists);

  auto list = a->list_topics(5000);
  ASSERT_TRUE(list.has_value()) << list.error().to_string();
  auto it = std::find_if(list->begin(), list->end(), [](auto& t) { return t.name == "orders"; });
  ASSERT_NE(it, list->end());
  EXPECT_EQ(it->partitions.size(), 6u);
  EXPECT_FALSE(it->is_internal);

  auto desc = a->describe_topics({"orders", "missing"}, 5000);
  ASSERT_TRUE(desc.has_value());
  ASSERT_EQ(desc->size(), 2u);
  EXPECT_EQ((*desc)[0].error, ErrorCode::none);
  EXPECT_NE((*desc)[0].topic_id, "00000000-0000-0000-0000-000000000000");
  for (const auto& p : (*desc)[0].partitions) {
    EXPECT_GE(p.leader, 0);
    EXPECT_EQ(p.replicas.size(), 1u);
    EXPECT_EQ(p.isr, p.replicas);
  }
  EXPECT_EQ((*desc)[1].error, ErrorCode::unknown_topic_or_partition);

  auto brokers = a->describe_cluster(5000);
  ASSERT_TRUE(brokers.has_value());
  ASSERT_EQ(brokers->size(), 1u);

  ASSERT_TRUE(a->delete_topic("orders", 5000).has_value());
  auto after = a->describe_topics({"orders"}, 5000);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ((*after)[0].error, ErrorCode::unknown_topic_or_partition);
  auto gone = a->delete_topic("orders", 5000);
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code, ErrorCode::unknown_topic_or_partition);
}

TEST_F(ClientBrokerTest, ProduceAndConsumeEveryCodec) {
  auto a = admin();
  const int kRecords = 10000;
  for (std::string codec : {"none", "gzip", "snappy", "lz4", "zstd"}) {
    SCOPED_TRACE(codec);
    std::string topic = "codec-" + codec;
    ASSERT_TRUE(a->create_topic(topic, 3, 1, {}, 5000).has_value());
    auto p = Producer::create(conf({{"compression.type", codec}, {"linger.ms", "2"}}));
    ASSERT_TRUE(p.has_value()) << p.error().to_string();
    std::atomic<int> delivered{0}, failed{0};
    std::map<int32_t, int64_t> last_offset;
    for (int i = 0; i < kRecords; ++i) {
      ProducerRecord rec;
      rec.topic = topic;
      rec.key = bytes("key-" + std::to_string(i % 17));
      rec.value = bytes("value-" + std::to_string(i) + std::string(i % 50, 'x'));
      if (i % 10 == 0) rec.headers.push_back({"n", bytes(std::to_string(i))});
      auto r = (*p)->produce(std::move(rec), [&](const DeliveryReport& d) {
        if (d.error.code == ErrorCode::none) {
          delivered++;
          // Offsets of one partition grow in produce order.
          EXPECT_GT(d.offset, last_offset.count(d.partition) ? last_offset[d.partition] : -1);
          last_offset[d.partition] = d.offset;
        } else {
          failed++;
        }
      });
      ASSERT_TRUE(r.has_value()) << r.error().to_string();
    }
    ASSERT_TRUE((*p)->flush(15000).has_value());
    EXPECT_EQ(delivered.load(), kRecords);
    EXPECT_EQ(failed.load(), 0);
    (*p)->close(1000);

    auto records = read_all(topic, 3, kRecords);
    ASSERT_EQ(records.size(), static_cast<size_t>(kRecords));
    // Per key, values come back in produce order and in the key's partition.
    std::map<std::string, int> last_index;
    std::map<std::string, int32_t> key_partition;
    for (const auto& r : records) {
      std::string key = text(r.key), value = text(r.value);
      int index = std::stoi(value.substr(6));
      EXPECT_EQ(value, "value-" + std::to_string(index) + std::string(index % 50, 'x'));
      EXPECT_EQ(key, "key-" + std::to_string(index % 17));
      EXPECT_EQ(r.partition, partition_for_key(*r.key, 3));
      if (index % 10 == 0) {
        ASSERT_EQ(r.headers.size(), 1u);
        EXPECT_EQ(text(r.headers[0].value), std::to_string(index));
      }
      if (last_index.count(key)) EXPECT_GT(index, last_index[key]);
      last_index[key] = index;
    }
  }
}

TEST_F(ClientBrokerTest, NullKeysAreStickyAndExplicitPartitionIsKept) {
  auto a = admin();
  ASSERT_TRUE(a->create_topic("sticky", 4, 1, {}, 5000).has_value());
  auto p = Producer::create(conf({{"linger.ms", "50"}, {"batch.size", "100000"}}));
  ASSERT_TRUE(p.has_value());
  std::map<int32_t, int> per_partition;
  for (int i = 0; i < 100; ++i) {
    ProducerRecord rec;
    rec.topic = "sticky";
    rec.value = bytes("v");
    ASSERT_TRUE((*p)->produce(std::move(rec), [&](const DeliveryReport& d) { per_partition[d.partition]++; }));
  }
  ProducerRecord explicit_rec;
  explicit_rec.topic = "sticky";
  explicit_rec.partition = 3;
  int32_t explicit_partition = -1;
  ASSERT_TRUE((*p)->produce(std::move(explicit_rec), [&](const DeliveryReport& d) { explicit_partition = d.partition; }));
  ASSERT_TRUE((*p)->flush(5000).has_value());
  // All 100 null-key records fit one batch: they all went to one partition.
  ASSERT_EQ(per_partition.size(), 1u);
  EXPECT_EQ(per_partition.begin()->second, 100);
  EXPECT_EQ(explicit_partition, 3);
  ProducerRecord out_of_range;
  out_of_range.topic = "sticky";
  out_of_range.partition = 9;
  auto r = (*p)->produce(std::move(out_of_range));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::local_unknown_partition);
}

TEST_F(ClientBrokerTest, LingerHoldsSmallBatchesAndFlushSendsAtOnce) {
  auto a = admin();
  ASSERT_TRUE(a->create_topic("linger", 1, 1, {}, 5000).has_value());
  auto p = Producer::create(conf({{"linger.ms", "400"}}));
  ASSERT_TRUE(p.has_value());
  // Warm up metadata and the producer id.
  ProducerRecord warm;
  warm.topic = "linger";
  ASSERT_TRUE((*p)->produce(std::move(warm)));
  ASSERT_TRUE((*p)->flush(5000).has_value());

  auto start = std::chrono::steady_clock::now();
  std::atomic<int64_t> delivered_after_ms{-1};
  ProducerRecord rec;
  rec.topic = "linger";
  rec.value = bytes("x");
  ASSERT_TRUE((*p)->produce(std::move(rec), [&](const DeliveryReport& d) {
    EXPECT_EQ(d.error.code, ErrorCode::none);
    delivered_after_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  }));
  EXPECT_EQ((*p)->poll(150), 0);  // still lingering
  while (delivered_after_ms < 0 && std::chrono::steady_clock::now() - start < std::chrono::seconds(5)) (*p)->poll(50);
  EXPECT_GE(delivered_after_ms.load(), 350);

  // flush() does not wait for linger.ms.
  ProducerRecord rec2;
  rec2.topic = "linger";
  ASSERT_TRUE((*p)->produce(std::move(rec2)));
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE((*p)->flush(5000).has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(300));
}

TEST_F(ClientBrokerTest, BufferMemoryLimitReturnsQueueFull) {
  auto a = admin();
  ASSERT_TRUE(a->create_topic("bounded", 1, 1, {}, 5000).has_value());
  auto p = Producer::create(conf({{"linger.ms", "60000"}, {"buffer.memory", "20000"}, {"batch.size", "1000000"},
                                  {"delivery.timeout.ms", "120000"}}));
  ASSERT_TRUE(p.has_value());
  int accepted = 0;
  ErrorCode last = ErrorCode::none;
  for (int i = 0; i < 1000; ++i) {
    ProducerRecord rec;
    rec.topic = "bounded";
    rec.value = Bytes(100, 'a');
    auto r = (*p)->produce(std::move(rec));
    if (!r) {
      last = r.error().code;
      break;
    }
    ++accepted;
  }
  EXPECT_EQ(last, ErrorCode::local_queue_full);
  // ~20000 bytes of ~110-byte records.
  EXPECT_GT(accepted, 150);
  EXPECT_LT(accepted, 200);
  ASSERT_TRUE((*p)->flush(5000).has_value());
  ProducerRecord rec;
  rec.topic = "bounded";
  EXPECT_TRUE((*p)->produce(std::move(rec)).has_value());
}

TEST_F(ClientBrokerTest, WatermarksOffsetsForTimesAndResetPolicies) {
  auto a = admin();
  ASSERT_TRUE(a->create_topic("times", 1, 1, {}, 5000).has_value());
  auto p = Producer::create(conf());
  ASSERT_TRUE(p.has_value());
  int64_t base = io::wall_clock_ms() - 100000;
  for (int i = 0; i < 10; ++i) {
    ProducerRecord rec;
    rec.topic = "times";
    rec.value = bytes(std::to_string(i));
    rec.timestamp_ms = base + i * 1000;
    ASSERT_TRUE((*p)->produce(std::move(rec)));
  }
  ASSERT_TRUE((*p)->flush(5000).has_value());

  auto c = Consumer::create(conf({{"auto.offset.reset", "latest"}}));
  ASSERT_TRUE(c.has_value());
  TopicPartition tp{"times", 0};
  auto wm = (*c)->watermark_offsets(tp, 5000);
  ASSERT_TRUE(wm.has_value()) << wm.error().to_string();
  EXPECT_EQ(wm->first, 0);
  EXPECT_EQ(wm->second, 10);
  // No timeout (-1) and the largest one both wait for the answer.
  for (int timeout_ms : {-1, INT32_MAX}) {
    auto waited = (*c)->watermark_offsets(tp, timeout_ms);
    ASSERT_TRUE(waited.has_value()) << timeout_ms << ": " << waited.error().to_string();
    EXPECT_EQ(waited->second, 10);
  }
  auto off = (*c)->offset_for_time(tp, base + 3500, 5000);
  ASSERT_TRUE(off.has_value()) << off.error().to_string();
  EXPECT_EQ(*off, 4);
  auto none = (*c)->offset_for_time(tp, base + 100000000, 5000);
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(*none, -1);

  // latest: nothing old comes back; position is the end.
  ASSERT_TRUE((*c)->assign({{"times", 0, kOffsetInvalid}}).has_value());
  auto pos = (*c)->position(tp, 5000);
  ASSERT_TRUE(pos.has_value()) << pos.error().to_string();
  EXPECT_EQ(*pos, 10);
  auto r = (*c)->poll(200);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->has_value());
  // seek into the middle.
  ASSERT_TRUE((*c)->seek(tp, 7).has_value());
  auto got = (*c)->poll(5000);
  ASSERT_TRUE(got.has_value() && got->has_value());
  EXPECT_EQ((*got)->offset, 7);
  EXPECT_EQ(text((*got)->value), "7");
  EXPECT_EQ((*got)->timestamp_ms, base + 7000);
  auto pos2 = (*c)->position(tp);
  ASSERT_TRUE(pos2.has_value());
  EXPECT_EQ(*pos2, 8);
  // out of range with earliest → back to 0.
  ASSERT_TRUE((*c)->seek(tp, 1000).has_value());
  // (auto.offset.reset=latest here: lands at the end, so poll returns nothing)
  auto empty = (*c)->poll(500);
  ASSERT_TRUE(empty.has_value());
  EXPECT_FALSE(empty->has_value());

  auto strict = Consumer::create(conf({{"auto.offset.reset", "none"}}));
  ASSERT_TRUE(strict.has_value());
  ASSERT_TRUE((*strict)->assign({{"times", 0, 1000}}).has_value());
  auto err = (*strict)->poll(3000);
  ASSERT_FALSE(err.has_value());
  EXPECT_EQ(err.error().code, ErrorCode::offset_out_of_range);
}

TEST_F(ClientBrokerTest, WakeupEndsABlockedPoll) {
  auto c = Consumer::create(conf());
  ASSERT_TRUE(c.has_value());
  ASSERT_TRUE((*c)->assign({{"wake", 0, kOffsetEnd}}).has_value());
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    (*c)->wakeup();
  });
  auto start = std::chrono::steady_clock::now();
  auto r = (*c)->poll(10000);
  t.join();
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST_F(ClientBrokerTest, IdempotentProducerSurvivesBrokerRestartWithoutDuplicates) {
  std::string dir = broker_->log_dir() + "-restart";
  // Restart on a known port with a persistent directory.
  broker_->stop();
  broker_.reset();
  start_broker("PLAINTEXT://127.0.0.1:0", dir);
  int port = broker_->port();
  auto a = admin();
  ASSERT_TRUE(a->create_topic("idem", 2, 1, {}, 5000).has_value());
  auto p = Producer::create(conf({{"linger.ms", "1"}, {"retry.backoff.ms", "20"}, {"reconnect.backoff.ms", "20"},
                                  {"request.timeout.ms", "3000"}, {"delivery.timeout.ms", "20000"}}));
  ASSERT_TRUE(p.has_value());
  std::atomic<int> ok{0}, failed{0};
  const int kRecords = 4000;
  for (int i = 0; i < kRecords; ++i) {
    if (i == kRecords / 2) {
      broker_->stop();
      broker_.reset();
      start_broker(fmt::format("PLAINTEXT://127.0.0.1:{}", port), dir);
    }
    ProducerRecord rec;
    rec.topic = "idem";
    rec.key = bytes(std::to_string(i % 7));
    rec.value = bytes(std::to_string(i));
    ASSERT_TRUE((*p)->produce(std::move(rec), [&](const DeliveryReport& d) {
      if (d.error.code == ErrorCode::none) ok++; else failed++;
    }));
    if (i % 100 == 0) (*p)->poll(0);
  }
  ASSERT_TRUE((*p)->flush(20000).has_value());
  EXPECT_EQ(ok.load(), kRecords);
  EXPECT_EQ(failed.load(), 0);
  auto records = read_all("idem", 2, kRecords);
  ASSERT_EQ(records.size(), static_cast<size_t>(kRecords));  // no duplicates, nothing lost
  std::map<std::string, int> last;
  for (const auto& r : records) {
    int v = std::stoi(text(r.value));
    std::string k = text(r.key);
    if (last.count(k)) EXPECT_GT(v, last[k]) << "order broken for key " << k;
    last[k] = v;
  }
  broker_->stop();
  broker_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
