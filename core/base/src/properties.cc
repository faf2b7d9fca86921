#include "conveyor/base/properties.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

namespace conveyor {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Result<int64_t> parse_int(const ConfigKey& key, std::string_view text) {
  text = trim(text);
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty())
    return fail(ErrorCode::invalid_config,
                fmt::format("{}: expected an integer, got \"{}\"", key.name, text));
  if (v < key.min || v > key.max)
    return fail(ErrorCode::invalid_config,
                fmt::format("{}: {} is out of range [{}, {}]", key.name, v, key.min, key.max));
  return v;
}

Result<bool> parse_bool(const ConfigKey& key, std::string_view text) {
  auto v = lower(trim(text));
  if (v == "true" || v == "1") return true;
  if (v == "false" || v == "0") return false;
  return fail(ErrorCode::invalid_config,
              fmt::format("{}: expected true or false, got \"{}\"", key.name, text));
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto item = trim(text.substr(0, comma));
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

Result<void> check_value(const ConfigKey& key, std::string_view value) {
  switch (key.type) {
    case ConfigType::integer:
      if (auto r = parse_int(key, value); !r) return fail(r.error());
      break;
    case ConfigType::boolean:
      if (auto r = parse_bool(key, value); !r) return fail(r.error());
      break;
    case ConfigType::string:
      if (!key.choices.empty() &&
          std::find(key.choices.begin(), key.choices.end(), lower(trim(value))) == key.choices.end()) {
        std::string allowed;
        for (const auto& c : key.choices) allowed += (allowed.empty() ? "" : ", ") + c;
        return fail(ErrorCode::invalid_config,
                    fmt::format("{}: \"{}\" is not one of: {}", key.name, value, allowed));
      }
      break;
    case ConfigType::floating: {
      std::string text(trim(value));
      char* end = nullptr;
      errno = 0;
      double d = text.empty() ? 0 : std::strtod(text.c_str(), &end);
      if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(d))
        return fail(ErrorCode::invalid_config, fmt::format("{}: expected a number, got \"{}\"", key.name, value));
      break;
    }
    case ConfigType::list:
    case ConfigType::password:
      break;
  }
  return {};
}

}  // namespace

ConfigSchema& ConfigSchema::add(ConfigKey key) {
  keys_.push_back(std::move(key));
  return *this;
}

const ConfigKey* ConfigSchema::find(std::string_view name) const {
  for (const auto& k : keys_)
    if (k.name == name) return &k;
  return nullptr;
}

ConfigSchema& ConfigSchema::ignore(std::string name) {
  ignored_.push_back(std::move(name));
  return *this;
}

bool ConfigSchema::ignored(std::string_view name) const {
  return std::find(ignored_.begin(), ignored_.end(), name) != ignored_.end();
}

Result<Properties> Properties::parse(std::string_view text) {
  Properties out;
  int line_no = 0;
  while (!text.empty()) {
    auto nl = text.find('\n');
    auto line = trim(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (line.empty() || line.front() == '#' || line.front() == '!') continue;
    auto sep = line.find_first_of("=:");
    if (sep == std::string_view::npos)
      return fail(ErrorCode::invalid_config,
                  fmt::format("line {}: expected key=value, got \"{}\"", line_no, line));
    auto key = trim(line.substr(0, sep));
    if (key.empty())
      return fail(ErrorCode::invalid_config, fmt::format("line {}: empty key", line_no));
    out.set(std::string(key), std::string(trim(line.substr(sep + 1))));
  }
  return out;
}

Result<void> Properties::validate(const ConfigSchema& schema) const {
  for (const auto& [name, value] : values_) {
    if (schema.ignored(name)) continue;
    const ConfigKey* key = schema.find(name);
    if (!key) return fail(ErrorCode::invalid_config, fmt::format("{}: unknown configuration key", name));
    if (auto r = check_value(*key, value); !r) return r;
  }
  return {};
}

std::optional<std::string> Properties::get_raw(std::string_view key) const {
  auto it = values_.find(std::string(key));
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

namespace {
Result<std::pair<const ConfigKey*, std::string>> lookup(const Properties& p, const ConfigSchema& schema,
                                                        std::string_view name) {
  const ConfigKey* key = schema.find(name);
  if (!key) return fail(ErrorCode::invalid_config, fmt::format("{}: not in the schema", name));
  if (auto raw = p.get_raw(name)) return std::pair{key, *raw};
  if (!key->has_default)
    return fail(ErrorCode::invalid_config, fmt::format("{}: required and not set", name));
  return std::pair{key, key->default_value};
}
}  // namespace

Result<std::string> Properties::get_string(const ConfigSchema& schema, std::string_view name) const {
  auto kv = lookup(*this, schema, name);
  if (!kv) return fail(kv.error());
  if (auto r = check_value(*kv->first, kv->second); !r) return fail(r.error());
  if (!kv->first->choices.empty()) return lower(trim(kv->second));
  return kv->second;
}

Result<int64_t> Properties::get_int(const ConfigSchema& schema, std::string_view name) const {
  auto kv = lookup(*this, schema, name);
  if (!kv) return fail(kv.error());
  return parse_int(*kv->first, kv->second);
}

Result<bool> Properties::get_bool(const ConfigSchema& schema, std::string_view name) const {
  auto kv = lookup(*this, schema, name);
  if (!kv) return fail(kv.error());
  return parse_bool(*kv->first, kv->second);
}

Result<std::vector<std::string>> Properties::get_list(const ConfigSchema& schema,
                                                      std::string_view name) const {
  auto kv = lookup(*this, schema, name);
  if (!kv) return fail(kv.error());
  return split_list(kv->second);
}

}  // namespace conveyor
