// Tests of runtime/protocol/sync_round.*: one sync round's batches, the checks every edge
// answer passes, and what edge losses do to the batches.

#include "runtime/protocol/sync_round.hpp"

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/protocol_helpers.hpp"

using namespace fedactor;
using fedactor::testing::aggregate_of;
using fedactor::testing::term;

namespace {

// 12 clients over 3 edges, range routing: edge 0 serves 0..3, edge 1 4..7, edge 2 8..11.
edge_set twelve_over_three(edge_loss_policy policy = edge_loss_policy::reroute) {
  return edge_set(std::make_unique<router>(routing_kind::range, 12, 3, 0), policy);
}

std::vector<uint32_t> clients_of(const std::vector<edge_batch>& bs) {
  std::vector<uint32_t> out;
  for (const auto& b : bs) out.insert(out.end(), b.clients.begin(), b.clients.end());
  return out;
}

// An answer for round `round` whose aggregate holds `terms` (dim 2), with `failed` failures.
edge_report report(uint32_t round, const std::vector<term>& terms, failure_counts failed = {}) {
  edge_report r;
  r.round = round;
  r.aggregate = aggregate_of(2, terms);
  r.failed = failed;
  return r;
}

failure_counts one(failure_code c, uint32_t n = 1) {
  failure_counts f;
  f.add(c, n);
  return f;
}

}  // namespace

TEST_CASE("sync_round sends one batch per edge with its clients in ascending order", "[protocol]") {
  auto edges = twelve_over_three();
  sync_round r(3, 2, edges);
  CHECK(r.number() == 3);
  CHECK(r.record().round == 3);
  auto send = r.assign({0, 1, 5, 9, 10});
  REQUIRE(send.size() == 3);
  CHECK(send[0].edge == 0);
  CHECK(send[0].clients == std::vector<uint32_t>{0, 1});
  CHECK(send[1].edge == 1);
  CHECK(send[1].clients == std::vector<uint32_t>{5});
  CHECK(send[2].edge == 2);
  CHECK(send[2].clients == std::vector<uint32_t>{9, 10});
  CHECK(send[0].id != send[1].id);
  CHECK(send[1].id != send[2].id);
  for (const auto& b : send) CHECK(r.outstanding(b.id));
  CHECK_FALSE(r.complete());
  CHECK(r.record().rerouted == 0);
}

TEST_CASE("sync_round merges answered aggregates exactly and counts reported failures",
          "[protocol]") {
  auto edges = twelve_over_three();
  sync_round r(1, 2, edges);
  auto send = r.assign({0, 1, 5, 6, 9, 10});
  REQUIRE(send.size() == 3);
  // Edge 0: client 0 Δ (1, -2) n 10 loss 0.5, client 1 Δ (3, 2) n 30 loss 1.5.
  auto a = report(1, {{{1, -2}, 10, 0.5}, {{3, 2}, 30, 1.5}});
  a.live_clients = 2;
  a.peak_live_clients = 3;
  a.evictions = 1;
  CHECK(r.answered(send[0].id, a).empty());
  // Edge 1: client 5 Δ (2.5, 1) n 40 loss 1, client 6 failed (client_error).
  auto b = report(1, {{{2.5, 1}, 40, 1.0}}, one(failure_code::client_error));
  b.details = {"client 6: no data"};
  b.live_clients = 1;
  b.peak_live_clients = 1;
  CHECK(r.answered(send[1].id, b).empty());
  CHECK_FALSE(r.complete());
  // Edge 2 timed out as a whole: both its clients count as timeout.
  CHECK(r.failed(send[2].id, failure_code::timeout, "no answer in 150 s").empty());
  CHECK(r.complete());
  // Σn = 80; mean Δ = ((10·1 + 30·3 + 40·2.5) / 80, (10·-2 + 30·2 + 40·1) / 80) = (2.5, 1);
  // mean loss = (10·0.5 + 30·1.5 + 40·1) / 80 = 1.125.
  const auto& acc = r.aggregate();
  CHECK(acc.count() == 3);
  CHECK(acc.weight() == 80.0);
  CHECK(acc.mean() == std::vector<float>{2.5f, 1.0f});
  CHECK(acc.scalar_mean() == 1.125);
  auto& rec = r.record();
  CHECK(rec.failures_by.of(failure_code::client_error) == 1);
  CHECK(rec.failures_by.of(failure_code::timeout) == 2);
  CHECK(rec.failures_by.total() == 3);
  CHECK(rec.failure_reasons ==
        std::vector<std::string>{"client 6: no data", "edge 2: no answer in 150 s"});
  CHECK(rec.live_clients == 3);
  CHECK(rec.peak_live_clients == 4);
  CHECK(rec.evictions == 1);
}

