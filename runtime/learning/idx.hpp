#pragma once

// Reading gzip-compressed IDX files (the MNIST / Fashion-MNIST format): a big-endian
// header (two zero bytes, a type code, the number of dimensions, then each dimension as
// a uint32) followed by the values. Only unsigned bytes (type 0x08) are supported.

#include <cstdint>
#include <string>
#include <vector>

namespace fedactor {

struct idx_array {
  std::vector<uint32_t> dims;  // e.g. {60000, 28, 28}
  std::vector<uint8_t> data;   // product(dims) values, row-major
};

// Reads an IDX file of unsigned bytes with `ndims` dimensions. Throws std::runtime_error
// with a one-line message naming the file and what was wrong: missing, not gzip data or a
// corrupt stream, wrong magic number, wrong number of dimensions, truncated data, or
// trailing bytes after the data.
idx_array read_idx_gz(const std::string& path, uint32_t ndims);

}  // namespace fedactor
