#pragma once

// The byte format of a server optimizer's saved state, with a writer and a checking reader that
// optimizers (built-in or your own) use in save_state() / load_state(). Every value is
// little-endian whatever the machine, so a checkpoint moves between hosts:
//
//   offset  size  field
//   0       4     magic "FASO" (fedactor server optimizer)
//   4       4     u32 format version (1)
//   8       4     u32 length L of the kind name
//   12      L     kind name (ASCII, no terminator)
//   12+L    8     u64 dim (model values)
//   20+L    ...   the kind's payload (u64 and f64 values, IEEE-754 binary64 bit patterns)
//
// The reader throws std::invalid_argument with a one-line message starting "server optimizer
// state: " and naming what is wrong: too short, bad magic, unknown format version, another
// kind, another dim, truncated (naming the field that did not fit), trailing bytes.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fedactor {

class state_writer {
 public:
  static constexpr uint32_t format_version = 1;

  // Writes the header for `kind` and `dim`.
  state_writer(const std::string& kind, uint64_t dim);

  void put_u64(uint64_t v);
  void put_f64(double v);
  void put_f64s(const double* v, size_t n);

  // The bytes written so far; the writer is empty afterwards.
  std::vector<char> take();

 private:
  std::vector<char> out_;
};

class state_reader {
 public:
  // Checks the header: magic, format version, kind name == kind, dim == dim. Throws
  // std::invalid_argument otherwise. `data` must stay alive while the reader is used.
  state_reader(const char* data, size_t size, const std::string& kind, uint64_t dim);

  // Each reads the next value(s); throws std::invalid_argument ("... truncated: no room for
  // <what> ...") when the bytes end first. O(1) / O(n).
  uint64_t get_u64(const char* what);
  double get_f64(const char* what);
  void get_f64s(double* out, size_t n, const char* what);

  // Throws std::invalid_argument when bytes are left over.
  void finish() const;

  size_t remaining() const { return size_ - pos_; }

 private:
  void need(size_t bytes, const char* what) const;

  const char* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace fedactor