TEST_CASE("sync_round keeps one batch in flight per edge: a rerouted batch waits behind it",
          "[protocol]") {
  auto edges = twelve_over_three();
  sync_round r(1, 2, edges);
  auto send = r.assign({0, 4, 5});
  REQUIRE(send.size() == 2);  // edge 0 {0}, edge 1 {4, 5}
  const auto first = send[0].id;
  REQUIRE(edges.lose(1));
  // Survivors {0, 2}: client 4 -> [4 % 2] = edge 0 (busy: queued), 5 -> [1] = edge 2 (free).
  auto moved = r.edge_lost(1);
  REQUIRE(moved.size() == 1);
  CHECK(moved[0].edge == 2);
  CHECK(moved[0].clients == std::vector<uint32_t>{5});
  CHECK(r.record().rerouted == 2);
  CHECK(r.record().edges_lost == 1);
  CHECK_FALSE(r.outstanding(send[1].id));
  // Edge 0 answers its first batch: the queued one goes out now.
  auto next = r.answered(first, report(1, {{{1, 1}, 1, 0}}));
  REQUIRE(next.size() == 1);
  CHECK(next[0].edge == 0);
  CHECK(next[0].clients == std::vector<uint32_t>{4});
  CHECK(r.answered(moved[0].id, report(1, {{{1, 1}, 1, 0}})).empty());
  CHECK_FALSE(r.complete());
  CHECK(r.answered(next[0].id, report(1, {{{1, 1}, 1, 0}})).empty());
  CHECK(r.complete());
  CHECK(r.aggregate().count() == 3);
}

TEST_CASE("sync_round refuses an answer that does not fit its batch, whole, as invalid_update",
          "[protocol]") {
  auto edges = twelve_over_three();
  sync_round r(2, 2, edges);
  auto send = r.assign({0, 1});
  REQUIRE(send.size() == 1);
  const auto id = send[0].id;
  // A fitting answer would hold 2 updates, or 1 update and 1 failure.
  edge_report bad;
  std::string why;
  answer_refusal reason{};
  SECTION("wrong round") {
    bad = report(1, {{{1, 1}, 1, 0}, {{1, 1}, 1, 0}});
    why = "edge 0: answered round 1 for round 2";
    reason = answer_refusal::wrong_round;
  }
  SECTION("wrong dimension") {
    bad.round = 2;
    bad.aggregate = testing::aggregate_of(3, {{{1, 1, 1}, 1, 0}, {{1, 1, 1}, 1, 0}});
    why = "edge 0: aggregate of 3 values, the model has 2";
    reason = answer_refusal::wrong_dimension;
  }
  SECTION("more updates than clients") {
    bad = report(2, {{{1, 1}, 1, 0}, {{1, 1}, 1, 0}, {{1, 1}, 1, 0}});
    why = "edge 0: accounts for 3 of 2 clients";
    reason = answer_refusal::wrong_count;
  }
  SECTION("updates and failures that do not add up to the batch") {
    bad = report(2, {{{1, 1}, 1, 0}}, one(failure_code::timeout, 2));
    why = "edge 0: accounts for 3 of 2 clients";
    reason = answer_refusal::wrong_count;
  }
  SECTION("malformed aggregate bytes") {
    bad.round = 2;
    bad.aggregate = {'n', 'o', 'p', 'e'};
    why = "edge 0: malformed aggregate";
    reason = answer_refusal::malformed_aggregate;
  }
  bad.details = {"client 0: fine"};
  bad.live_clients = 5;
  bad.peak_live_clients = 6;
  bad.evictions = 7;
  const auto before = answer_refusal_counts();
  CHECK(r.answered(id, bad).empty());
  // Counted by its reason, and reported once as a line for the log.
  auto after = answer_refusal_counts();
  after[static_cast<size_t>(reason)] -= 1;
  CHECK(after == before);
  CHECK(r.take_refusals() == std::vector<std::string>{"edge 0, round 2: " + why.substr(8) + " (" +
                                                      to_string(reason) + ")"});
  CHECK(r.take_refusals().empty());
  CHECK(r.complete());
  CHECK(r.aggregate().count() == 0);
  auto& rec = r.record();
  CHECK(rec.failures_by.of(failure_code::invalid_update) == 2);
  CHECK(rec.failures_by.total() == 2);
  CHECK(rec.failure_reasons == std::vector<std::string>{why});
  // Refused whole: nothing the answer says is taken, its live-set figures included.
  CHECK(rec.live_clients == 0);
  CHECK(rec.peak_live_clients == 0);
  CHECK(rec.evictions == 0);
}

