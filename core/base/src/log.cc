#include "conveyor/base/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>

namespace conveyor::log {
namespace {

Level initial_level() {
  const char* env = std::getenv("CONVEYOR_LOG_LEVEL");
  if (!env) return Level::info;
  static constexpr std::pair<const char*, Level> kNames[] = {
      {"trace", Level::trace}, {"debug", Level::debug}, {"info", Level::info},
      {"warn", Level::warn},   {"error", Level::error}, {"off", Level::off}};
  for (auto [name, lvl] : kNames)
    if (std::strcmp(env, name) == 0) return lvl;
  return Level::info;
}

std::atomic<Level>& current() {
  static std::atomic<Level> level{initial_level()};
  return level;
}

constexpr const char* kLevelNames[] = {"TRACE", "DEBUG", "INFO ", "WARN ", "ERROR", "OFF  "};

}  // namespace

void set_level(Level level) { current().store(level, std::memory_order_relaxed); }
Level level() { return current().load(std::memory_order_relaxed); }
bool enabled(Level lvl) { return lvl != Level::off && lvl >= level(); }

void write(Level lvl, std::string_view component, std::string_view message) {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::time_t t = system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  static std::mutex mu;
  std::lock_guard lock(mu);
  std::fprintf(stderr, "%s.%03dZ %s [%.*s] %.*s\n", stamp, static_cast<int>(ms),
               kLevelNames[static_cast<int>(lvl)], static_cast<int>(component.size()),
               component.data(), static_cast<int>(message.size()), message.data());
}

}  // namespace conveyor::log
