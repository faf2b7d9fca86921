#pragma once
// Broken invariants abort in every build type (DESIGN.md §8). Expected failures use Result.
#include <cstdio>
#include <cstdlib>

namespace conveyor::detail {
[[noreturn]] void assertion_failed(const char* expr, const char* file, int line, const char* msg);
}

#define CONVEYOR_ASSERT(expr)                                                        \
  do {                                                                               \
    if (!(expr)) [[unlikely]]                                                        \
      ::conveyor::detail::assertion_failed(#expr, __FILE__, __LINE__, nullptr);      \
  } while (0)

#define CONVEYOR_ASSERT_MSG(expr, msg)                                               \
  do {                                                                               \
    if (!(expr)) [[unlikely]]                                                        \
      ::conveyor::detail::assertion_failed(#expr, __FILE__, __LINE__, (msg));        \
  } while (0)
