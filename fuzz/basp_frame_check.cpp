// libFuzzer target: basp_frame_check, which reads every byte a peer sends to a listening
// node in plain TCP before CAF does. The first input byte picks the payload bound and how
// the rest is cut into reads; the verdict (and the frames accepted) must not depend on how
// the stream is cut, and once the stream is refused every later read must say the same.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "runtime/host/basp_frame_check.hpp"

using fedactor::basp_frame_check;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz target: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  const uint64_t bound = (mode & 0x80) ? 64 : (uint64_t{1} << 24);
  const size_t step = 1 + (mode & 0x3f);  // bytes per read, 1..64
  const auto* p = reinterpret_cast<const char*>(data + 1);
  const size_t n = size - 1;

  basp_frame_check whole{bound};
  const auto verdict = whole.feed(p, n);

  basp_frame_check cut{bound};
  std::optional<std::string> first_wrong;
  for (size_t at = 0; at < n; at += step) {
    auto r = cut.feed(p + at, std::min(step, n - at));
    if (first_wrong && r != first_wrong) fail("a refused stream changed its verdict");
    if (r && !first_wrong) first_wrong = r;
  }
  if (n > 0 && first_wrong != verdict) fail("the verdict depends on how the stream is cut");
  if (n > 0 && cut.frames() != whole.frames())
    fail("the frames accepted depend on how the stream is cut");
  return 0;
}
