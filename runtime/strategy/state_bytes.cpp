#include "runtime/strategy/state_bytes.hpp"

#include <cstring>
#include <stdexcept>

namespace fedactor {

namespace {

constexpr char magic[4] = {'F', 'A', 'S', 'O'};
// A kind name longer than this is not a kind name (guards the header parse).
constexpr uint32_t max_kind_length = 256;

[[noreturn]] void fail(const std::string& what) {
  throw std::invalid_argument("server optimizer state: " + what);
}

void put_bytes(std::vector<char>& out, const char* p, size_t n) {
  const size_t at = out.size();
  out.resize(at + n);
  if (n > 0) std::memcpy(out.data() + at, p, n);
}

void put_le(std::vector<char>& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_le(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

uint64_t bits_of(double d) {
  uint64_t u = 0;
  std::memcpy(&u, &d, sizeof u);
  return u;
}

double double_of(uint64_t u) {
  double d = 0;
  std::memcpy(&d, &u, sizeof d);
  return d;
}

}  // namespace

state_writer::state_writer(const std::string& kind, uint64_t dim) {
  out_.reserve(20 + kind.size());
  put_bytes(out_, magic, 4);
  put_le(out_, format_version, 4);
  put_le(out_, kind.size(), 4);
  put_bytes(out_, kind.data(), kind.size());
  put_le(out_, dim, 8);
}

void state_writer::put_u64(uint64_t v) {
  put_le(out_, v, 8);
}

void state_writer::put_f64(double v) {
  put_le(out_, bits_of(v), 8);
}

void state_writer::put_f64s(const double* v, size_t n) {
  out_.reserve(out_.size() + 8 * n);
  for (size_t i = 0; i < n; ++i) put_le(out_, bits_of(v[i]), 8);
}

std::vector<char> state_writer::take() {
  std::vector<char> out;
  out.swap(out_);
  return out;
}

state_reader::state_reader(const char* data, size_t size, const std::string& kind, uint64_t dim)
    : data_(data), size_(size) {
  if (size < 12 || data == nullptr)
    fail("too short for a header (" + std::to_string(size) + " bytes, need at least 12)");
  if (std::memcmp(data, magic, 4) != 0) fail("bad magic (not a server optimizer state)");
  const auto version = static_cast<uint32_t>(get_le(data + 4, 4));
  if (version != state_writer::format_version)
    fail("format version " + std::to_string(version) + ", this build reads version " +
         std::to_string(state_writer::format_version));
  const auto length = static_cast<uint32_t>(get_le(data + 8, 4));
  if (length > max_kind_length)
    fail("kind name length " + std::to_string(length) + " is not plausible (corrupt header)");
  pos_ = 12;
  need(length, "the kind name");
  const std::string saved(data + pos_, length);
  pos_ += length;
  if (saved != kind) fail("saved by kind '" + saved + "', this optimizer is '" + kind + "'");
  const uint64_t saved_dim = get_u64("the dim");
  if (saved_dim != dim)
    fail("saved for dim " + std::to_string(saved_dim) + ", this optimizer has dim " +
         std::to_string(dim));
}

void state_reader::need(size_t bytes, const char* what) const {
  if (bytes > size_ - pos_)
    fail(std::string("truncated: no room for ") + what + " (" + std::to_string(bytes) +
         " bytes at offset " + std::to_string(pos_) + ", " + std::to_string(size_ - pos_) +
         " bytes left)");
}

uint64_t state_reader::get_u64(const char* what) {
  need(8, what);
  const uint64_t v = get_le(data_ + pos_, 8);
  pos_ += 8;
  return v;
}

double state_reader::get_f64(const char* what) {
  return double_of(get_u64(what));
}

void state_reader::get_f64s(double* out, size_t n, const char* what) {
  if (n > (size_ - pos_) / 8)  // n * 8 bytes would not fit (and might overflow size_t)
    fail(std::string("truncated: no room for ") + what + " (" + std::to_string(n) +
         " values of 8 bytes at offset " + std::to_string(pos_) + ", " +
         std::to_string(size_ - pos_) + " bytes left)");
  for (size_t i = 0; i < n; ++i) out[i] = double_of(get_le(data_ + pos_ + 8 * i, 8));
  pos_ += 8 * n;
}

void state_reader::finish() const {
  if (pos_ != size_) fail(std::to_string(size_ - pos_) + " trailing bytes after the state");
}

}  // namespace fedactor
