#include <catch2/catch.hpp>

#include <cstdint>
#include <stdexcept>

#include "runtime/checkpoint/byte_codec.hpp"
#include "runtime/learning/client_sizes.hpp"
#include "runtime/population/registry.hpp"
#include "runtime/population/sampler.hpp"

using namespace fedactor;

namespace {

client_registry::size_fn synthetic_sizes(uint64_t seed) {
  data_config cfg;
  return [cfg, seed](client_id id) { return synthetic_num_samples(cfg, seed, id); };
}

}  // namespace

TEST_CASE("registry with the same seed is identical, with another seed differs",
          "[population][registry]") {
  const uint64_t n = 5000;
  client_registry a(n, 7, 4, synthetic_sizes(7));
  client_registry b(n, 7, 4, synthetic_sizes(7));
  client_registry c(n, 8, 4, synthetic_sizes(7));
  uint64_t power_diff = 0;
  uint64_t region_diff = 0;
  for (client_id id = 0; id < n; ++id) {
    REQUIRE(a.num_samples(id) == b.num_samples(id));
    REQUIRE(a.compute_power(id) == b.compute_power(id));
    REQUIRE(a.region(id) == b.region(id));
    power_diff += a.compute_power(id) != c.compute_power(id);
    region_diff += a.region(id) != c.region(id);
  }
  CHECK(power_diff > n * 9 / 10);
  CHECK(region_diff > n / 2);
}

TEST_CASE("registry num_samples equals the supplied size function and total_samples sums it",
          "[population][registry]") {
  const uint64_t n = 10000;
  auto sizes = synthetic_sizes(3);
  client_registry reg(n, 3, 1, sizes);
  uint64_t total = 0;
  for (client_id id = 0; id < n; ++id) {
    REQUIRE(reg.num_samples(id) == sizes(id));
    total += sizes(id);
  }
  CHECK(reg.size() == n);
  CHECK(reg.total_samples() == total);
}

TEST_CASE(
    "registry compute_power lies in the half-open interval from 0 to 1 and regions cover "
    "0..regions-1",
    "[population][registry]") {
  const uint64_t n = 20000;
  const uint32_t regions = 5;
  client_registry reg(n, 11, regions, synthetic_sizes(11));
  std::vector<uint64_t> per_region(regions, 0);
  double power_sum = 0;
  for (client_id id = 0; id < n; ++id) {
    REQUIRE(reg.compute_power(id) > 0.0f);
    REQUIRE(reg.compute_power(id) <= 1.0f);
    REQUIRE(reg.region(id) < regions);
    ++per_region[reg.region(id)];
    power_sum += reg.compute_power(id);
  }
  for (uint64_t count : per_region) CHECK(count > n / regions * 9 / 10);
  CHECK(power_sum / n == Approx(0.5).margin(0.02));
}

TEST_CASE("registry compute_power comes from the stream keyed by seed and id",
          "[population][registry]") {
  client_registry reg(100, 21, 3, [](client_id) { return 10u; });
  for (client_id id = 0; id < 100; ++id) {
    client_meta m = default_client_meta(21, 3, id);
    REQUIRE(reg.compute_power(id) == m.compute_power);
    REQUIRE(reg.region(id) == m.region);
  }
}

TEST_CASE("registry device profile can be replaced, leaving num_samples alone",
          "[population][registry]") {
  auto profile = [](client_id id) { return client_meta{2.5f, static_cast<uint16_t>(id % 2)}; };
  client_registry reg(
      10, 1, 2, [](client_id id) { return id + 1; }, profile);
  for (client_id id = 0; id < 10; ++id) {
    CHECK(reg.compute_power(id) == 2.5f);
    CHECK(reg.region(id) == id % 2);
    CHECK(reg.num_samples(id) == id + 1);
  }
  auto bad_region = [](client_id) { return client_meta{0.5f, 2}; };
  CHECK_THROWS_AS(client_registry(
                      10, 1, 2, [](client_id) { return 1u; }, bad_region),
                  std::invalid_argument);
  auto bad_power = [](client_id) { return client_meta{0.0f, 0}; };
  CHECK_THROWS_AS(client_registry(
                      10, 1, 2, [](client_id) { return 1u; }, bad_power),
                  std::invalid_argument);
}

