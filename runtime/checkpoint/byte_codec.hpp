#pragma once

// Little-endian bytes for checkpoints: a writer that appends fixed-size values, floats, byte
// strings and text, and a reader that checks every read against the end of its input. Every
// value is little-endian whatever the machine, so a checkpoint moves between hosts.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/checkpoint/checkpoint_error.hpp"

namespace fedactor {

class byte_writer {
 public:
  void put_u8(uint8_t v);
  void put_u32(uint32_t v);
  void put_u64(uint64_t v);
  void put_i32(int32_t v) { put_u32(static_cast<uint32_t>(v)); }
  void put_f64(double v);
  void put_i128(__int128 v);
  // A u64 count, then the values.
  void put_floats(const std::vector<float>& v);
  void put_u32s(const std::vector<uint32_t>& v);
  void put_bytes(const std::vector<char>& v);
  void put_string(const std::string& s);

  const std::vector<char>& bytes() const { return out_; }
  std::vector<char> take() { return std::move(out_); }

 private:
  void raw(const void* p, size_t n);
  std::vector<char> out_;
};

class byte_reader {
 public:
  // `what` names the input in errors ("checkpoint DIR/state.ckpt"); `data` must outlive the
  // reader.
  byte_reader(const char* data, size_t size, std::string what);

  // Each throws checkpoint_error "<what>: truncated (no room for <field>)" when the bytes end
  // first, or when a count is larger than what is left.
  uint8_t get_u8(const char* field);
  uint32_t get_u32(const char* field);
  uint64_t get_u64(const char* field);
  int32_t get_i32(const char* field) { return static_cast<int32_t>(get_u32(field)); }
  double get_f64(const char* field);
  __int128 get_i128(const char* field);
  std::vector<float> get_floats(const char* field);
  std::vector<uint32_t> get_u32s(const char* field);
  std::vector<char> get_bytes(const char* field);
  std::string get_string(const char* field);

  // Throws checkpoint_error when bytes are left over.
  void finish() const;
  // checkpoint_error "<what>: <message>".
  [[noreturn]] void fail(const std::string& message) const;

  size_t remaining() const { return size_ - pos_; }

 private:
  void need(size_t n, const char* field) const;
  // A u64 count of elements of `size` bytes each, checked against what is left.
  size_t count(size_t size, const char* field);

  const char* data_;
  size_t size_;
  size_t pos_ = 0;
  std::string what_;
};

}  // namespace fedactor
