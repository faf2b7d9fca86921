#pragma once
// Definitions behind the opaque handles of conveyor.h and the exception barrier every
// exported function goes through. Nothing here is exported.
#include <exception>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "conveyor/base/error_code.h"
#include "conveyor/base/properties.h"
#include "conveyor/base/result.h"
#include "conveyor/client/admin.h"
#include "conveyor/client/types.h"
#include "conveyor/conveyor.h"

struct conveyor_error_s {
  conveyor_err_t code = CONVEYOR_OK;
  std::string name;
  std::string message;
  bool retriable = false;
  bool fatal = false;
};

struct conveyor_admin_s {
  std::unique_ptr<conveyor::client::Admin> admin;
};

struct conveyor_config_s {
  std::map<std::string, std::string> values;
};

// A record, either owning its data (consumed) or viewing a delivery report (borrowed).
struct conveyor_message_s {
  const char* topic = "";
  int32_t partition = -1;
  int64_t offset = -1;
  int64_t timestamp_ms = -1;
  int timestamp_type = CONVEYOR_TIMESTAMP_CREATE_TIME;
  const uint8_t* key = nullptr;  // nullptr = null key
  size_t key_len = 0;
  const uint8_t* value = nullptr;  // nullptr = null value
  size_t value_len = 0;
  const std::vector<conveyor::protocol::RecordHeader>* headers = nullptr;
  void* opaque = nullptr;
  std::optional<conveyor::client::ConsumerRecord> owned;
};

namespace conveyor::capi {

// Fills *errp (if non-NULL) with a new error object and returns the code.
conveyor_err_t set_error(conveyor_error_t** errp, const Error& error, bool fatal = false);
conveyor_err_t set_error(conveyor_error_t** errp, ErrorCode code, std::string message);
// _INVALID_ARG naming the NULL argument of `function`.
conveyor_err_t null_arg(conveyor_error_t** errp, const char* function, const char* argument);

// Runs f (returning Result<void>) behind the exception barrier.
template <class F>
conveyor_err_t guard(conveyor_error_t** errp, F&& f) noexcept {
  if (errp) *errp = nullptr;
  try {
    Result<void> r = f();
    if (r) return CONVEYOR_OK;
    return set_error(errp, r.error());
  } catch (const std::bad_alloc&) {
    return set_error(errp, ErrorCode::local_fail, "out of memory");
  } catch (const std::exception& e) {
    return set_error(errp, ErrorCode::local_fail, std::string("internal error: ") + e.what());
  } catch (...) {
    return set_error(errp, ErrorCode::local_fail, "internal error: unknown exception");
  }
}

Properties to_properties(const conveyor_config_t* conf);

// A pointer to `b`'s bytes that is never NULL for a present value (empty values get "").
const uint8_t* data_or_empty(const Bytes& b);

// Points msg's views at its owned record.
void bind_owned(conveyor_message_s& msg);
// Points msg's views at r (borrowed: valid while r is).
void bind_view(conveyor_message_s& msg, const client::ConsumerRecord& r);

}  // namespace conveyor::capi
