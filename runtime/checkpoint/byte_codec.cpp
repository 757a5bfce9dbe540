#include "runtime/checkpoint/byte_codec.hpp"

#include <cstring>

namespace fedactor {

namespace {

// x86-64 and arm64 are little-endian; on a big-endian host every value would need swapping.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "checkpoints assume a little-endian host");

}  // namespace

void byte_writer::raw(const void* p, size_t n) {
  const char* c = static_cast<const char*>(p);
  out_.insert(out_.end(), c, c + n);
}

void byte_writer::put_u8(uint8_t v) {
  raw(&v, 1);
}
void byte_writer::put_u32(uint32_t v) {
  raw(&v, 4);
}
void byte_writer::put_u64(uint64_t v) {
  raw(&v, 8);
}
void byte_writer::put_f64(double v) {
  raw(&v, 8);
}
void byte_writer::put_i128(__int128 v) {
  raw(&v, 16);
}

void byte_writer::put_floats(const std::vector<float>& v) {
  put_u64(v.size());
  raw(v.data(), v.size() * sizeof(float));
}

void byte_writer::put_u32s(const std::vector<uint32_t>& v) {
  put_u64(v.size());
  raw(v.data(), v.size() * sizeof(uint32_t));
}

void byte_writer::put_bytes(const std::vector<char>& v) {
  put_u64(v.size());
  raw(v.data(), v.size());
}

void byte_writer::put_string(const std::string& s) {
  put_u64(s.size());
  raw(s.data(), s.size());
}

byte_reader::byte_reader(const char* data, size_t size, std::string what)
    : data_(data), size_(size), what_(std::move(what)) {}

void byte_reader::fail(const std::string& message) const {
  throw checkpoint_error(what_ + ": " + message);
}

void byte_reader::need(size_t n, const char* field) const {
  if (n > size_ - pos_) fail(std::string("truncated (no room for ") + field + ")");
}

size_t byte_reader::count(size_t size, const char* field) {
  const uint64_t n = get_u64(field);
  if (n > (size_ - pos_) / size) fail(std::string("truncated (no room for ") + field + ")");
  return static_cast<size_t>(n);
}

uint8_t byte_reader::get_u8(const char* field) {
  need(1, field);
  return static_cast<uint8_t>(data_[pos_++]);
}

uint32_t byte_reader::get_u32(const char* field) {
  uint32_t v;
  need(4, field);
  std::memcpy(&v, data_ + pos_, 4);
  pos_ += 4;
  return v;
}

uint64_t byte_reader::get_u64(const char* field) {
  uint64_t v;
  need(8, field);
  std::memcpy(&v, data_ + pos_, 8);
  pos_ += 8;
  return v;
}

double byte_reader::get_f64(const char* field) {
  double v;
  need(8, field);
  std::memcpy(&v, data_ + pos_, 8);
  pos_ += 8;
  return v;
}

__int128 byte_reader::get_i128(const char* field) {
  __int128 v;
  need(16, field);
  std::memcpy(&v, data_ + pos_, 16);
  pos_ += 16;
  return v;
}

std::vector<float> byte_reader::get_floats(const char* field) {
  std::vector<float> v(count(sizeof(float), field));
  std::memcpy(v.data(), data_ + pos_, v.size() * sizeof(float));
  pos_ += v.size() * sizeof(float);
  return v;
}

std::vector<uint32_t> byte_reader::get_u32s(const char* field) {
  std::vector<uint32_t> v(count(sizeof(uint32_t), field));
  std::memcpy(v.data(), data_ + pos_, v.size() * sizeof(uint32_t));
  pos_ += v.size() * sizeof(uint32_t);
  return v;
}

std::vector<char> byte_reader::get_bytes(const char* field) {
  const size_t n = count(1, field);
  std::vector<char> v(data_ + pos_, data_ + pos_ + n);
  pos_ += n;
  return v;
}

std::string byte_reader::get_string(const char* field) {
  const size_t n = count(1, field);
  std::string s(data_ + pos_, n);
  pos_ += n;
  return s;
}

void byte_reader::finish() const {
  if (pos_ != size_) fail(std::to_string(size_ - pos_) + " trailing bytes");
}

}  // namespace fedactor
