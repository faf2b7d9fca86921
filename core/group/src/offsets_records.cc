#include "conveyor/group/offsets_records.h"

#include <fmt/format.h>

#include "conveyor/protocol/codec.h"

namespace conveyor::group {

namespace {
using protocol::Reader;
using protocol::Writer;

// Decodes one code point from UTF-8 at s[i], advancing i. Invalid sequences give U+FFFD and
// advance one byte.
uint32_t next_code_point(std::string_view s, size_t& i) {
  auto b = static_cast<uint8_t>(s[i]);
  auto cont = [&](size_t k) { return i + k < s.size() && (static_cast<uint8_t>(s[i + k]) & 0xC0) == 0x80; };
  if (b < 0x80) {
    ++i;
    return b;
  }
  if ((b & 0xE0) == 0xC0 && b >= 0xC2 && cont(1)) {
    uint32_t cp = ((b & 0x1Fu) << 6) | (static_cast<uint8_t>(s[i + 1]) & 0x3Fu);
    i += 2;
    return cp;
  }
  if ((b & 0xF0) == 0xE0 && cont(1) && cont(2)) {
    uint32_t cp = ((b & 0x0Fu) << 12) | ((static_cast<uint8_t>(s[i + 1]) & 0x3Fu) << 6) |
                  (static_cast<uint8_t>(s[i + 2]) & 0x3Fu);
    if (cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)) {
      i += 3;
      return cp;
    }
  }
  if ((b & 0xF8) == 0xF0 && cont(1) && cont(2) && cont(3)) {
    uint32_t cp = ((b & 0x07u) << 18) | ((static_cast<uint8_t>(s[i + 1]) & 0x3Fu) << 12) |
                  ((static_cast<uint8_t>(s[i + 2]) & 0x3Fu) << 6) | (static_cast<uint8_t>(s[i + 3]) & 0x3Fu);
    if (cp >= 0x10000 && cp <= 0x10FFFF) {
      i += 4;
      return cp;
    }
  }
  ++i;
  return 0xFFFD;
}

Result<void> check_done(const Reader& r, const char* what) {
  if (!r.ok()) return fail(ErrorCode::corrupt_message, fmt::format("truncated __consumer_offsets {}", what));
  return {};
}
}  // namespace

int32_t java_string_hash(std::string_view utf8) {
  uint32_t h = 0;
  auto add = [&](uint32_t unit) { h = 31 * h + unit; };
  for (size_t i = 0; i < utf8.size();) {
    uint32_t cp = next_code_point(utf8, i);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      add(0xD800 + (cp >> 10));
      add(0xDC00 + (cp & 0x3FF));
    } else {
      add(cp);
    }
  }
  return static_cast<int32_t>(h);
}

int32_t partition_for_group(std::string_view group_id, int32_t num_partitions) {
  int32_t h = java_string_hash(group_id);
  int32_t abs = h == INT32_MIN ? 0 : (h < 0 ? -h : h);
  return abs % num_partitions;
}

Bytes encode_offset_key(const OffsetKey& key) {
  Bytes out;
  Writer w(out);
  w.int16(1);
  w.string(key.group);
  w.string(key.topic);
  w.int32(key.partition);
  return out;
}

Bytes encode_offset_value(const OffsetValue& v) {
  Bytes out;
  Writer w(out);
  w.int16(3);
  w.int64(v.offset);
  w.int32(v.leader_epoch);
  w.string(v.metadata);
  w.int64(v.commit_timestamp_ms);
  return out;
}

Bytes encode_group_key(std::string_view group) {
  Bytes out;
  Writer w(out);
  w.int16(2);
  w.string(group);
  return out;
}

Bytes encode_group_value(const GroupMetadataValue& v) {
  Bytes out;
  Writer w(out);
  w.int16(3);
  w.string(v.protocol_type);
  w.int32(v.generation);
  w.nullable_string(v.protocol);
  w.nullable_string(v.leader);
  w.int64(v.current_state_timestamp_ms);
  w.int32(static_cast<int32_t>(v.members.size()));
  for (const auto& m : v.members) {
    w.string(m.member_id);
    w.nullable_string(m.group_instance_id);
    w.string(m.client_id);
    w.string(m.client_host);
    w.int32(m.rebalance_timeout_ms);
    w.int32(m.session_timeout_ms);
    w.bytes(m.subscription);
    w.bytes(m.assignment);
  }
  return out;
}

Result<RecordKey> decode_record_key(ByteView key) {
  Reader r(key);
  int16_t version = r.int16();
  RecordKey out;
  if (!r.ok()) return fail(ErrorCode::corrupt_message, "empty __consumer_offsets key");
  if (version == 0 || version == 1) {
    out.kind = RecordKey::Kind::offset;
    out.offset.group = r.string();
    out.offset.topic = r.string();
    out.offset.partition = r.int32();
    out.group = out.offset.group;
  } else if (version == 2) {
    out.kind = RecordKey::Kind::group;
    out.group = r.string();
  } else {
    return fail(ErrorCode::corrupt_message, fmt::format("unknown __consumer_offsets key version {}", version));
  }
  if (auto ok = check_done(r, "key"); !ok) return fail(ok.error());
  return out;
}

Result<OffsetValue> decode_offset_value(ByteView value) {
  Reader r(value);
  int16_t version = r.int16();
  OffsetValue v;
  if (!r.ok() || version < 0 || version > 3)
    return fail(ErrorCode::corrupt_message, fmt::format("unsupported offset commit value version {}", version));
  v.offset = r.int64();
  if (version >= 3) v.leader_epoch = r.int32();
  v.metadata = r.string();
  v.commit_timestamp_ms = r.int64();
  if (version == 1) v.expire_timestamp_ms = r.int64();
  if (auto ok = check_done(r, "offset commit value"); !ok) return fail(ok.error());
  return v;
}

Result<GroupMetadataValue> decode_group_value(ByteView value) {
  Reader r(value);
  int16_t version = r.int16();
  GroupMetadataValue v;
  if (!r.ok() || version < 0 || version > 3)
    return fail(ErrorCode::corrupt_message, fmt::format("unsupported group metadata value version {}", version));
  v.protocol_type = r.string();
  v.generation = r.int32();
  v.protocol = r.nullable_string();
  v.leader = r.nullable_string();
  if (version >= 2) v.current_state_timestamp_ms = r.int64();
  // Smallest member: 3 empty strings (2 bytes each), session timeout, two empty bytes fields.
  int32_t n = r.array_length(2 + 2 + 2 + 4 + 4 + 4);
  for (int32_t i = 0; i < n && r.ok(); ++i) {
    auto& m = v.members.emplace_back();
    m.member_id = r.string();
    if (version >= 3) m.group_instance_id = r.nullable_string();
    m.client_id = r.string();
    m.client_host = r.string();
    if (version >= 1) m.rebalance_timeout_ms = r.int32();
    m.session_timeout_ms = r.int32();
    m.subscription = r.bytes();
    m.assignment = r.bytes();
  }
  if (auto ok = check_done(r, "group metadata value"); !ok) return fail(ok.error());
  return v;
}

}  // namespace conveyor::group
