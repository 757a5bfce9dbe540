// Tests of runtime/protocol/update_check.*: what a client's answer must be to be folded.

#include "runtime/protocol/update_check.hpp"

#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

using namespace fedactor;

TEST_CASE("check_update rejects wrong round, client, shape, sample count and non-finite values",
          "[protocol]") {
  const std::vector<float> params{1, 2, 3};
  const update_expectation want{2, 7, 3, 50};
  const update_claim ok{2, 7, params.data(), 3, 50, 1.0};
  CHECK_FALSE(check_update(ok, want));
  auto c = ok;
  c.samples = 51;
  CHECK(check_update(c, want) == "claims 51 samples, registry says 50");
  c = ok;
  c.samples = 0;
  CHECK(check_update(c, want) == "claims 0 samples, registry says 50");
  c = ok;
  c.values = 2;
  CHECK(check_update(c, want) == "has 2 parameters, expected 3");
  c = ok;
  c.params = nullptr;
  CHECK(check_update(c, want) == "has 3 parameters, expected 3");
  const std::vector<float> nan{1, NAN, 3};
  c = ok;
  c.params = nan.data();
  CHECK(check_update(c, want) == "non-finite parameter at index 1");
  c = ok;
  c.round = 1;
  CHECK(check_update(c, want) == "answer for round 1");
  c = ok;
  c.client = 8;
  CHECK(check_update(c, want) == "answer for client 8");
  c = ok;
  c.loss = INFINITY;
  CHECK(check_update(c, want) == "non-finite loss");
}

TEST_CASE("check_update refuses a zero sample count even when the registry says zero",
          "[protocol]") {
  const std::vector<float> params{1, 2};
  const update_expectation want{1, 3, 2, 0};
  const update_claim got{1, 3, params.data(), 2, 0, 0.5};
  CHECK(check_update(got, want) == "claims 0 samples, registry says 0");
}

TEST_CASE("check_update names the first check that fails: round, client, shape, samples, loss",
          "[protocol]") {
  const std::vector<float> nan{NAN, 2};
  const update_expectation want{2, 7, 2, 50};
  update_claim c{1, 8, nan.data(), 2, 51, NAN};
  CHECK(check_update(c, want) == "answer for round 1");
  c.round = 2;
  CHECK(check_update(c, want) == "answer for client 8");
  c.client = 7;
  c.values = 3;
  CHECK(check_update(c, want) == "has 3 parameters, expected 2");
  c.values = 2;
  CHECK(check_update(c, want) == "claims 51 samples, registry says 50");
  c.samples = 50;
  CHECK(check_update(c, want) == "non-finite loss");
  c.loss = 0;
  CHECK(check_update(c, want) == "non-finite parameter at index 0");
}

TEST_CASE("check_update accepts an empty model when none is expected", "[protocol]") {
  const update_expectation want{0, 0, 0, 1};
  const update_claim got{0, 0, nullptr, 0, 1, 0};
  CHECK_FALSE(check_update(got, want));
}

TEST_CASE("refuse_update gives each failed check its reason and check_update's text",
          "[protocol]") {
  const std::vector<float> nan{NAN, 2};
  const update_expectation want{2, 7, 2, 50};
  update_claim c{1, 8, nan.data(), 2, 51, NAN};
  auto expect = [&](result_refusal reason, const std::string& what) {
    auto r = refuse_update(c, want);
    REQUIRE(r);
    CHECK(r->reason == reason);
    CHECK(r->what == what);
  };
  expect(result_refusal::wrong_task, "answer for round 1");
  c.round = 2;
  expect(result_refusal::wrong_client, "answer for client 8");
  c.client = 7;
  c.values = 3;
  expect(result_refusal::wrong_shape, "has 3 parameters, expected 2");
  c.values = 2;
  expect(result_refusal::wrong_samples, "claims 51 samples, registry says 50");
  c.samples = 50;
  expect(result_refusal::non_finite, "non-finite loss");
  c.loss = 0;
  expect(result_refusal::non_finite, "non-finite parameter at index 0");
  const std::vector<float> ok{1, 2};
  c.params = ok.data();
  CHECK_FALSE(refuse_update(c, want));
}
