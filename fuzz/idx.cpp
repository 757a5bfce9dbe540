// libFuzzer target: read_idx_gz, the Fashion-MNIST (IDX) reader. The first input byte picks
// the number of dimensions the caller expects (1 to 4) and whether the rest is the file
// itself (gzip data as found on disk) or the IDX bytes inside it (the target gzips them, so
// that the fuzzer explores the IDX header and not zlib's checks). The reader must return
// exactly product(dims) values or throw std::runtime_error naming the file.

#include <unistd.h>
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

#include "runtime/learning/idx.hpp"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz target: %s\n", what);
  std::abort();
}

// One scratch file per fuzzing process, removed when it exits.
const std::string& scratch_path() {
  static const std::string path = [] {
    std::atexit([] { std::remove(scratch_path().c_str()); });
    return "/tmp/fedactor-fuzz-idx-" + std::to_string(getpid()) + ".gz";
  }();
  return path;
}

void write_file(const std::string& path, const uint8_t* data, size_t size, bool compress) {
  if (compress) {
    gzFile f = gzopen(path.c_str(), "wb1");
    if (!f) fail("cannot write the scratch file");
    if (size > 0 && gzwrite(f, data, static_cast<unsigned>(size)) != static_cast<int>(size))
      fail("gzwrite failed");
    gzclose(f);
  } else {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!out) fail("cannot write the scratch file");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint32_t ndims = 1 + (data[0] & 3);
  const bool compress = (data[0] & 4) == 0;
  write_file(scratch_path(), data + 1, size - 1, compress);
  try {
    auto a = fedactor::read_idx_gz(scratch_path(), ndims);
    if (a.dims.size() != ndims) fail("wrong number of dimensions returned");
    uint64_t total = 1;
    for (auto d : a.dims) total *= d;
    if (a.data.size() != total) fail("the values are not product(dims)");
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    if (what.rfind(scratch_path() + ": ", 0) != 0) fail("an error that does not name the file");
  }
  return 0;
}
