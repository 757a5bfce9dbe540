#include "runtime/strategy/sgd.hpp"

#include <cstring>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/math/rng.hpp"

using namespace fedactor;

namespace {

server_optimizer_config sgd_config(double lr) {
  server_optimizer_config cfg = server_optimizer_defaults("sgd");
  cfg.server_lr = lr;
  return cfg;
}

// The server's step before the optimizer seam (actors/server.cpp apply_update,
// runtime/math/fedbuff.cpp fedbuff::step), verbatim.
std::vector<float> old_formula(const std::vector<float>& current, const std::vector<float>& delta,
                               double server_lr) {
  std::vector<float> next(current.size());
  for (size_t i = 0; i < current.size(); ++i)
    next[i] = static_cast<float>(static_cast<double>(current[i]) +
                                 server_lr * static_cast<double>(delta[i]));
  return next;
}

std::vector<float> random_vector(rng& r, size_t n, double scale) {
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(scale * r.normal());
  return v;
}

}  // namespace

TEST_CASE("sgd is bit-identical to the old server formula on random vectors", "[strategy]") {
  const size_t dim = 1000;
  for (double lr : {1.0, 0.5, 0.1, 1.7, 3e-3}) {
    rng r(stream_key(2024, 0x736764, static_cast<uint64_t>(lr * 1e6)));
    sgd_optimizer opt(sgd_config(lr), dim);
    std::vector<float> model = random_vector(r, dim, 1.0);
    for (int step = 0; step < 5; ++step) {
      const std::vector<float> delta = random_vector(r, dim, 0.01 * (step + 1));
      const std::vector<float> expected = old_formula(model, delta, lr);
      std::vector<float> next(dim);
      opt.step(model.data(), delta.data(), next.data(), dim);
      REQUIRE(std::memcmp(next.data(), expected.data(), dim * sizeof(float)) == 0);
      model = next;
    }
  }
}

TEST_CASE("sgd with server_lr 1 moves the model to the clients' weighted mean (FedAvg)",
          "[strategy]") {
  // current (1, 2); clients (1, 2.5) with 1 sample and (1.75, 3.25) with 3 samples:
  // mean = ((1 + 3·1.75)/4, (2.5 + 3·3.25)/4) = (1.5625, 3.0625), Δ = (0.5625, 1.0625),
  // next = current + 1·Δ = (1.5625, 3.0625), all exact in binary.
  const std::vector<float> current = {1.0f, 2.0f};
  const std::vector<float> delta = {0.5625f, 1.0625f};
  sgd_optimizer opt(server_optimizer_defaults("sgd"), 2);
  std::vector<float> next(2);
  opt.step(current.data(), delta.data(), next.data(), 2);
  CHECK(next[0] == 1.5625f);
  CHECK(next[1] == 3.0625f);
}

TEST_CASE("sgd steps in place when next is the current buffer", "[strategy]") {
  // lr 0.5: (1, -2) + 0.5·(0.5, 4) = (1.25, 0); then + 0.5·(-0.5, 1) = (1, 0.5).
  std::vector<float> model = {1.0f, -2.0f};
  sgd_optimizer opt(sgd_config(0.5), 2);
  const std::vector<float> d1 = {0.5f, 4.0f};
  opt.step(model.data(), d1.data(), model.data(), 2);
  CHECK(model == std::vector<float>{1.25f, 0.0f});
  const std::vector<float> d2 = {-0.5f, 1.0f};
  opt.step(model.data(), d2.data(), model.data(), 2);
  CHECK(model == std::vector<float>{1.0f, 0.5f});
}

TEST_CASE("sgd refuses a step of another dim and a bad config", "[strategy]") {
  sgd_optimizer opt(sgd_config(1.0), 3);
  std::vector<float> x(4, 0.0f);
  CHECK_THROWS_WITH(opt.step(x.data(), x.data(), x.data(), 4),
                    "sgd: step with dim 4, built for dim 3");
  CHECK_THROWS_WITH(sgd_optimizer(sgd_config(0.0), 3),
                    "strategy.server_lr must be a finite number > 0, got 0");
  CHECK_THROWS_WITH(sgd_optimizer(sgd_config(1.0), 0),
                    "sgd: the model must have at least one value");
}

TEST_CASE("sgd state is the header only and loads back", "[strategy]") {
  sgd_optimizer a(sgd_config(1.0), 5);
  const std::vector<char> s = a.save_state();
  CHECK(s.size() == 12 + 3 + 8);  // header with kind "sgd", no payload
  sgd_optimizer b(sgd_config(0.5), 5);
  CHECK_NOTHROW(b.load_state(s.data(), s.size()));
  sgd_optimizer c(sgd_config(1.0), 6);
  CHECK_THROWS_WITH(c.load_state(s.data(), s.size()),
                    "server optimizer state: saved for dim 5, this optimizer has dim 6");
}
