// Tests of runtime/learning/idx.*: IDX .gz files written by the test.

#include "runtime/learning/idx.hpp"

#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/idx_files.hpp"

using namespace fedactor;
using fedactor::test::idx_bytes;
using fedactor::test::temp_dir;
using fedactor::test::write_gz;

namespace {

std::string error_of(const std::string& path, uint32_t ndims) {
  try {
    read_idx_gz(path, ndims);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  FAIL("no exception");
  return "";
}

}  // namespace

TEST_CASE("IDX reader reads the dimensions and bytes of a gzip-compressed file", "[learning]") {
  temp_dir dir{"idx_ok"};
  write_gz(dir.file("a.gz"), idx_bytes({3, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255}));
  auto a = read_idx_gz(dir.file("a.gz"), 3);
  CHECK(a.dims == std::vector<uint32_t>{3, 2, 2});
  CHECK(a.data == std::vector<uint8_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255});
  write_gz(dir.file("l.gz"), idx_bytes({4}, {9, 0, 3, 3}));
  CHECK(read_idx_gz(dir.file("l.gz"), 1).data == std::vector<uint8_t>{9, 0, 3, 3});
}

TEST_CASE("IDX reader reports a truncated file with its name and the missing bytes", "[learning]") {
  temp_dir dir{"idx_truncated"};
  // Valid gzip, but the IDX data stops 4 values short.
  write_gz(dir.file("short.gz"), idx_bytes({2, 2, 2}, {1, 2, 3, 4}));
  CHECK(error_of(dir.file("short.gz"), 3) ==
        dir.file("short.gz") + ": truncated: the data needs 8 bytes, the file ends after 4");
  // A gzip stream cut in the middle.
  std::vector<uint8_t> values(5000);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<uint8_t>(i * 7919 % 251);
  write_gz(dir.file("full.gz"), idx_bytes({5000}, values));
  {
    std::ifstream in(dir.file("full.gz"), std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream out(dir.file("cut.gz"), std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  }
  const auto msg = error_of(dir.file("cut.gz"), 1);
  CHECK(msg.rfind(dir.file("cut.gz") + ": truncated: the data needs 5000 bytes", 0) == 0);
}

// Found by fuzz/idx.cpp (fuzz/corpus/idx/regression-16gib-header): the reader allocated (and
// zeroed) the 16 GiB the header announces before reading a value. It now reads the values in
// chunks as they come: this file holds 4 values and the test takes no time and no memory.
TEST_CASE("IDX reader does not allocate what a header announces beyond the file's data",
          "[learning]") {
  temp_dir dir{"idx_huge_header"};
  write_gz(dir.file("huge.gz"), idx_bytes({2, 2, 0xfffff904u}, {1, 2, 3, 4}));
  CHECK(error_of(dir.file("huge.gz"), 3) ==
        dir.file("huge.gz") +
            ": truncated: the data needs 17179862032 bytes, the file ends after 4");
}

TEST_CASE("IDX reader rejects a wrong magic number, naming the file", "[learning]") {
  temp_dir dir{"idx_magic"};
  write_gz(dir.file("float.gz"), idx_bytes({2}, {0, 0, 0, 0, 0, 0, 0, 0}, 0x0D));
  CHECK(error_of(dir.file("float.gz"), 1) ==
        dir.file("float.gz") +
            ": wrong magic number 0x00000d01, expected 0x00000801 (not an IDX file of unsigned "
            "bytes with 1 dimensions)");
  write_gz(dir.file("images.gz"), idx_bytes({1, 1, 1}, {0}));
  CHECK(error_of(dir.file("images.gz"), 1).find("wrong magic number 0x00000803") !=
        std::string::npos);
}

TEST_CASE("IDX reader reports a missing file, plain bytes and trailing data", "[learning]") {
  temp_dir dir{"idx_other"};
  CHECK(error_of(dir.file("none.gz"), 1) == dir.file("none.gz") + ": no such file");
  {
    std::ofstream out(dir.file("plain.gz"), std::ios::binary);
    auto b = idx_bytes({1}, {3});
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  }
  CHECK(error_of(dir.file("plain.gz"), 1) ==
        dir.file("plain.gz") + ": not gzip data (expected a .gz compressed IDX file)");
  write_gz(dir.file("long.gz"), idx_bytes({1}, {3, 4}));
  CHECK(error_of(dir.file("long.gz"), 1) ==
        dir.file("long.gz") + ": trailing bytes after 1 values");
}
