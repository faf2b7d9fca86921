#pragma once
// Expected failures are values: Result<T> holds a T or an Error (DESIGN.md §8).
#include <expected>
#include <string>
#include <utility>

#include "conveyor/base/error_code.h"

namespace conveyor {

struct Error {
  ErrorCode code = ErrorCode::unknown_server_error;
  std::string message;

  bool retriable() const { return error_retriable(code); }
  // "NAME: message" for logs and exceptions.
  std::string to_string() const;
};

template <class T>
using Result = std::expected<T, Error>;

// Shorthand for building the error side: `return fail(ErrorCode::invalid_request, "why");`
inline std::unexpected<Error> fail(ErrorCode code, std::string message = {}) {
  return std::unexpected<Error>(Error{code, std::move(message)});
}
inline std::unexpected<Error> fail(Error error) { return std::unexpected<Error>(std::move(error)); }

}  // namespace conveyor