namespace {

// An aggregate's wire form with one update (dim 2: sums x, 0; weight and scalar 1 unit), as an
// edge may send any sums.
std::vector<char> raw_aggregate(__int128 x) {
  std::vector<char> out(80);
  const uint64_t dim = 2, count = 1;
  const __int128 weight = 1, scalar = 1, zero = 0;
  std::memcpy(out.data(), &dim, 8);
  std::memcpy(out.data() + 8, &count, 8);
  std::memcpy(out.data() + 16, &weight, 16);
  std::memcpy(out.data() + 32, &scalar, 16);
  std::memcpy(out.data() + 48, &x, 16);
  std::memcpy(out.data() + 64, &zero, 16);
  return out;
}

}  // namespace

// Found by fuzz/accumulator.cpp: two edge aggregates whose sums add past 2^127 were merged
// with a signed overflow. The second is refused whole instead.
TEST_CASE("sync_round refuses an aggregate whose sums would overflow the round's", "[protocol]") {
  auto edges = twelve_over_three();
  sync_round r(2, 2, edges);
  auto send = r.assign({0, 4});
  REQUIRE(send.size() == 2);
  const __int128 max = ~(static_cast<unsigned __int128>(1) << 127);
  edge_report first;
  first.round = 2;
  first.aggregate = raw_aggregate(max - 5);
  CHECK(r.answered(send[0].id, first).empty());
  edge_report second = first;
  second.aggregate = raw_aggregate(10);
  CHECK(r.answered(send[1].id, second).empty());
  CHECK(r.complete());
  CHECK(r.aggregate().count() == 1);
  CHECK(r.aggregate().serialize() == raw_aggregate(max - 5));
  auto& rec = r.record();
  CHECK(rec.failures_by.of(failure_code::invalid_update) == 1);
  CHECK(rec.failures_by.total() == 1);
  CHECK(rec.failure_reasons ==
        std::vector<std::string>{"edge 1: aggregate whose sums overflow the round's"});
}

TEST_CASE("sync_round refuses failure counts that only add up modulo 2^32 or name stale",
          "[protocol]") {
  auto edges = twelve_over_three();
  sync_round r(1, 2, edges);
  auto send = r.assign({0, 1, 4, 5});
  REQUIRE(send.size() == 2);
  // Batch {0, 1}: no update, timeout 2^32 − 1 and edge_lost 3: 2^32 + 2 ≡ 2 (mod 2^32).
  failure_counts wrapping;
  wrapping.add(failure_code::timeout, UINT32_MAX);
  wrapping.add(failure_code::edge_lost, 3);
  REQUIRE(wrapping.total() == 2);  // what a 32-bit sum makes of it
  CHECK(r.answered(send[0].id, report(1, {}, wrapping)).empty());
  // Batch {4, 5}: 1 update, 1 timeout, and 9 "stale" (not a sync failure, outside total()).
  auto with_stale = one(failure_code::timeout);
  with_stale.add(failure_code::stale, 9);
  CHECK(r.answered(send[1].id, report(1, {{{1, 1}, 1, 0}}, with_stale)).empty());
  CHECK(r.complete());
  auto& rec = r.record();
  CHECK(r.aggregate().count() == 0);
  CHECK(rec.failures_by.of(failure_code::invalid_update) == 4);
  CHECK(rec.failures_by.of(failure_code::timeout) == 0);
  CHECK(rec.failures_by.of(failure_code::edge_lost) == 0);
  CHECK(rec.failures_by.of(failure_code::stale) == 0);
  CHECK(rec.failure_reasons ==
        std::vector<std::string>{"edge 0: accounts for 4294967298 of 2 clients",
                                 "edge 1: accounts for 11 of 2 clients"});
}

