#pragma once
// The one logger (DESIGN.md §8). Lines go to stderr as
//   2026-11-20T22:54:16.123Z INFO  [broker] message
// Thread-safe. The level comes from CONVEYOR_LOG_LEVEL (trace|debug|info|warn|error|off),
// default info, or set_log_level().
#include <fmt/format.h>
#include <string_view>

namespace conveyor::log {

enum class Level { trace = 0, debug, info, warn, error, off };

void set_level(Level level);
Level level();
bool enabled(Level level);
void write(Level level, std::string_view component, std::string_view message);

template <class... Args>
void at(Level lvl, std::string_view component, fmt::format_string<Args...> fmt, Args&&... args) {
  if (enabled(lvl)) write(lvl, component, fmt::format(fmt, std::forward<Args>(args)...));
}
template <class... Args>
void debug(std::string_view c, fmt::format_string<Args...> f, Args&&... a) { at(Level::debug, c, f, std::forward<Args>(a)...); }
template <class... Args>
void info(std::string_view c, fmt::format_string<Args...> f, Args&&... a) { at(Level::info, c, f, std::forward<Args>(a)...); }
template <class... Args>
void warn(std::string_view c, fmt::format_string<Args...> f, Args&&... a) { at(Level::warn, c, f, std::forward<Args>(a)...); }
template <class... Args>
void error(std::string_view c, fmt::format_string<Args...> f, Args&&... a) { at(Level::error, c, f, std::forward<Args>(a)...); }

}  // namespace conveyor::log
