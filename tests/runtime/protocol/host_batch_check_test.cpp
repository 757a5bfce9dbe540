// A client host's batch answer checked against the edge's record: an honest answer passes, and
// each kind of misfit is refused with a reason that names it.

#include "runtime/protocol/host_batch_check.hpp"

#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/math/accumulator.hpp"
#include "runtime/protocol/client_report.hpp"
#include "runtime/protocol/edge_round.hpp"

using namespace fedactor;

namespace {

const std::vector<float> model = {1.0f, 2.0f};
const std::vector<uint32_t> batch = {5, 9};

// What an honest host answers for clients 5 (10 samples, loss 0.5, params {2, 3}) and 9
// (20 samples, loss 0.25, params {0, 1}).
edge_report honest() {
  edge_round r(4, make_snapshot(model), 2);
  const std::vector<float> p5 = {2.0f, 3.0f}, p9 = {0.0f, 1.0f};
  r.fold(5, p5.data(), 10, 0.5);
  r.fold(9, p9.data(), 20, 0.25);
  auto out = r.finish();
  edge_report rep;
  rep.round = 4;
  rep.aggregate = out.aggregate;
  rep.failed = out.failed;
  rep.reports = out.reports;
  return rep;
}

uint32_t registry(uint32_t client) {
  return client == 5 ? 10 : client == 9 ? 20 : 7;
}

std::optional<std::string> check(const edge_report& rep,
                                 const std::vector<uint32_t>& clients = batch,
                                 uint32_t (*samples)(uint32_t) = registry) {
  return host_batch_problem(rep, host_batch_expectation{2, 0, &clients, samples});
}

std::vector<client_report> reports_of(const edge_report& rep) {
  return *decode_client_reports(rep.reports.data(), rep.reports.size());
}

}  // namespace

TEST_CASE("an honest host batch answer passes the edge's checks", "[protocol]") {
  const auto rep = honest();
  CHECK(rep.aggregate.size() == 80);  // 48 + 16 x 2
  CHECK(check(rep) == std::nullopt);
  // No update folded (every client failed): an empty aggregate and no reports pass too.
  edge_round none(4, make_snapshot(model), 2);
  none.fail(5, failure_code::timeout, "timeout");
  none.fail(9, failure_code::client_error, "error");
  edge_report empty;
  empty.aggregate = none.finish().aggregate;
  empty.reports = none.finish().reports;
  CHECK(check(empty) == std::nullopt);
}

TEST_CASE("a host batch answer whose sizes do not follow from the model is refused", "[protocol]") {
  auto rep = honest();
  rep.aggregate.resize(64);
  CHECK(check(rep) == std::string{"an aggregate of 64 bytes, expected 80 for 2 values"});
  rep = honest();
  rep.aggregate = weighted_accumulator(3).serialize();  // another dimension
  CHECK(check(rep) == std::string{"an aggregate of 96 bytes, expected 80 for 2 values"});
  rep = honest();
  rep.aux_aggregate = weighted_accumulator(2).serialize();
  CHECK(check(rep) == std::string{"an aux aggregate of 80 bytes, expected 0"});
  rep = honest();
  rep.reports.pop_back();
  CHECK(check(rep) == std::string{"malformed client reports"});
}

TEST_CASE("a host batch answer whose reports do not match the edge's record is refused",
          "[protocol]") {
  // A client the edge did not send to this host.
  const std::vector<uint32_t> other = {5, 8};
  CHECK(check(honest(), other) == std::string{"a report for client 9, not sent"});
  // A sample count other than the registry's.
  CHECK(check(honest(), batch, [](uint32_t c) -> uint32_t { return c == 9 ? 21 : 10; }) ==
        std::string{"client 9 reported 20 samples, the registry holds 21"});
  // One report fewer than the aggregate's updates.
  auto rep = honest();
  auto reports = reports_of(rep);
  reports.pop_back();
  rep.reports = encode_client_reports(reports);
  CHECK(check(rep) == std::string{"1 client reports for an aggregate of 2 updates"});
  // Reports out of order.
  rep = honest();
  reports = reports_of(rep);
  std::swap(reports[0], reports[1]);
  rep.reports = encode_client_reports(reports);
  CHECK(check(rep) ==
        std::string{"client reports not in ascending order of distinct clients (client 5)"});
}

TEST_CASE("a host batch answer whose aggregate is not its reported clients' is refused",
          "[protocol]") {
  // Client 9 claims 21 samples, as the registry says, but the aggregate weighs 30.
  auto rep = honest();
  auto reports = reports_of(rep);
  reports[1].samples = 21;
  rep.reports = encode_client_reports(reports);
  CHECK(check(rep, batch, [](uint32_t c) -> uint32_t { return c == 9 ? 21 : 10; }) ==
        std::string{"an aggregate of total weight 30.000000, its clients' samples sum to "
                    "31.000000"});
  // A loss other than the one folded.
  rep = honest();
  reports = reports_of(rep);
  reports[0].loss = 0.75;
  rep.reports = encode_client_reports(reports);
  CHECK(check(rep) == std::string{"an aggregate loss that is not its clients' reported losses"});
  reports[0].loss = std::numeric_limits<double>::infinity();
  rep.reports = encode_client_reports(reports);
  CHECK(check(rep) == std::string{"client 5 reported a loss that is not finite"});
}