TEST_CASE("sync_round refused() fails an unreadable answer's batch as invalid_update, counted",
          "[protocol]") {
  auto edges = twelve_over_three();
  sync_round r(3, 2, edges);
  auto send = r.assign({4, 5});
  REQUIRE(send.size() == 1);
  const auto before = answer_refusals_total();
  CHECK(r.refused(send[0].id, answer_refusal::failure_codes, "failure counts of 9 codes").empty());
  CHECK(r.complete());
  CHECK(answer_refusals_total() == before + 1);
  CHECK(r.record().failures_by.of(failure_code::invalid_update) == 2);
  CHECK(r.record().failure_reasons ==
        std::vector<std::string>{"edge 1: failure counts of 9 codes"});
  CHECK(r.take_refusals() ==
        std::vector<std::string>{"edge 1, round 3: failure counts of 9 codes (failure_codes)"});
  // Not outstanding any more: refusing it again changes and counts nothing.
  CHECK(r.refused(send[0].id, answer_refusal::failure_codes, "again").empty());
  CHECK(answer_refusals_total() == before + 1);
  CHECK(r.take_refusals().empty());
}

TEST_CASE("sync_round accepts an empty aggregate of any dimension when every client failed",
          "[protocol]") {
  auto edges = twelve_over_three();
  sync_round r(1, 2, edges);
  auto send = r.assign({0, 1});
  edge_report rep;
  rep.round = 1;
  rep.aggregate = weighted_accumulator(0).serialize();
  rep.failed = one(failure_code::client_error, 2);
  CHECK(r.answered(send[0].id, rep).empty());
  CHECK(r.complete());
  CHECK(r.record().failures_by.of(failure_code::client_error) == 2);
  CHECK(r.record().failures_by.of(failure_code::invalid_update) == 0);
}

TEST_CASE("sync_round failed() counts every client of the batch under its code", "[protocol]") {
  auto edges = twelve_over_three();
  sync_round r(1, 2, edges);
  auto send = r.assign({4, 5, 6});
  REQUIRE(send.size() == 1);
  CHECK(r.failed(send[0].id, failure_code::client_error, "refused: still training").empty());
  CHECK(r.complete());
  CHECK(r.record().failures_by.of(failure_code::client_error) == 3);
  CHECK(r.record().failure_reasons == std::vector<std::string>{"edge 1: refused: still training"});
  // Failing it again, or answering it now, changes nothing.
  CHECK(r.failed(send[0].id, failure_code::timeout, "late").empty());
  CHECK(r.answered(send[0].id, report(1, {{{1, 1}, 1, 0}})).empty());
  CHECK(r.record().failures_by.of(failure_code::timeout) == 0);
  CHECK(r.aggregate().count() == 0);
}

TEST_CASE("sync_round under the drop policy fails a lost edge's clients as edge_lost",
          "[protocol]") {
  auto edges = twelve_over_three(edge_loss_policy::drop);
  sync_round r(1, 2, edges);
  auto send = r.assign({0, 4, 5});
  REQUIRE(send.size() == 2);
  REQUIRE(edges.lose(1));
  CHECK(r.edge_lost(1).empty());
  CHECK_FALSE(r.outstanding(send[1].id));
  auto& rec = r.record();
  CHECK(rec.failures_by.of(failure_code::edge_lost) == 2);
  CHECK(rec.failure_reasons ==
        std::vector<std::string>{"client 4: edge 1 lost", "client 5: edge 1 lost"});
  CHECK(rec.rerouted == 0);
  CHECK(rec.edges_lost == 1);
  CHECK_FALSE(r.complete());
  CHECK(r.answered(send[0].id, report(1, {{{1, 1}, 1, 0}})).empty());
  CHECK(r.complete());
}

