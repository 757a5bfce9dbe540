// Tests of runtime/checkpoint/checkpoint_file.*: the file reads back what was written; a missing,
// foreign, truncated or damaged file is refused with one line naming it; and a writer killed
// (SIGKILL) at any point leaves the old or the new checkpoint, never a torn one.

#include "runtime/checkpoint/checkpoint_file.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

using namespace fedactor;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  auto d = fs::temp_directory_path() /
           ("fedactor_ckpt_file_" + name + "_" + std::to_string(static_cast<long>(getpid())));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::vector<char> read_raw(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_raw(const fs::path& p, const std::vector<char>& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Body number i: 8 bytes of i, then `size` bytes all equal to i % 251.
std::vector<char> body_of(uint64_t i, size_t size) {
  std::vector<char> b(8 + size, static_cast<char>(i % 251));
  std::memcpy(b.data(), &i, 8);
  return b;
}

// The i of a body made by body_of, or 0 when it is not one (torn or mixed).
uint64_t number_of(const std::vector<char>& b, size_t size) {
  if (b.size() != 8 + size) return 0;
  uint64_t i;
  std::memcpy(&i, b.data(), 8);
  for (size_t k = 8; k < b.size(); ++k)
    if (b[k] != static_cast<char>(i % 251)) return 0;
  return i;
}

}  // namespace

TEST_CASE("checkpoint_file reads back the body written, with an 80-byte header", "[checkpoint]") {
  const auto dir = fresh_dir("roundtrip");
  const auto file = dir / "sub" / "state.ckpt";
  const std::vector<char> body{'h', 'e', 'l', 'l', 'o'};
  write_checkpoint_file(file, body);
  CHECK(fs::file_size(file) == 80 + 5);
  CHECK(!fs::exists(file.string() + ".tmp"));
  CHECK(read_checkpoint_file(file) == body);
  write_checkpoint_file(file, {});  // replaced
  CHECK(read_checkpoint_file(file).empty());
  fs::remove_all(dir);
}

TEST_CASE("checkpoint_file refuses a missing, foreign, truncated or damaged file in one line",
          "[checkpoint]") {
  const auto dir = fresh_dir("refuse");
  const auto file = dir / "state.ckpt";
  CHECK_THROWS_WITH(read_checkpoint_file(file),
                    file.string() + ": no checkpoint (the file does not exist)");
  write_raw(file, {'n', 'o', 'p', 'e'});
  CHECK_THROWS_WITH(read_checkpoint_file(file), file.string() + ": not a fedactor checkpoint");

  write_checkpoint_file(file, std::vector<char>(100, 'x'));
  const auto good = read_raw(file);
  auto cut = good;
  cut.resize(good.size() - 10);
  write_raw(file, cut);
  CHECK_THROWS_WITH(read_checkpoint_file(file),
                    file.string() + ": truncated checkpoint (90 of 100 body bytes)");
  auto flipped = good;
  flipped[80 + 50] = 'y';
  write_raw(file, flipped);
  CHECK_THROWS_WITH(read_checkpoint_file(file),
                    file.string() + ": damaged checkpoint (checksum mismatch)");
  auto longer = good;
  longer.push_back('z');
  write_raw(file, longer);
  CHECK_THROWS_WITH(read_checkpoint_file(file),
                    file.string() + ": damaged checkpoint (1 trailing bytes)");
  auto version = good;
  version[4] = 9;
  write_raw(file, version);
  CHECK_THROWS_WITH(read_checkpoint_file(file),
                    file.string() + ": unknown checkpoint format version 9");
  // Every failure is a checkpoint_error.
  CHECK_THROWS_AS(read_checkpoint_file(file), checkpoint_error);
  fs::remove_all(dir);
}

TEST_CASE("checkpoint_file ignores a torn temporary file a crash left beside it", "[checkpoint]") {
  const auto dir = fresh_dir("torn_tmp");
  const auto file = dir / "state.ckpt";
  write_checkpoint_file(file, body_of(1, 64));
  write_raw(file.string() + ".tmp", {'F', 'A', 'C', 'K', 1});  // a write cut short
  CHECK(number_of(read_checkpoint_file(file), 64) == 1);
  write_checkpoint_file(file, body_of(2, 64));  // the next write replaces the leftover
  CHECK(number_of(read_checkpoint_file(file), 64) == 2);
  fs::remove_all(dir);
}

TEST_CASE("checkpoint_file: a writer killed with SIGKILL leaves a whole checkpoint",
          "[checkpoint]") {
  // A child writes checkpoints 1, 2, 3, ... of 4 MiB each without pause; the parent kills it
  // once it has committed a few (so the kill lands among writes, usually inside one), then the
  // file must read back whole: one body, not a mix or a cut. Five times.
  const auto dir = fresh_dir("kill");
  const auto file = dir / "state.ckpt";
  constexpr size_t size = 4 << 20;
  for (int attempt = 0; attempt < 5; ++attempt) {
    fs::remove(file);
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      for (uint64_t i = 1;; ++i) write_checkpoint_file(file, body_of(i, size));
    }
    // Wait (bounded) until the child has committed checkpoint 3 or later.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    uint64_t seen = 0;
    while (seen < 3 && std::chrono::steady_clock::now() < deadline) {
      try {
        seen = number_of(read_checkpoint_file(file), size);
      } catch (const checkpoint_error&) {
        seen = 0;  // not written yet
      }
      if (seen < 3) std::this_thread::yield();
    }
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    REQUIRE(seen >= 3);
    const uint64_t after = number_of(read_checkpoint_file(file), size);
    CHECK(after >= seen);
  }
  fs::remove_all(dir);
}
