#include "runtime/strategy/fedopt.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/strategy/state_bytes.hpp"

using namespace fedactor;

namespace {

// The smallest FedOpt member: m = β₁·m + Δ, v = v + Δ², next = current + t (the step count).
class counting_fedopt final : public fedopt_optimizer {
 public:
  counting_fedopt(const server_optimizer_config& cfg, size_t dim)
      : fedopt_optimizer(cfg, dim, {optimizer_key::server_lr, optimizer_key::beta1}) {}
  const char* kind() const override { return "counting"; }

 private:
  void update(const float* current, const float* d, float* next) override {
    for (size_t i = 0; i < dim(); ++i) {
      m_[i] = cfg_.beta1 * m_[i] + d[i];
      v_[i] += static_cast<double>(d[i]) * d[i];
      next[i] = current[i] + static_cast<float>(steps());
    }
  }
};

server_optimizer_config config(double beta1) {
  server_optimizer_config cfg;
  cfg.beta1 = beta1;
  return cfg;
}

std::vector<char> state(uint64_t steps, std::vector<double> m, std::vector<double> v) {
  state_writer w("counting", m.size());
  w.put_u64(steps);
  w.put_f64s(m.data(), m.size());
  w.put_f64s(v.data(), v.size());
  return w.take();
}

}  // namespace

TEST_CASE("fedopt counts steps before the update and keeps both moments", "[strategy]") {
  // β₁ = 0.5, Δ = (1, −2) then (2, 0): m = (1, −2) then (2.5, −1); v = (1, 4) then (5, 4);
  // next = current + t: 0 → 1 → 3.
  counting_fedopt opt(config(0.5), 2);
  std::vector<float> w = {0.0f, 0.0f};
  const std::vector<float> d1 = {1.0f, -2.0f};
  const std::vector<float> d2 = {2.0f, 0.0f};
  opt.step(w.data(), d1.data(), w.data(), 2);
  CHECK(opt.steps() == 1);
  CHECK(w == std::vector<float>{1.0f, 1.0f});
  opt.step(w.data(), d2.data(), w.data(), 2);
  CHECK(opt.steps() == 2);
  CHECK(w == std::vector<float>{3.0f, 3.0f});
  CHECK(opt.first_moment() == std::vector<double>{2.5, -1.0});
  CHECK(opt.second_moment() == std::vector<double>{5.0, 4.0});
}

TEST_CASE("fedopt state holds the step count and both moments and loads back", "[strategy]") {
  counting_fedopt a(config(0.5), 2);
  std::vector<float> w = {0.0f, 0.0f};
  const std::vector<float> d = {1.0f, -2.0f};
  a.step(w.data(), d.data(), w.data(), 2);
  const std::vector<char> s = a.save_state();
  CHECK(s == state(1, {1.0, -2.0}, {1.0, 4.0}));
  counting_fedopt b(config(0.5), 2);
  b.load_state(s.data(), s.size());
  CHECK(b.steps() == 1);
  CHECK(b.first_moment() == a.first_moment());
  CHECK(b.second_moment() == a.second_moment());
}

TEST_CASE("fedopt refuses a step of another dim naming the kind", "[strategy]") {
  counting_fedopt opt(config(0.5), 2);
  std::vector<float> x(3, 0.0f);
  CHECK_THROWS_WITH(opt.step(x.data(), x.data(), x.data(), 3),
                    "counting: step with dim 3, built for dim 2");
  CHECK(opt.steps() == 0);
}

TEST_CASE("fedopt refuses a state with a non-finite or negative moment, unchanged", "[strategy]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  counting_fedopt opt(config(0.5), 2);
  auto s = state(4, {0.0, nan}, {1.0, 1.0});
  CHECK_THROWS_WITH(opt.load_state(s.data(), s.size()),
                    "server optimizer state: counting first moment 1 is not finite");
  s = state(4, {0.0, 0.0}, {nan, 1.0});
  CHECK_THROWS_WITH(opt.load_state(s.data(), s.size()),
                    "server optimizer state: counting second moment 0 is not finite");
  s = state(4, {0.0, 0.0}, {1.0, -1e-300});
  CHECK_THROWS_WITH(opt.load_state(s.data(), s.size()),
                    "server optimizer state: counting second moment 1 is negative");
  s = state(4, {0.0, 0.0}, {1.0, 1.0});
  s.resize(s.size() - 16);
  CHECK_THROWS_WITH(opt.load_state(s.data(), s.size()),
                    "server optimizer state: truncated: no room for the second moments (2 values "
                    "of 8 bytes at offset 52, 0 bytes left)");
  CHECK(opt.steps() == 0);
  CHECK(opt.first_moment() == std::vector<double>{0.0, 0.0});
  CHECK(opt.second_moment() == std::vector<double>{0.0, 0.0});
}

TEST_CASE("fedopt validates its keys and dim at construction", "[strategy]") {
  CHECK_THROWS_WITH(counting_fedopt(config(1.0), 2), "strategy.beta1 must be in [0, 1), got 1");
  server_optimizer_config bad = config(0.5);
  bad.server_lr = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(counting_fedopt(bad, 2),
                    "strategy.server_lr must be a finite number > 0, got inf");
  CHECK_THROWS_WITH(counting_fedopt(config(0.5), 0),
                    "server optimizer: the model must have at least one value");
}

TEST_CASE("fedopt power by squaring is exact on powers of two and one at zero", "[strategy]") {
  CHECK(power_by_squaring(0.9, 0) == 1.0);
  CHECK(power_by_squaring(0.9, 1) == 0.9);
  CHECK(power_by_squaring(0.9, 2) == 0.9 * 0.9);
  CHECK(power_by_squaring(0.5, 10) == 1.0 / 1024);
  CHECK(power_by_squaring(0.75, 3) == 0.421875);  // 27/64, exact
  CHECK(power_by_squaring(0.0, 5) == 0.0);
  CHECK(power_by_squaring(0.99, 1000) == Approx(4.317124741065786e-05).epsilon(1e-12));
}