TEST_CASE("sync_round ignores the answer of a batch abandoned with its edge", "[protocol]") {
  auto edges = twelve_over_three();
  sync_round r(1, 2, edges);
  auto send = r.assign({4, 5});
  REQUIRE(send.size() == 1);
  REQUIRE(edges.lose(1));
  auto moved = r.edge_lost(1);
  REQUIRE(moved.size() == 2);  // 4 -> edge 0, 5 -> edge 2
  // The lost edge's answer arrives after all (it was on its way).
  CHECK(r.answered(send[0].id, report(1, {{{1, 1}, 1, 0}, {{1, 1}, 1, 0}})).empty());
  CHECK(r.failed(send[0].id, failure_code::timeout, "late").empty());
  CHECK(r.aggregate().count() == 0);
  CHECK(r.record().failures_by.total() == 0);
  CHECK_FALSE(r.complete());
  for (const auto& b : moved) r.answered(b.id, report(1, {{{1, 1}, 1, 0}}));
  CHECK(r.complete());
  CHECK(r.aggregate().count() == 2);
}

TEST_CASE("sync_round with every edge lost fails the clients it is given at once", "[protocol]") {
  auto edges = twelve_over_three();
  REQUIRE(edges.lose(0));
  REQUIRE(edges.lose(1));
  REQUIRE(edges.lose(2));
  sync_round r(1, 2, edges);
  CHECK(r.assign({0, 5, 11}).empty());
  CHECK(r.complete());
  CHECK(r.record().failures_by.of(failure_code::edge_lost) == 3);
  CHECK(r.record().failure_reasons == std::vector<std::string>{"client 0: edge 0 lost",
                                                               "client 5: edge 1 lost",
                                                               "client 11: edge 2 lost"});
}

TEST_CASE("sync_round keeps the first max_details failure details of a round", "[protocol]") {
  auto edges = twelve_over_three(edge_loss_policy::drop);
  REQUIRE(edges.lose(0));
  REQUIRE(edges.lose(1));
  sync_round r(1, 2, edges);
  // Clients 0..7 are unreachable (8 details), client 8 goes to edge 2.
  auto send = r.assign({0, 1, 2, 3, 4, 5, 6, 7, 8});
  REQUIRE(send.size() == 1);
  REQUIRE(r.record().failure_reasons.size() == sync_round::max_details);
  auto rep = report(1, {}, one(failure_code::client_error));
  rep.details = {"client 8: out of memory"};
  CHECK(r.answered(send[0].id, rep).empty());
  CHECK(r.record().failures_by.total() == 9);
  CHECK(r.record().failure_reasons.size() == sync_round::max_details);
  CHECK(r.record().failure_reasons.back() == "client 7: edge 1 lost");
}

TEST_CASE("sync_round assigns again after every batch was answered", "[protocol]") {
  auto edges = twelve_over_three();
  sync_round r(1, 2, edges);
  auto send = r.assign({0});
  CHECK(r.answered(send[0].id, report(1, {{{2, 2}, 1, 0}})).empty());
  auto again = r.assign({1});
  REQUIRE(again.size() == 1);
  CHECK(again[0].id != send[0].id);
  CHECK(clients_of(again) == std::vector<uint32_t>{1});
}

TEST_CASE("sync_round losing an edge with a queued batch reassigns both its batches",
          "[protocol]") {
  auto edges = twelve_over_three();
  sync_round r(1, 2, edges);
  auto send = r.assign({0, 4, 5});  // edge 0 {0}, edge 1 {4, 5}
  REQUIRE(send.size() == 2);
  REQUIRE(edges.lose(1));
  auto moved = r.edge_lost(1);  // {4} queued behind edge 0's batch, {5} sent to edge 2
  REQUIRE(moved.size() == 1);
  REQUIRE(edges.lose(0));
  // Edge 0's batch {0} and its queued {4}: only edge 2 is left, and it is busy.
  CHECK(r.edge_lost(0).empty());
  CHECK(r.record().edges_lost == 2);
  CHECK(r.record().rerouted == 4);  // 4 and 5, then 0 and 4
  auto next = r.answered(moved[0].id, report(1, {{{1, 1}, 1, 0}}));
  REQUIRE(next.size() == 1);
  CHECK(next[0].edge == 2);
  CHECK(next[0].clients == std::vector<uint32_t>{0, 4});
  CHECK(r.answered(send[0].id, report(1, {{{1, 1}, 1, 0}})).empty());  // abandoned
  CHECK_FALSE(r.complete());
  CHECK(r.answered(next[0].id, report(1, {{{1, 1}, 1, 0}, {{1, 1}, 1, 0}})).empty());
  CHECK(r.complete());
  CHECK(r.aggregate().count() == 3);
  CHECK(r.record().failures_by.total() == 0);
}

