// A middle edge folds its own part and its children's checked answers: the bytes of one edge
// training every client, and a child's answer that does not fit its batch refused whole.

#include "runtime/protocol/subtree_fold.hpp"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/protocol/edge_round.hpp"

using namespace fedactor;

namespace {

// An edge_round's result as the report a parent reads.
edge_report report_of(const edge_round& r) {
  auto out = r.finish();
  edge_report rep;
  rep.round = r.round();
  rep.aggregate = out.aggregate;
  rep.aux_aggregate = out.aux_aggregate;
  rep.failed = out.failed;
  rep.details = out.details;
  rep.norm = out.norm;
  rep.unclipped = out.unclipped;
  rep.update_bytes = out.update_bytes;
  rep.updates_received = out.updates_received;
  rep.reports = out.reports;
  return rep;
}

const std::vector<uint32_t> none_refused(result_refusal_count, 0);

}  // namespace

TEST_CASE("a subtree's fold of its own part and a child's answer equals one edge's aggregate",
          "[protocol]") {
  const std::vector<float> model = {1.0f, 2.0f};
  const float p0[] = {1.5f, 2.25f}, p1[] = {0.5f, 3.0f};
  // One edge trains clients 0, 1 and 2 (client 2 fails).
  edge_round all(4, make_snapshot(model), 3);
  all.count_update(8);
  all.fold(0, p0, 10, 0.5);
  all.count_update(8);
  all.fold(1, p1, 30, 0.25);
  all.fail(2, failure_code::timeout, "timed out");
  // The same split: client 0 here, clients 1 and 2 at a child.
  edge_round own(4, make_snapshot(model), 1);
  own.count_update(8);
  own.fold(0, p0, 10, 0.5);
  edge_round child(4, make_snapshot(model), 2);
  child.count_update(8);
  child.fold(1, p1, 30, 0.25);
  child.fail(2, failure_code::timeout, "timed out");

  subtree_fold fold(4, 2, 0);
  CHECK_FALSE(fold.fold_child("child edge 1", {1, 2}, report_of(child), none_refused));
  fold.fold_own(report_of(own), result_refusal_counts{});
  auto total = fold.total();
  auto one = report_of(all);
  CHECK(total.round == 4);
  CHECK(total.aggregate == one.aggregate);  // byte for byte: the exact fixed-point sums
  auto agg = weighted_accumulator::deserialize(total.aggregate.data(), total.aggregate.size());
  REQUIRE(agg);
  CHECK(agg->count() == 2);
  CHECK(agg->weight() == 40.0);
  // Σ n·Δ / Σ n = (10·(0.5, 0.25) + 30·(-0.5, 1)) / 40 = (-0.25, 0.8125)
  CHECK(agg->mean() == std::vector<float>{-0.25f, 0.8125f});
  CHECK(total.failed.of(failure_code::timeout) == 1);
  CHECK(total.failed.total() == 1);
  CHECK(total.details == std::vector<std::string>{"client 2: timed out"});
  CHECK(total.update_bytes == 16);
  CHECK(total.updates_received == 2);
  CHECK(total.reports == one.reports);  // ascending ids 0, 1 whatever the order of folding
}

TEST_CASE("a child's answer that does not fit the clients sent to it is refused whole",
          "[protocol]") {
  const std::vector<float> model = {0.0f, 0.0f};
  const float p[] = {1.0f, 1.0f};
  edge_round child(2, make_snapshot(model), 2);
  child.fold(5, p, 4, 0.0);
  child.fold(6, p, 4, 0.0);
  const auto good = report_of(child);

  auto refused = [&](edge_report rep, std::vector<uint32_t> clients,
                     std::vector<uint32_t> refused_wire = none_refused) {
    subtree_fold fold(2, 2, 0);
    auto why = fold.fold_child("child edge 9", clients, rep, refused_wire);
    auto total = fold.total();
    // Refused: nothing folded, the batch's clients count as invalid updates.
    auto agg = weighted_accumulator::deserialize(total.aggregate.data(), total.aggregate.size());
    CHECK(agg->count() == 0);
    CHECK(total.failed.of(failure_code::invalid_update) == clients.size());
    return why.value_or("folded");
  };
  CHECK(refused(good, {5, 6, 7}) == "child edge 9, round 2: accounts for 2 of 3 clients");
  CHECK(refused(good, {5, 8}) ==
        "child edge 9, round 2: client reports that do not match its 2 updates of the clients "
        "sent to it");
  auto other_round = good;
  other_round.round = 3;
  CHECK(refused(other_round, {5, 6}) == "child edge 9, round 2: answered round 3 for round 2");
  auto garbage = good;
  garbage.aggregate = {'x'};
  CHECK(refused(garbage, {5, 6}) == "child edge 9, round 2: malformed aggregate");
  edge_round wide(2, make_snapshot({0.0f, 0.0f, 0.0f}), 2);
  const float q[] = {1.0f, 1.0f, 1.0f};
  wide.fold(5, q, 1, 0.0);
  wide.fold(6, q, 1, 0.0);
  CHECK(refused(report_of(wide), {5, 6}) ==
        "child edge 9, round 2: aggregate of 3 values, the model has 2");
  auto many_refused = none_refused;
  many_refused[0] = 1;  // a refused result, but no invalid update
  CHECK(refused(good, {5, 6}, many_refused) ==
        "child edge 9, round 2: refused result counts that are not among its invalid updates");
  auto bytes = good;
  bytes.updates_received = 3;
  CHECK(refused(bytes, {5, 6}) == "child edge 9, round 2: 3 updates received for 2 clients");

  subtree_fold fold(2, 2, 0);
  CHECK_FALSE(fold.fold_child("child edge 9", {5, 6}, good, none_refused));
  fold.refuse("child edge 4 answered as edge 5", 3);
  auto total = fold.total();
  CHECK(total.failed.of(failure_code::invalid_update) == 3);
  CHECK(total.details == std::vector<std::string>{"child edge 4 answered as edge 5, round 2"});
  CHECK(
      weighted_accumulator::deserialize(total.aggregate.data(), total.aggregate.size())->count() ==
      2);
}
