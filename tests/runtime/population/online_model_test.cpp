// Tests of runtime/population/online_model.*: the diurnal curve, its draws per slot, the trace
// format and its one-line errors, and when a client goes offline during a task.

#include "runtime/population/online_model.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include <catch2/catch.hpp>

using namespace fedactor;

namespace {

// `n` clients, client c in region c % regions.
client_registry population(uint64_t n, uint32_t regions) {
  return client_registry(
      n, 3, regions, [](client_id) { return 10u; },
      [regions](client_id id) {
        return client_meta{1.0f, static_cast<uint16_t>(id % regions)};
      });
}

availability_config diurnal(double base, double amplitude, double period, double slot,
                            std::vector<double> peaks = {}) {
  availability_config a;
  a.model = availability_model::diurnal;
  a.base = base;
  a.amplitude = amplitude;
  a.period_s = period;
  a.slot_s = slot;
  a.peak_s = std::move(peaks);
  return a;
}

// The one-line error parse_online_trace gives for `text`, or "" when it parses.
std::string trace_error(const std::string& text, uint64_t clients = 4) {
  try {
    parse_online_trace(text, "t.txt", clients);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("online_model always: every client online at every time", "[population][availability]") {
  auto reg = population(5, 1);
  online_model m(availability_config{}, reg, 1);
  CHECK(m.always());
  for (client_id id = 0; id < 5; ++id) {
    CHECK(m.online(id, 0));
    CHECK(m.online(id, 1e9));
    CHECK_FALSE(m.offline_at(id, 0, 1e9));
  }
  CHECK(m.online_fraction(123) == 1.0);
  CHECK(m.bytes() == 0);
}

TEST_CASE("online_model diurnal probability follows base + amplitude cos, clamped to 0 and 1",
          "[population][availability]") {
  auto reg = population(4, 2);
  // Region 0 peaks at 0, region 1 at 43200 (half a day later).
  online_model m(diurnal(0.5, 0.3, 86400, 3600, {0, 43200}), reg, 1);
  CHECK(m.probability(0, 0) == Approx(0.8));      // 0.5 + 0.3 cos 0
  CHECK(m.probability(0, 21600) == Approx(0.5));  // cos(pi / 2) = 0
  CHECK(m.probability(0, 43200) == Approx(0.2));  // cos pi = -1
  CHECK(m.probability(1, 0) == Approx(0.2));      // half a period from its peak
  CHECK(m.probability(1, 43200) == Approx(0.8));
  CHECK(m.probability(0, 86400) == Approx(0.8));  // one period later
  online_model high(diurnal(0.9, 0.3, 86400, 3600), reg, 1);
  CHECK(high.probability(0, 0) == 1.0);  // 1.2 clamped
  CHECK(high.probability(0, 43200) == Approx(0.6));
  online_model low(diurnal(0.1, 0.3, 86400, 3600), reg, 1);
  CHECK(low.probability(0, 43200) == 0.0);  // -0.2 clamped
}

TEST_CASE("online_model diurnal online fraction matches the curve within 4 binomial sd",
          "[population][availability]") {
  // 20000 clients in one region, 24 one-hour slots of a day: in slot s the count online is
  // binomial(20000, p(s · 3600)). Summed over the slots, its sd is sqrt(Σ 20000 p (1 - p));
  // the draws are a fixed function of the seed, so this is exact and repeatable.
  const uint64_t n = 20000;
  auto reg = population(n, 1);
  online_model m(diurnal(0.5, 0.3, 86400, 3600), reg, 11);
  double expected = 0, variance = 0;
  uint64_t online = 0;
  for (int s = 0; s < 24; ++s) {
    const double t = s * 3600.0 + 1800.0;  // within the slot: drawn at its start
    const double p = m.probability(0, s * 3600.0);
    expected += p * n;
    variance += n * p * (1 - p);
    CHECK(m.online_fraction(t) == Approx(p));
    uint64_t in_slot = 0;
    for (client_id id = 0; id < n; ++id) in_slot += m.online(id, t) ? 1 : 0;
    // Each slot on its own: within 4 sd of n p.
    CHECK(std::abs(static_cast<double>(in_slot) - p * n) <= 4 * std::sqrt(n * p * (1 - p)));
    online += in_slot;
  }
  CHECK(std::abs(static_cast<double>(online) - expected) <= 4 * std::sqrt(variance));
  // The same seed gives the same draws; another seed other ones.
  online_model again(diurnal(0.5, 0.3, 86400, 3600), reg, 11);
  online_model other(diurnal(0.5, 0.3, 86400, 3600), reg, 12);
  uint64_t same = 0, differ = 0;
  for (client_id id = 0; id < 1000; ++id) {
    same += m.online(id, 5000) == again.online(id, 5000) ? 1 : 0;
    differ += m.online(id, 5000) != other.online(id, 5000) ? 1 : 0;
  }
  CHECK(same == 1000);
  CHECK(differ > 0);
}

TEST_CASE("online_model diurnal offline_at finds the first offline slot of a task",
          "[population][availability]") {
  // Period of two 1-second slots, base 0.5, amplitude 1: region 0 has p = 1 in even slots and
  // p = 0 in odd ones (0.5 ± 1 clamped); region 1 peaks one slot later: the other way round.
  auto reg = population(4, 2);
  online_model m(diurnal(0.5, 1.0, 2, 1, {0, 1}), reg, 5);
  CHECK(m.online(0, 0.5));
  CHECK_FALSE(m.online(0, 1.5));
  CHECK_FALSE(m.online(1, 0.5));
  CHECK(m.online(1, 1.5));
  CHECK_FALSE(m.offline_at(0, 0.25, 0.9));   // within an online slot
  CHECK(*m.offline_at(0, 0.5, 1.5) == 1.0);  // offline from slot 1
  CHECK(*m.offline_at(0, 1.2, 3.0) == 1.2);  // offline already
  CHECK(*m.offline_at(1, 1.0, 4.0) == 2.0);
  CHECK(m.online_fraction(0.5) == 0.5);  // (2 · 1 + 2 · 0) / 4
  CHECK(m.online_fraction(1.5) == 0.5);
}

TEST_CASE("online_model trace: online inside the intervals only, exact online fraction",
          "[population][availability]") {
  auto reg = population(4, 1);
  const std::string text =
      "# client_id start_s end_s\n"
      "0 0 100\n"
      "0 100 150   # adjoins the previous one: merged\n"
      "0 300 400\n"
      "\n"
      "2,50,60\n";
  online_model m(parse_online_trace(text, "t.txt", 4), reg);
  CHECK(m.online(0, 0));
  CHECK(m.online(0, 120));
  CHECK_FALSE(m.online(0, 150));  // half-open
  CHECK(m.online(0, 300));
  CHECK_FALSE(m.online(1, 50));  // not in the trace: never online
  CHECK(m.online(2, 55));
  CHECK_FALSE(m.online(2, 60));
  CHECK(*m.offline_at(0, 10, 200) == 150);  // the merged interval ends at 150
  CHECK_FALSE(m.offline_at(0, 10, 150));
  CHECK(*m.offline_at(0, 200, 310) == 200);
  CHECK(*m.offline_at(3, 0, 1) == 0);
  CHECK(m.online_fraction(55) == 0.5);  // clients 0 and 2 of 4
  CHECK(m.online_fraction(200) == 0.0);
  CHECK(m.online_fraction(350) == 0.25);
}

TEST_CASE("online trace parsing errors are one line naming the file and line",
          "[population][availability]") {
  CHECK(trace_error("0 0 10\n1 5 20\n") == "");
  CHECK(trace_error("0 0 10\nx 1 2\n") ==
        "t.txt:2: client_id must be an unsigned integer, got 'x'");
  CHECK(trace_error("# c s e\n4 0 1\n") ==
        "t.txt:2: client_id 4 is not below population.clients (4)");
  CHECK(trace_error("0 0\n") == "t.txt:1: missing end_s");
  CHECK(trace_error("0 a 1\n") ==
        "t.txt:1: start_s must be a finite number of seconds >= 0, got 'a'");
  CHECK(trace_error("0 -1 1\n") ==
        "t.txt:1: start_s must be a finite number of seconds >= 0, got '-1'");
  CHECK(trace_error("0 0 inf\n") ==
        "t.txt:1: end_s must be a finite number of seconds >= 0, got 'inf'");
  CHECK(trace_error("0 0 1 2\n") ==
        "t.txt:1: expected 3 fields (client_id start_s end_s), got more: '2'");
  CHECK(trace_error("0 5 5\n") == "t.txt:1: start_s must be < end_s, got start_s 5 and end_s 5");
  CHECK(trace_error("1 0 1\n0 0 1\n") ==
        "t.txt:2: client_id 0 after client_id 1: lines must be sorted by client_id");
  CHECK(trace_error("1 0 10\n\n1 5 20\n") ==
        "t.txt:3: interval starts at 5 before the previous interval of client 1 ends (10): a "
        "client's intervals must be ascending and disjoint");
  CHECK(trace_error("0 0 1\r\n1 0 2\r\n") == "");  // CRLF line ends
  for (const auto& text : {"x 1 2\n", "0 5 5\n", "1 0 1\n0 0 1\n"})
    CHECK(trace_error(text).find('\n') == std::string::npos);
  try {
    load_online_trace("/nonexistent/trace.txt", 4);
    FAIL("no error");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()) == "/nonexistent/trace.txt: cannot read");
  }
}

TEST_CASE("online trace storage is compact: 4 bytes per client and 32 per interval",
          "[population][availability]") {
  auto reg = population(1000, 1);
  std::string text;
  for (int c = 0; c < 1000; c += 2) text += std::to_string(c) + " 0 10\n";
  online_model m(parse_online_trace(text, "t.txt", 1000), reg);
  // offsets (1001 × 4) + 500 intervals × 16 + 2 × 500 sorted times × 8.
  CHECK(m.bytes() <= 1001 * 4 + 500 * 16 + 1000 * 8);
  CHECK(m.online_fraction(5) == 0.5);
}