TEST_CASE("sync_round with clipping expected merges clipped answers and sums the unclipped",
          "[protocol]") {
  auto edges = twelve_over_three();
  sync_round r(1, 2, edges);
  r.expect_clipped(2.5);
  auto send = r.assign({0, 4});
  REQUIRE(send.size() == 2);
  // Edge 0: (1.5, 2) (norm 2.5, clipped); edge 1: (1, -2) (norm sqrt(5), unclipped).
  auto a = report(1, {{{1.5f, 2}, 1, 0}});
  auto b = report(1, {{{1, -2}, 1, 0}});
  b.unclipped = 1;
  r.answered(send[0].id, a);
  r.answered(send[1].id, b);
  CHECK(r.complete());
  CHECK(r.aggregate().count() == 2);
  CHECK(r.unclipped() == 1);
  CHECK(r.record().failures_by.total() == 0);
}

TEST_CASE("sync_round with clipping expected refuses answers that cannot be clipped updates",
          "[protocol]") {
  auto edges = twelve_over_three();
  sync_round r(1, 2, edges);
  r.expect_clipped(2.5);
  auto send = r.assign({0, 4, 8});
  REQUIRE(send.size() == 3);
  // A sample-count weight; a sum of norm 5 from one update; more unclipped than updates.
  r.answered(send[0].id, report(1, {{{1, 1}, 10, 0}}));
  r.answered(send[1].id, report(1, {{{3, 4}, 1, 0}}));
  auto c = report(1, {{{1, 1}, 1, 0}});
  c.unclipped = 2;
  r.answered(send[2].id, c);
  CHECK(r.complete());
  CHECK(r.aggregate().count() == 0);
  CHECK(r.unclipped() == 0);
  CHECK(r.record().failures_by.of(failure_code::invalid_update) == 3);
  const auto& why = r.record().failure_reasons;
  REQUIRE(why.size() == 3);
  CHECK(why[0] == "edge 0: weights that are not 1 per update (clipping needs weight 1)");
  CHECK(why[1] == "edge 1: an aggregate of norm 5 above 1 updates clipped to 2.5");
  CHECK(why[2] == "edge 2: 2 unclipped updates of 1");
}

TEST_CASE(
    "sync_round keeps the client reports that fit and refuses an answer whose reports "
    "do not",
    "[protocol][client_report]") {
  auto edges = twelve_over_three();
  sync_round r(1, 2, edges);
  auto send = r.assign({0, 1, 5, 6, 9});
  REQUIRE(send.size() == 3);
  // Edge 0: reports for both its updates.
  auto a = report(1, {{{1, 0}, 10, 0.5}, {{0, 2}, 30, 1.5}});
  a.reports = encode_client_reports({{0, 10, 0.5, 1.0}, {1, 30, 1.5, 4.0}});
  r.answered(send[0].id, a);
  // Edge 1: a report for client 7, not in its batch {5, 6}: refused whole.
  auto b = report(1, {{{1, 1}, 5, 1.0}, {{1, 1}, 5, 1.0}});
  b.reports = encode_client_reports({{5, 5, 1.0, 2.0}, {7, 5, 1.0, 2.0}});
  r.answered(send[1].id, b);
  // Edge 2: no reports at all: merged, nothing to report.
  r.answered(send[2].id, report(1, {{{2, 2}, 10, 1.0}}));
  CHECK(r.complete());
  CHECK(r.aggregate().count() == 3);
  CHECK(r.record().failures_by.of(failure_code::invalid_update) == 2);
  REQUIRE(r.reports().size() == 2);
  CHECK(r.reports()[0].client == 0);
  CHECK(r.reports()[1].client == 1);
  CHECK(r.reports()[1].sq_norm == 4.0);
  const auto refusals = r.take_refusals();
  REQUIRE(refusals.size() == 1);
  CHECK(refusals[0] ==
        "edge 1, round 1: client reports that do not match its 2 updates of the batch's clients "
        "(wrong_count)");
}

