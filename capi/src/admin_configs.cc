// C ABI: topic configuration and partitions (conveyor.h "Admin: topic configuration and
// partitions") over client::Admin's describe_configs / incremental_alter_configs /
// create_partitions.
#include <string>
#include <vector>

#include <fmt/format.h>

#include "conveyor/client/admin.h"
#include "internal.h"

using namespace conveyor;
using namespace conveyor::capi;

struct conveyor_config_entries_s {
  std::vector<client::ConfigEntry> entries;
};

namespace {

const client::ConfigEntry* entry_at(const conveyor_config_entries_t* e, size_t i) {
  return e && i < e->entries.size() ? &e->entries[i] : nullptr;
}

Result<client::ConfigResource> to_resource(const char* function, int type, const char* name) {
  if (type != CONVEYOR_RESOURCE_TOPIC && type != CONVEYOR_RESOURCE_BROKER)
    return fail(ErrorCode::local_invalid_arg,
                fmt::format("{}: resource_type {} is neither CONVEYOR_RESOURCE_TOPIC (2) nor CONVEYOR_RESOURCE_BROKER (4)",
                            function, type));
  return client::ConfigResource{static_cast<client::ConfigResourceType>(type), name};
}

}  // namespace

extern "C" conveyor_err_t conveyor_admin_describe_configs(conveyor_admin_t* a, int resource_type,
                                                          const char* resource_name, const char* const* keys,
                                                          size_t key_count, int32_t timeout_ms,
                                                          conveyor_config_entries_t** entriesp,
                                                          conveyor_error_t** errp) {
  if (entriesp) *entriesp = nullptr;
  if (!a) return null_arg(errp, "conveyor_admin_describe_configs", "admin");
  if (!resource_name) return null_arg(errp, "conveyor_admin_describe_configs", "resource_name");
  if (!entriesp) return null_arg(errp, "conveyor_admin_describe_configs", "entriesp");
  if (key_count > 0 && !keys) return null_arg(errp, "conveyor_admin_describe_configs", "keys");
  return guard(errp, [&]() -> Result<void> {
    auto resource = to_resource("conveyor_admin_describe_configs", resource_type, resource_name);
    if (!resource) return fail(resource.error());
    std::vector<std::string> names;
    for (size_t i = 0; i < key_count; ++i) {
      if (!keys[i])
        return fail(ErrorCode::local_invalid_arg,
                    fmt::format("conveyor_admin_describe_configs: keys[{}] must not be NULL", i));
      names.emplace_back(keys[i]);
    }
    auto r = a->admin->describe_configs({*resource}, names, true, true, timeout_ms);
    if (!r) return fail(r.error());
    auto& res = r->front();
    if (res.error.code != ErrorCode::none) return fail(res.error);
    auto out = std::make_unique<conveyor_config_entries_s>();
    out->entries = std::move(res.entries);
    *entriesp = out.release();
    return {};
  });
}

extern "C" size_t conveyor_config_entries_count(const conveyor_config_entries_t* e) {
  return e ? e->entries.size() : 0;
}
extern "C" const char* conveyor_config_entries_name(const conveyor_config_entries_t* e, size_t i) {
  auto* c = entry_at(e, i);
  return c ? c->name.c_str() : nullptr;
}
extern "C" const char* conveyor_config_entries_value(const conveyor_config_entries_t* e, size_t i) {
  auto* c = entry_at(e, i);
  return c && c->value ? c->value->c_str() : nullptr;
}
extern "C" int conveyor_config_entries_source(const conveyor_config_entries_t* e, size_t i) {
  auto* c = entry_at(e, i);
  return c ? static_cast<int>(c->source) : -1;
}
extern "C" int conveyor_config_entries_read_only(const conveyor_config_entries_t* e, size_t i) {
  auto* c = entry_at(e, i);
  return c && c->read_only ? 1 : 0;
}
extern "C" int conveyor_config_entries_is_sensitive(const conveyor_config_entries_t* e, size_t i) {
  auto* c = entry_at(e, i);
  return c && c->is_sensitive ? 1 : 0;
}
extern "C" int conveyor_config_entries_type(const conveyor_config_entries_t* e, size_t i) {
  auto* c = entry_at(e, i);
  return c ? c->type : 0;
}
extern "C" const char* conveyor_config_entries_documentation(const conveyor_config_entries_t* e, size_t i) {
  auto* c = entry_at(e, i);
  return c && c->documentation ? c->documentation->c_str() : nullptr;
}
extern "C" size_t conveyor_config_entries_synonym_count(const conveyor_config_entries_t* e, size_t i) {
  auto* c = entry_at(e, i);
  return c ? c->synonyms.size() : 0;
}
extern "C" conveyor_err_t conveyor_config_entries_synonym(const conveyor_config_entries_t* e, size_t i, size_t j,
                                                          const char** namep, const char** valuep, int* sourcep) {
  auto* c = entry_at(e, i);
  if (!c || j >= c->synonyms.size()) return CONVEYOR_ERR__INVALID_ARG;
  const auto& s = c->synonyms[j];
  if (namep) *namep = s.name.c_str();
  if (valuep) *valuep = s.value ? s.value->c_str() : nullptr;
  if (sourcep) *sourcep = static_cast<int>(s.source);
  return CONVEYOR_OK;
}
extern "C" void conveyor_config_entries_destroy(conveyor_config_entries_t* e) { delete e; }