TEST_CASE("registry last_round starts at -1 and mark_picked sets it", "[population][registry]") {
  client_registry reg(100, 0, 1, [](client_id) { return 1u; });
  for (client_id id = 0; id < 100; ++id) REQUIRE(reg.last_round(id) == -1);
  reg.mark_picked(42, 3);
  reg.mark_picked(42, 5);
  reg.mark_picked(7, 0);
  CHECK(reg.last_round(42) == 5);
  CHECK(reg.last_round(7) == 0);
  CHECK(reg.last_round(8) == -1);
}

TEST_CASE("registry rejects 0 clients, more than 2^32-1 clients and 0 regions",
          "[population][registry]") {
  auto one = [](client_id) { return 1u; };
  CHECK_THROWS_AS(client_registry(0, 0, 1, one), std::invalid_argument);
  CHECK_THROWS_AS(client_registry(uint64_t{1} << 32, 0, 1, one), std::invalid_argument);
  CHECK_THROWS_AS(client_registry(10, 0, 0, one), std::invalid_argument);
  CHECK_THROWS_AS(client_registry(10, 0, 65537, one), std::invalid_argument);
  CHECK_THROWS_AS(client_registry(10, 0, 1, {}), std::invalid_argument);
}

TEST_CASE("registry of 1,000,000 clients plus any sampler stays within 32 bytes per client",
          "[population][registry][memory]") {
  const uint64_t n = 1000000;
  client_registry reg(n, 5, 8, synthetic_sizes(5));
  const char* names[] = {"random", "weighted", "least_recent"};
  const sampling_kind kinds[] = {sampling_kind::random, sampling_kind::weighted,
                                 sampling_kind::least_recent};
  for (int i = 0; i < 3; ++i) {
    auto s = make_sampler(kinds[i], reg, 5);
    s->sample(100, 0);
    double per_client = static_cast<double>(reg.bytes() + s->bytes()) / n;
    INFO("strategy " << names[i] << ": " << per_client << " bytes per client");
    CHECK(per_client <= 32.0);
  }
}

TEST_CASE("registry picks round-trip sparse (few picked) and dense (most picked)", "[registry]") {
  auto sizes = [](client_id) { return 10u; };
  client_registry a(100, 3, 1, sizes);
  a.mark_picked(5, 0);
  a.mark_picked(70, 2);
  byte_writer sparse;
  a.save_picks(sparse);
  // u64 n, u8 form, u64 count, 2 × (u32 id, i32 round)
  CHECK(sparse.bytes().size() == 8 + 1 + 8 + 2 * 8);
  client_registry b(100, 3, 1, sizes);
  auto bytes = sparse.take();
  byte_reader in(bytes.data(), bytes.size(), "picks");
  b.load_picks(in);
  for (client_id id = 0; id < 100; ++id) CHECK(b.last_round(id) == a.last_round(id));

  for (client_id id = 0; id < 60; ++id) a.mark_picked(id, static_cast<int32_t>(id % 5));
  byte_writer dense;
  a.save_picks(dense);
  CHECK(dense.bytes().size() == 8 + 1 + 100 * 4);
  bytes = dense.take();
  byte_reader in2(bytes.data(), bytes.size(), "picks");
  b.load_picks(in2);
  for (client_id id = 0; id < 100; ++id) CHECK(b.last_round(id) == a.last_round(id));

  client_registry other(50, 3, 1, sizes);
  byte_reader in3(bytes.data(), bytes.size(), "picks");
  CHECK_THROWS_WITH(other.load_picks(in3), "picks: the registry has 100 clients, this run 50");
}