TEST_CASE("sync_round refuses duplicate, missing or malformed client reports",
          "[protocol][client_report]") {
  auto edges = twelve_over_three();
  sync_round r(1, 2, edges);
  auto send = r.assign({0, 1, 5, 6, 9});
  auto dup = report(1, {{{1, 0}, 10, 0.5}, {{0, 2}, 30, 1.5}});
  dup.reports = encode_client_reports({{0, 10, 0.5, 1.0}, {0, 30, 1.5, 4.0}});
  r.answered(send[0].id, dup);
  auto missing = report(1, {{{1, 1}, 5, 1.0}, {{1, 1}, 5, 1.0}});
  missing.reports = encode_client_reports({{5, 5, 1.0, 2.0}});
  r.answered(send[1].id, missing);
  auto garbage = report(1, {{{2, 2}, 10, 1.0}});
  garbage.reports = {'x', 'y'};
  r.answered(send[2].id, garbage);
  CHECK(r.complete());
  CHECK(r.aggregate().count() == 0);
  CHECK(r.reports().empty());
  CHECK(r.take_refusals().size() == 3);
}

TEST_CASE("sync_round counts each edge's updates and failed tasks in the record's edge_load",
          "[protocol]") {
  auto edges = twelve_over_three();
  sync_round r(1, 2, edges);
  REQUIRE(r.record().edge_load.size() == 3);
  auto send = r.assign({0, 1, 2, 4, 5, 9});
  REQUIRE(send.size() == 3);  // edge 0 {0, 1, 2}, edge 1 {4, 5}, edge 2 {9}
  // Edge 0: two updates, one client failed at the edge.
  CHECK(r.answered(send[0].id,
                   report(1, {{{1, 1}, 1, 0}, {{1, 1}, 1, 0}}, one(failure_code::client_error)))
            .empty());
  // Edge 2 answers for the wrong round: refused whole, its one client failed.
  CHECK(r.answered(send[2].id, report(2, {{{1, 1}, 1, 0}})).empty());
  // Edge 1 is lost with its batch in flight: both clients fail there and go to edge 0 / 2
  // (survivors {0, 2}: 4 -> [0] = edge 0, 5 -> [1] = edge 2), where they answer.
  REQUIRE(edges.lose(1));
  auto moved = r.edge_lost(1);
  REQUIRE(moved.size() == 2);
  for (const auto& b : moved) CHECK(r.answered(b.id, report(1, {{{1, 1}, 1, 0}})).empty());
  CHECK(r.complete());
  const auto& load = r.record().edge_load;
  CHECK(load[0].updates == 3);  // 2 + client 4
  CHECK(load[0].failed == 1);
  CHECK(load[1].updates == 0);
  CHECK(load[1].failed == 2);
  CHECK(load[2].updates == 1);  // client 5
  CHECK(load[2].failed == 1);   // the refused answer
  // Tasks and busy time are the loop's to count (sync_loop: as the batches go out).
  for (const auto& l : load) {
    CHECK(l.tasks == 0);
    CHECK(l.busy_s == 0);
  }
}

TEST_CASE("sync_round counts a batch that failed whole, and not a queued one lost with its edge",
          "[protocol]") {
  auto edges = twelve_over_three();
  sync_round r(1, 2, edges);
  auto send = r.assign({0});
  REQUIRE(send.size() == 1);  // edge 0 {0}, in flight
  REQUIRE(edges.lose(1));
  CHECK(r.edge_lost(1).empty());  // nothing of edge 1 in the round: nothing counted
  // Client 4's home edge 1 is lost: survivors {0, 2}, 4 % 2 -> edge 0, queued behind {0}.
  CHECK(r.assign({4}).empty());
  REQUIRE(edges.lose(0));
  // Edge 0's batch in flight fails there; the queued one was never sent to it. Both clients
  // go to the last survivor, edge 2, in one batch that then times out whole.
  auto moved = r.edge_lost(0);
  REQUIRE(moved.size() == 1);
  CHECK(moved[0].edge == 2);
  CHECK(moved[0].clients == std::vector<uint32_t>{0, 4});
  CHECK(r.failed(moved[0].id, failure_code::timeout, "no answer").empty());
  CHECK(r.complete());
  const auto& load = r.record().edge_load;
  CHECK(load[0].failed == 1);
  CHECK(load[1].failed == 0);
  CHECK(load[2].failed == 2);
  for (const auto& l : load) CHECK(l.updates == 0);
}
