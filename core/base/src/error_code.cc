#include "conveyor/base/error_code.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "conveyor/base/result.h"

namespace conveyor {
namespace {

struct Entry {
  int16_t value;
  std::string_view lower;
  bool retriable;
};

constexpr Entry kEntries[] = {
#define CONVEYOR_X(name, value, retriable) {value, #name, retriable},
    CONVEYOR_ERROR_CODES(CONVEYOR_X)
#undef CONVEYOR_X
};

const Entry* find(ErrorCode code) {
  for (const auto& e : kEntries)
    if (e.value == static_cast<int16_t>(code)) return &e;
  return nullptr;
}

// Upper-case names built once; string_views into them stay valid for the program's life.
const std::string* upper_names() {
  static const auto* names = [] {
    auto* out = new std::string[std::size(kEntries)];
    for (size_t i = 0; i < std::size(kEntries); ++i) {
      out[i] = std::string(kEntries[i].lower);
      std::transform(out[i].begin(), out[i].end(), out[i].begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    }
    return out;
  }();
  return names;
}

}  // namespace

std::string_view error_name(ErrorCode code) {
  const Entry* e = find(code);
  if (!e) return "UNKNOWN_ERROR_CODE";
  return upper_names()[e - kEntries];
}

bool error_retriable(ErrorCode code) {
  const Entry* e = find(code);
  return e && e->retriable;
}

bool error_code_known(int16_t value) { return find(static_cast<ErrorCode>(value)) != nullptr; }

std::string Error::to_string() const {
  std::string out(error_name(code));
  if (!message.empty()) {
    out += ": ";
    out += message;
  }
  return out;
}

}  // namespace conveyor
