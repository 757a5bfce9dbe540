// Tests of runtime/host/basp_frame_check.*: well-formed BASP streams pass in any chunking;
// each malformed header is refused with its reason, and the refusal sticks.

#include "runtime/host/basp_frame_check.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

using namespace fedactor;

namespace {

void put(std::vector<char>& out, uint64_t v, size_t n) {
  for (size_t i = n; i-- > 0;) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// A header (network byte order) followed by `payload` bytes of 'x'.
std::vector<char> frame(uint8_t op, uint32_t payload, uint64_t op_data = 0, uint64_t source = 0,
                        uint64_t dest = 0) {
  std::vector<char> out;
  put(out, op, 1);
  put(out, 0, 3);  // padding, flags
  put(out, payload, 4);
  put(out, op_data, 8);
  put(out, source, 8);
  put(out, dest, 8);
  out.insert(out.end(), payload, 'x');
  return out;
}

std::vector<char> operator+(std::vector<char> a, const std::vector<char>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::optional<std::string> feed_all(basp_frame_check& c, const std::vector<char>& bytes,
                                    size_t chunk) {
  std::optional<std::string> r;
  for (size_t i = 0; i < bytes.size() && !r; i += chunk)
    r = c.feed(bytes.data() + i, std::min(chunk, bytes.size() - i));
  return r;
}

}  // namespace

TEST_CASE("basp_frame_check passes a well-formed stream however it is cut", "[host][net]") {
  const auto stream = frame(1, 20) + frame(6, 0) + frame(2, 100, 0, 7, 9) + frame(3, 5, 0, 0, 4) +
                      frame(4, 12) + frame(5, 8, 0, 3, 0) + frame(1, 3);
  for (size_t chunk : {size_t{1}, size_t{5}, size_t{31}, size_t{32}, size_t{33}, stream.size()}) {
    CAPTURE(chunk);
    basp_frame_check c{1000};
    CHECK_FALSE(feed_all(c, stream, chunk));
    CHECK(c.frames() == 7);
  }
  // A partial header or payload waits for more.
  basp_frame_check c{1000};
  const auto one = frame(1, 20);
  CHECK_FALSE(c.feed(one.data(), 40));
  CHECK(c.frames() == 1);
}

TEST_CASE("basp_frame_check refuses the frames that crash or exhaust libcaf_io 0.17.6",
          "[host][net]") {
  struct bad {
    std::vector<char> bytes;
    std::string why;
  };
  std::vector<char> crash(8, 0);  // the reported crash: 8 zero bytes, 7f ff ff ff, then more
  for (int b : {0x7f, 0xff, 0xff, 0xff}) crash.push_back(static_cast<char>(b));
  crash.insert(crash.end(), 64, 'r');
  const std::vector<bad> cases = {
      {crash, "frame 1: a malformed server handshake header"},
      {frame(0, 0, 5), "frame 1: a malformed server handshake header"},
      {frame(1, 0), "frame 1: a malformed client handshake header"},
      {frame(1, 0x80000000u),
       "frame 1: a client handshake announcing 2147483648 payload bytes "
       "(at most 1000)"},
      {frame(9, 0), "frame 1: unknown BASP frame type 9"},
      {frame(2, 10, 0, 1, 2), "frame 1: a direct message before any handshake"},
      {frame(6, 0), "frame 1: a heartbeat before any handshake"},
      {frame(1, 4) + frame(6, 4), "frame 2: a malformed heartbeat header"},
      {frame(1, 4) + frame(2, 10, 0, 1, 0), "frame 2: a malformed direct message header"},
      {frame(1, 4) + frame(2, 0, 0, 1, 2), "frame 2: a malformed direct message header"},
      {frame(1, 4) + frame(4, 4, 1), "frame 2: a malformed monitor message header"},
      {frame(1, 4) + frame(5, 4, 0, 0, 0), "frame 2: a malformed down message header"},
      {frame(1, 4) + frame(1, 4, 0, 3, 0), "frame 2: a malformed client handshake header"},
      {frame(1, 4) + frame(255, 0), "frame 2: unknown BASP frame type 255"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.why);
    basp_frame_check check{1000};
    auto r = feed_all(check, c.bytes, 7);
    REQUIRE(r);
    CHECK(*r == c.why);
    // It sticks: nothing more is accepted.
    const auto more = frame(6, 0);
    CHECK(check.feed(more.data(), more.size()) == r);
  }
  // The payload bound is inclusive.
  basp_frame_check edge_case{1000};
  CHECK_FALSE(feed_all(edge_case, frame(1, 1000), 64));
}

TEST_CASE("basp_frame_check says what a stream cut inside a frame is missing", "[host][net]") {
  basp_frame_check c{1000};
  CHECK_FALSE(c.incomplete());  // nothing yet: a frame boundary
  const auto hs = frame(1, 20);
  CHECK_FALSE(c.feed(hs.data(), 10));
  CHECK(c.incomplete() == std::string{"frame 1: a header cut short after 10 of 32 bytes"});
  CHECK_FALSE(c.feed(hs.data() + 10, 22 + 5));
  CHECK(c.incomplete() ==
        std::string{"frame 1: a client handshake cut short after 5 of 20 payload bytes"});
  CHECK_FALSE(c.feed(hs.data() + 37, 15));
  CHECK_FALSE(c.incomplete());  // the frame is whole
  const auto msg = frame(2, 100, 0, 7, 9);
  CHECK_FALSE(c.feed(msg.data(), 32 + 99));
  CHECK(c.incomplete() ==
        std::string{"frame 2: a direct message cut short after 99 of 100 payload bytes"});
  CHECK_FALSE(c.feed(msg.data() + 131, 1));
  CHECK_FALSE(c.incomplete());
  // After a refusal the stream is not incomplete but wrong (feed says so).
  const auto bad = frame(9, 0);
  CHECK(c.feed(bad.data(), 20) == std::nullopt);
  CHECK(c.incomplete() == std::string{"frame 3: a header cut short after 20 of 32 bytes"});
  CHECK(c.feed(bad.data() + 20, 12));
  CHECK_FALSE(c.incomplete());
}

TEST_CASE("basp_frame_check splits actor-message bytes by message kind however it is cut",
          "[host][bytes]") {
  // A direct message naming fedactor::edge_res (100 payload bytes), a heartbeat, and a routed
  // message whose payload is 5 'x' (not a readable head: other).
  auto direct = frame(2, 100, 0, 7, 9);
  const std::string name = "@<>+fedactor::edge_res";
  std::vector<char> head{0, 0, 0, static_cast<char>(name.size())};
  head.insert(head.end(), name.begin(), name.end());
  std::copy(head.begin(), head.end(), direct.begin() + 32);
  const auto stream = frame(1, 20) + direct + frame(6, 0) + frame(3, 5, 0, 0, 4);
  for (size_t chunk : {size_t{1}, size_t{7}, size_t{33}, stream.size()}) {
    CAPTURE(chunk);
    basp_frame_check c{1000};
    CHECK_FALSE(feed_all(c, stream, chunk));
    // task, model, result, aggregate, control, other
    CHECK(c.bytes_by_message() == std::array<uint64_t, 6>{0, 0, 0, 132, 0, 37});
    CHECK(c.bytes_by_op()[2] + c.bytes_by_op()[3] == 132 + 37);
  }
  // Until the head is read, the frame's bytes are in no kind.
  basp_frame_check c{1000};
  CHECK_FALSE(c.feed(stream.data(), 52 + 32 + 10));
  CHECK(c.bytes_by_message() == std::array<uint64_t, 6>{});
  CHECK_FALSE(c.feed(stream.data() + 94, 20));
  CHECK(c.bytes_by_message()[3] == 32 + 30);
}
