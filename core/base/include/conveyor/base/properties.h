#pragma once
// String key → string value configuration with Kafka's property names (DESIGN.md §5).
//
// A component declares the keys it accepts with a ConfigSchema; Properties::validate()
// rejects unknown keys and badly typed values with an Error whose message names the key,
// e.g. `invalid_config: linger.ms: expected an integer, got "soon"`.
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conveyor/base/result.h"

namespace conveyor {

// Kafka's ConfigDef types conveyor uses; `floating` is Kafka's DOUBLE (a finite decimal number,
// e.g. min.cleanable.dirty.ratio).
enum class ConfigType { string, integer, boolean, list, password, floating };

struct ConfigKey {
  std::string name;             // Kafka property name, e.g. "linger.ms"
  ConfigType type = ConfigType::string;
  std::string default_value;    // as text; empty with has_default=false means "no default"
  bool has_default = true;
  std::string doc;              // one line for --help and DescribeConfigs
  int64_t min = INT64_MIN;      // integer bounds (inclusive)
  int64_t max = INT64_MAX;
  std::vector<std::string> choices;  // allowed values for enumerated strings (lower-case)
};

class ConfigSchema {
 public:
  ConfigSchema& add(ConfigKey key);
  const ConfigKey* find(std::string_view name) const;
  const std::vector<ConfigKey>& keys() const { return keys_; }
  // Keys that are accepted and ignored (Kafka keys conveyor does not act on yet).
  ConfigSchema& ignore(std::string name);
  bool ignored(std::string_view name) const;

 private:
  std::vector<ConfigKey> keys_;
  std::vector<std::string> ignored_;
};

class Properties {
 public:
  Properties() = default;
  explicit Properties(std::map<std::string, std::string> values) : values_(std::move(values)) {}
  Properties(std::initializer_list<std::pair<const std::string, std::string>> values) : values_(values) {}

  void set(std::string key, std::string value) { values_[std::move(key)] = std::move(value); }
  bool contains(std::string_view key) const { return values_.find(std::string(key)) != values_.end(); }
  const std::map<std::string, std::string>& values() const { return values_; }

  // Parses Java .properties text: `key=value` or `key: value`, `#`/`!` comments, blank lines.
  static Result<Properties> parse(std::string_view text);

  // Every key known to the schema (or ignored by it) and every value of the right type.
  Result<void> validate(const ConfigSchema& schema) const;

  // Typed getters: the value if set, else the schema default. Call validate() first; these
  // return an Error naming the key if the value does not parse.
  Result<std::string> get_string(const ConfigSchema& schema, std::string_view key) const;
  Result<int64_t> get_int(const ConfigSchema& schema, std::string_view key) const;
  Result<bool> get_bool(const ConfigSchema& schema, std::string_view key) const;
  Result<std::vector<std::string>> get_list(const ConfigSchema& schema, std::string_view key) const;
  std::optional<std::string> get_raw(std::string_view key) const;

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace conveyor
