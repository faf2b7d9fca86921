#pragma once
// Kafka wire primitives (protocol guide, "Protocol Primitive Types"): big-endian integers,
// unsigned varints (flexible versions), zigzag varints/varlongs (records), strings, bytes,
// compact forms (length N+1, 0 = null), UUIDs and tagged fields.
//
// Reader never trusts a length: every size is checked against the bytes that remain before
// anything is allocated. Errors are sticky: after the first failure every read returns a
// zero value and ok() is false, so decoders check once at the end.
// Thread-safety: a Reader or Writer is used by one thread at a time.
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "conveyor/protocol/bytes.h"

namespace conveyor::protocol {

using Uuid = std::array<uint8_t, 16>;

// A tagged field kept as raw bytes so unknown tags survive a decode/encode round trip.
struct TaggedField {
  uint32_t tag = 0;
  Bytes data;
  bool operator==(const TaggedField&) const = default;
};
using TaggedFields = std::vector<TaggedField>;

class Reader {
 public:
  explicit Reader(ByteView data) : data_(data) {}

  bool ok() const { return ok_; }
  size_t remaining() const { return ok_ ? data_.size() - pos_ : 0; }
  size_t position() const { return pos_; }
  // Marks the input malformed (for checks the decoder makes itself).
  void fail() { ok_ = false; }

  int8_t int8() { return static_cast<int8_t>(fixed<uint8_t>()); }
  int16_t int16() { return static_cast<int16_t>(fixed<uint16_t>()); }
  int32_t int32() { return static_cast<int32_t>(fixed<uint32_t>()); }
  int64_t int64() { return static_cast<int64_t>(fixed<uint64_t>()); }
  uint16_t uint16() { return fixed<uint16_t>(); }
  uint32_t uint32() { return fixed<uint32_t>(); }
  bool boolean() { return int8() != 0; }
  double float64() {
    uint64_t bits = fixed<uint64_t>();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    return d;
  }

  uint32_t uvarint() { return static_cast<uint32_t>(uvarlong_bits(35)); }
  uint64_t uvarlong() { return uvarlong_bits(70); }
  int32_t varint() {
    uint32_t v = uvarint();
    return static_cast<int32_t>((v >> 1) ^ (~(v & 1) + 1));
  }
  int64_t varlong() {
    uint64_t v = uvarlong();
    return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
  }

  Uuid uuid() {
    Uuid u{};
    if (need(16)) {
      std::memcpy(u.data(), data_.data() + pos_, 16);
      pos_ += 16;
    }
    return u;
  }

  // Raw view of the next n bytes (valid as long as the input buffer).
  ByteView view(size_t n) {
    if (!need(n)) return {};
    ByteView out = data_.subspan(pos_, n);
    pos_ += n;
    return out;
  }

  std::string string() { return take_string(int16()); }
  std::optional<std::string> nullable_string() {
    int16_t n = int16();
    if (n == -1) return std::nullopt;
    return take_string(n);
  }
  std::string compact_string() { return take_string(compact_length()); }
  std::optional<std::string> compact_nullable_string() {
    int64_t n = compact_length();
    if (n == -1) return std::nullopt;
    return take_string(n);
  }

  Bytes bytes() { return take_bytes(int32()); }
  std::optional<Bytes> nullable_bytes() {
    int32_t n = int32();
    if (n == -1) return std::nullopt;
    return take_bytes(n);
  }
  Bytes compact_bytes() { return take_bytes(compact_length()); }
  std::optional<Bytes> compact_nullable_bytes() {
    int64_t n = compact_length();
    if (n == -1) return std::nullopt;
    return take_bytes(n);
  }

  // Array lengths: -1 means null. Each element needs at least `min_element_size` bytes, so a
  // length larger than what remains is rejected before any allocation.
  int32_t array_length(size_t min_element_size = 1) { return check_count(int32(), min_element_size); }
  int32_t compact_array_length(size_t min_element_size = 1) {
    return check_count(static_cast<int32_t>(compact_length()), min_element_size);
  }

  // Tagged fields section: calls known(tag, sub_reader) for each field; known returns false for
  // tags it does not know, which are then appended to `unknown`.
  template <class Known>
  void tagged_fields(TaggedFields& unknown, Known&& known) {
    uint32_t count = uvarint();
    if (count > remaining()) return fail();
    for (uint32_t i = 0; i < count && ok_; ++i) {
      uint32_t tag = uvarint();
      uint32_t size = uvarint();
      ByteView body = view(size);
      if (!ok_) return;
      Reader sub(body);
      if (!known(tag, sub)) {
        unknown.push_back(TaggedField{tag, Bytes(body.begin(), body.end())});
      } else if (!sub.ok()) {
        return fail();
      }
    }
  }
  void skip_tagged_fields(TaggedFields& unknown) {
    tagged_fields(unknown, [](uint32_t, Reader&) { return false; });
  }