extern "C" conveyor_err_t conveyor_admin_alter_configs(conveyor_admin_t* a, int resource_type,
                                                       const char* resource_name,
                                                       const conveyor_alter_config_op_t* ops, size_t count,
                                                       int validate_only, int32_t timeout_ms,
                                                       conveyor_error_t** errp) {
  if (!a) return null_arg(errp, "conveyor_admin_alter_configs", "admin");
  if (!resource_name) return null_arg(errp, "conveyor_admin_alter_configs", "resource_name");
  if (count > 0 && !ops) return null_arg(errp, "conveyor_admin_alter_configs", "ops");
  return guard(errp, [&]() -> Result<void> {
    auto resource = to_resource("conveyor_admin_alter_configs", resource_type, resource_name);
    if (!resource) return fail(resource.error());
    std::vector<client::AlterConfigOp> changes;
    for (size_t i = 0; i < count; ++i) {
      const auto& op = ops[i];
      if (!op.name)
        return fail(ErrorCode::local_invalid_arg, fmt::format("conveyor_admin_alter_configs: ops[{}].name is NULL", i));
      if (op.op < CONVEYOR_ALTER_CONFIG_SET || op.op > CONVEYOR_ALTER_CONFIG_SUBTRACT)
        return fail(ErrorCode::local_invalid_arg,
                    fmt::format("conveyor_admin_alter_configs: ops[{}].op {} is not a CONVEYOR_ALTER_CONFIG_*", i, op.op));
      client::AlterConfigOp c;
      c.name = op.name;
      c.op = static_cast<client::AlterConfigOpType>(op.op);
      if (op.op != CONVEYOR_ALTER_CONFIG_DELETE) {
        if (!op.value)
          return fail(ErrorCode::local_invalid_arg,
                      fmt::format("conveyor_admin_alter_configs: ops[{}] ({}) needs a value", i, op.name));
        c.value = op.value;
      }
      changes.push_back(std::move(c));
    }
    auto r = a->admin->incremental_alter_configs({{*resource, changes}}, validate_only != 0, timeout_ms);
    if (!r) return fail(r.error());
    if (r->front().error.code != ErrorCode::none) return fail(r->front().error);
    return {};
  });
}

extern "C" conveyor_err_t conveyor_admin_create_partitions(conveyor_admin_t* a, const char* topic, int32_t total_count,
                                                           int validate_only, int32_t timeout_ms,
                                                           conveyor_error_t** errp) {
  if (!a) return null_arg(errp, "conveyor_admin_create_partitions", "admin");
  if (!topic) return null_arg(errp, "conveyor_admin_create_partitions", "topic");
  return guard(errp, [&]() -> Result<void> {
    auto r = a->admin->create_partitions({client::NewPartitions{topic, total_count, std::nullopt}}, validate_only != 0,
                                         timeout_ms);
    if (!r) return fail(r.error());
    if (r->front().error.code != ErrorCode::none) return fail(r->front().error);
    return {};
  });
}
