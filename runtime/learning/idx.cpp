// IDX (.gz) reading through zlib's gzread.

#include "runtime/learning/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>

namespace fedactor {

namespace {

constexpr uint8_t idx_ubyte = 0x08;

struct gz_closer {
  void operator()(gzFile f) const { gzclose(f); }
};
using gz_ptr = std::unique_ptr<gzFile_s, gz_closer>;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error(path + ": " + what);
}

// Reads exactly n bytes or fails saying what was being read. The n bytes may be the part of
// a larger field (`whole` bytes, `before` of them read already): errors count in the field.
void read_exact(gzFile f, const std::string& path, void* out, size_t n, const char* what,
                size_t before = 0, size_t whole = 0) {
  auto* p = static_cast<char*>(out);
  size_t got = 0;
  while (got < n) {
    const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - got, 1u << 30));
    const int r = gzread(f, p + got, chunk);
    if (r < 0) {
      int code = 0;
      const char* msg = gzerror(f, &code);
      fail(path, std::string("corrupt gzip data while reading the ") + what + " (" +
                     (code == Z_ERRNO ? std::strerror(errno) : msg) + ")");
    }
    if (r == 0) {
      int code = 0;
      const char* msg = gzerror(f, &code);
      fail(path, "truncated: the " + std::string(what) + " needs " +
                     std::to_string(whole ? whole : n) + " bytes, the file ends after " +
                     std::to_string(before + got) +
                     (code != Z_OK && msg && *msg ? std::string(" (") + msg + ")" : ""));
    }
    got += static_cast<size_t>(r);
  }
}

uint32_t big_endian(const uint8_t* b) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
}

}  // namespace

idx_array read_idx_gz(const std::string& path, uint32_t ndims) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail(path, "no such file");
  gz_ptr f{gzopen(path.c_str(), "rb")};
  if (!f) fail(path, std::string("cannot open: ") + std::strerror(errno));
  gzbuffer(f.get(), 1 << 18);
  if (gzdirect(f.get()) == 1) {
    // Not gzip: peek so that an uncompressed IDX file gets a clearer message.
    fail(path, "not gzip data (expected a .gz compressed IDX file)");
  }
  uint8_t magic[4];
  read_exact(f.get(), path, magic, 4, "header");
  const uint32_t expected = (uint32_t{idx_ubyte} << 8) | ndims;
  if (magic[0] != 0 || magic[1] != 0 || magic[2] != idx_ubyte || magic[3] != ndims) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "0x%08x, expected 0x%08x", big_endian(magic), expected);
    fail(path, std::string("wrong magic number ") + buf +
                   " (not an IDX file of unsigned bytes with " + std::to_string(ndims) +
                   " dimensions)");
  }
  idx_array out;
  uint64_t total = 1;
  for (uint32_t d = 0; d < ndims; ++d) {
    uint8_t b[4];
    read_exact(f.get(), path, b, 4, "header");
    out.dims.push_back(big_endian(b));
    total *= out.dims.back();
  }
  if (total > (uint64_t{1} << 34)) fail(path, "implausible dimensions in the header");
  // The header's sizes are the file's word: the values are read in chunks as they come, so a
  // header announcing 16 GiB in front of a few bytes allocates only what the file holds.
  constexpr uint64_t chunk = uint64_t{1} << 24;
  while (out.data.size() < total) {
    const size_t have = out.data.size();
    const auto n = static_cast<size_t>(std::min(chunk, total - have));
    out.data.resize(have + n);
    read_exact(f.get(), path, out.data.data() + have, n, "data", have, static_cast<size_t>(total));
  }
  char extra;
  const int r = gzread(f.get(), &extra, 1);
  if (r > 0) fail(path, "trailing bytes after " + std::to_string(total) + " values");
  if (r < 0) {
    int code = 0;
    fail(path, std::string("corrupt gzip data after the values (") + gzerror(f.get(), &code) + ")");
  }
  return out;
}

}  // namespace fedactor