 private:
  bool need(size_t n) {
    if (!ok_ || n > data_.size() - pos_) {
      ok_ = false;
      return false;
    }
    return true;
  }
  template <class T>
  T fixed() {
    if (!need(sizeof(T))) return 0;
    T v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>((v << 8) | data_[pos_ + i]);
    pos_ += sizeof(T);
    return v;
  }
  uint64_t uvarlong_bits(int max_shift) {
    uint64_t v = 0;
    for (int shift = 0; shift < max_shift; shift += 7) {
      if (!need(1)) return 0;
      uint8_t b = data_[pos_++];
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    ok_ = false;
    return 0;
  }
  int64_t compact_length() {
    uint32_t n = uvarint();
    return static_cast<int64_t>(n) - 1;
  }
  std::string take_string(int64_t n) {
    if (n < 0 || !need(static_cast<size_t>(n))) {
      ok_ = false;
      return {};
    }
    std::string s(reinterpret_cast<const char*>(data_.data() + pos_), static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return s;
  }
  Bytes take_bytes(int64_t n) {
    if (n < 0 || !need(static_cast<size_t>(n))) {
      ok_ = false;
      return {};
    }
    Bytes b(data_.begin() + pos_, data_.begin() + pos_ + n);
    pos_ += static_cast<size_t>(n);
    return b;
  }
  int32_t check_count(int32_t n, size_t min_element_size) {
    if (!ok_) return 0;
    if (n < -1) {
      ok_ = false;
      return 0;
    }
    if (n > 0 && static_cast<size_t>(n) > remaining() / (min_element_size ? min_element_size : 1)) {
      ok_ = false;
      return 0;
    }
    return n;
  }

  ByteView data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

class Writer {
 public:
  Writer() = default;
  explicit Writer(Bytes& out) : out_(&out) {}

  Bytes& buffer() { return *out_; }
  size_t size() const { return out_->size(); }

  void int8(int8_t v) { out_->push_back(static_cast<uint8_t>(v)); }
  void int16(int16_t v) { fixed(static_cast<uint16_t>(v)); }
  void int32(int32_t v) { fixed(static_cast<uint32_t>(v)); }
  void int64(int64_t v) { fixed(static_cast<uint64_t>(v)); }
  void uint16(uint16_t v) { fixed(v); }
  void uint32(uint32_t v) { fixed(v); }
  void boolean(bool v) { int8(v ? 1 : 0); }
  void float64(double d) {
    uint64_t bits;
    std::memcpy(&bits, &d, sizeof d);
    fixed(bits);
  }

  void uvarint(uint32_t v) { uvarlong(v); }
  void uvarlong(uint64_t v) {
    while (v >= 0x80) {
      out_->push_back(static_cast<uint8_t>(v | 0x80));
      v >>= 7;
    }
    out_->push_back(static_cast<uint8_t>(v));
  }
  void varint(int32_t v) { uvarint((static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31)); }
  void varlong(int64_t v) { uvarlong((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }

  void uuid(const Uuid& u) { raw(ByteView(u.data(), u.size())); }
  void raw(ByteView b) { out_->insert(out_->end(), b.begin(), b.end()); }

  void string(std::string_view s) {
    int16(static_cast<int16_t>(s.size()));
    raw_chars(s);
  }
  void nullable_string(const std::optional<std::string>& s) {
    if (!s) return int16(-1);
    string(*s);
  }
  void compact_string(std::string_view s) {
    uvarint(static_cast<uint32_t>(s.size() + 1));
    raw_chars(s);
  }
  void compact_nullable_string(const std::optional<std::string>& s) {
    if (!s) return uvarint(0);
    compact_string(*s);
  }
  void bytes(ByteView b) {
    int32(static_cast<int32_t>(b.size()));
    raw(b);
  }
  void nullable_bytes(const std::optional<Bytes>& b) {
    if (!b) return int32(-1);
    bytes(*b);
  }
  void compact_bytes(ByteView b) {
    uvarint(static_cast<uint32_t>(b.size() + 1));
    raw(b);
  }
  void compact_nullable_bytes(const std::optional<Bytes>& b) {
    if (!b) return uvarint(0);
    compact_bytes(*b);
  }
  void array_length(int32_t n) { int32(n); }
  void compact_array_length(int32_t n) { uvarint(static_cast<uint32_t>(n + 1)); }  // -1 → 0 (null)

  // Writes a tagged-field section in ascending tag order (KIP-482): `known` (sorted by tag)
  // merged with the unknown ones kept from decoding (in their wire order, ascending when the
  // sender followed the protocol).
  void tagged_fields(const std::vector<std::pair<uint32_t, Bytes>>& known, const TaggedFields& unknown) {
    uvarint(static_cast<uint32_t>(known.size() + unknown.size()));
    size_t i = 0, j = 0;
    while (i < known.size() || j < unknown.size()) {
      bool take_known = j == unknown.size() || (i < known.size() && known[i].first <= unknown[j].tag);
      uint32_t tag = take_known ? known[i].first : unknown[j].tag;
      const Bytes& data = take_known ? known[i++].second : unknown[j++].data;
      uvarint(tag);
      uvarint(static_cast<uint32_t>(data.size()));
      raw(data);
    }
  }
  void empty_tagged_fields() { uvarint(0); }

  // Reserve an int32 to fill later (size prefixes): returns its position.
  size_t reserve_int32() {
    size_t at = out_->size();
    int32(0);
    return at;
  }
  void patch_int32(size_t at, int32_t v) {
    auto u = static_cast<uint32_t>(v);
    for (int i = 0; i < 4; ++i) (*out_)[at + i] = static_cast<uint8_t>(u >> (24 - 8 * i));
  }

 private:
  template <class T>
  void fixed(T v) {
    for (int i = sizeof(T) - 1; i >= 0; --i) out_->push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void raw_chars(std::string_view s) {
    out_->insert(out_->end(), reinterpret_cast<const uint8_t*>(s.data()),
                 reinterpret_cast<const uint8_t*>(s.data()) + s.size());
  }

  Bytes owned_;
  Bytes* out_ = &owned_;
};

}  // namespace conveyor::protocol
