#include "runtime/strategy/server_optimizer.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/math/rng.hpp"
#include "runtime/strategy/state_bytes.hpp"
#include "tests/support/test_paths.hpp"

using namespace fedactor;

namespace {

const std::vector<std::string> builtin = {"sgd", "fedavgm", "fedadam", "fedyogi", "fedadagrad"};

// A user's optimizer: signSGD on the server, next = current + lr·sign(Δ). No state.
class sign_sgd final : public server_optimizer {
 public:
  sign_sgd(double lr, size_t dim) : lr_(lr), dim_(dim) {}
  const char* kind() const override { return "test_sign_sgd"; }
  size_t dim() const override { return dim_; }
  void step(const float* current, const float* d, float* next, size_t dim) override {
    for (size_t i = 0; i < dim; ++i)
      next[i] = static_cast<float>(current[i] + lr_ * ((d[i] > 0) - (d[i] < 0)));
  }
  std::vector<char> save_state() const override { return state_writer(kind(), dim_).take(); }
  void load_state(const char* data, size_t size) override {
    state_reader(data, size, kind(), dim_).finish();
  }

 private:
  double lr_;
  size_t dim_;
};

void register_sign_sgd() {
  if (find_server_optimizer("test_sign_sgd")) return;  // once per process
  server_optimizer_info info;
  info.kind = "test_sign_sgd";
  info.summary = "signSGD on the server (test)";
  info.keys = {optimizer_key::server_lr};
  info.defaults.server_lr = 0.25;
  info.check =
      [](const server_optimizer_config& cfg) -> std::optional<server_optimizer_config_error> {
    if (cfg.server_lr > 1)
      return server_optimizer_config_error{"strategy.server_lr", "must be <= 1"};
    return std::nullopt;
  };
  info.make = [](const server_optimizer_config& cfg, size_t dim) {
    return std::make_unique<sign_sgd>(cfg.server_lr, dim);
  };
  register_server_optimizer(info);
}

// Registered during static initialisation, as a user's `static bool registered = ...` would:
// the registry and the built-in kinds' key lists must be usable that early, in whatever order
// the translation units are initialised.
const bool registered_at_startup = [] {
  server_optimizer_info info;
  info.kind = "test_startup";
  info.keys = {optimizer_key::server_lr};
  info.make = [](const server_optimizer_config& cfg, size_t dim) {
    return std::make_unique<sign_sgd>(cfg.server_lr, dim);
  };
  register_server_optimizer(info);
  return true;
}();

std::vector<float> random_vector(rng& r, size_t n, double scale) {
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(scale * r.normal());
  return v;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("server optimizer registry lists every built-in kind in table order", "[strategy]") {
  const std::vector<std::string> kinds = server_optimizer_kinds();
  REQUIRE(kinds.size() >= builtin.size());
  CHECK(std::vector<std::string>(kinds.begin(), kinds.begin() + builtin.size()) == builtin);
}

TEST_CASE("server optimizer defaults of every kind name the kind and validate", "[strategy]") {
  for (const auto& kind : builtin) {
    const server_optimizer_config cfg = server_optimizer_defaults(kind);
    CHECK(cfg.kind == kind);
    CHECK_FALSE(validate(cfg).has_value());
    auto opt = make_server_optimizer(cfg, 3);
    CHECK(std::string(opt->kind()) == kind);
    CHECK(opt->dim() == 3);
  }
  CHECK(server_optimizer_defaults("sgd").server_lr == 1.0);
  CHECK_THROWS_WITH(server_optimizer_defaults("adam"),
                    Catch::Matchers::StartsWith(
                        "strategy.server_optimizer must be one of: sgd, fedavgm, fedadam, "
                        "fedyogi, fedadagrad") &&
                        Catch::Matchers::EndsWith(", got 'adam'"));
}

TEST_CASE("server optimizer keys say which settings each kind reads", "[strategy]") {
  using v = std::vector<std::string>;
  CHECK(server_optimizer_keys("sgd") == v{"strategy.server_lr"});
  CHECK(server_optimizer_keys("fedavgm") == v{"strategy.server_lr", "strategy.momentum"});
  CHECK(server_optimizer_keys("fedadam") == v{"strategy.server_lr", "strategy.beta1",
                                              "strategy.beta2", "strategy.tau",
                                              "strategy.bias_correction"});
  CHECK(server_optimizer_keys("fedyogi") ==
        v{"strategy.server_lr", "strategy.beta1", "strategy.beta2", "strategy.tau"});
  CHECK(server_optimizer_keys("fedadagrad") ==
        v{"strategy.server_lr", "strategy.beta1", "strategy.tau"});
}

TEST_CASE("server optimizer validate names the bad key in one line", "[strategy]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto message = [](const server_optimizer_config& cfg) {
    auto e = validate(cfg);
    return e ? e->message() : std::string("ok");
  };
  server_optimizer_config cfg = server_optimizer_defaults("fedadam");
  cfg.server_lr = -1;
  CHECK(message(cfg) == "strategy.server_lr must be a finite number > 0, got -1");
  cfg.server_lr = nan;
  CHECK(message(cfg) == "strategy.server_lr must be a finite number > 0, got nan");
  cfg = server_optimizer_defaults("fedadam");
  cfg.beta1 = -0.5;
  CHECK(message(cfg) == "strategy.beta1 must be in [0, 1), got -0.5");
  cfg = server_optimizer_defaults("fedyogi");
  cfg.beta2 = 1.5;
  CHECK(message(cfg) == "strategy.beta2 must be in [0, 1), got 1.5");
  cfg = server_optimizer_defaults("fedadagrad");
  cfg.tau = std::numeric_limits<double>::infinity();
  CHECK(message(cfg) == "strategy.tau must be a finite number > 0, got inf");
  cfg = server_optimizer_defaults("fedavgm");
  cfg.momentum = 1.0;
  auto e = validate(cfg);
  REQUIRE(e);
  CHECK(e->key == "strategy.momentum");
  CHECK(e->what == "must be in [0, 1), got 1");
  cfg.kind = "";
  CHECK_THAT(message(cfg),
             Catch::Matchers::StartsWith("strategy.server_optimizer must be one of: "));
}

TEST_CASE("server optimizer validate ignores keys the kind does not read", "[strategy]") {
  server_optimizer_config cfg = server_optimizer_defaults("sgd");
  cfg.momentum = 7;
  cfg.beta1 = -1;
  cfg.tau = 0;
  CHECK_FALSE(validate(cfg).has_value());
  cfg = server_optimizer_defaults("fedadagrad");
  cfg.beta2 = 2;  // fedadagrad has no second-moment decay
  CHECK_FALSE(validate(cfg).has_value());
}

TEST_CASE("server optimizer make refuses a bad config and an empty model", "[strategy]") {
  server_optimizer_config cfg = server_optimizer_defaults("fedyogi");
  cfg.tau = 0;
  CHECK_THROWS_AS(make_server_optimizer(cfg, 4), std::invalid_argument);
  CHECK_THROWS_WITH(make_server_optimizer(cfg, 4),
                    "strategy.tau must be a finite number > 0, got 0");
  CHECK_THROWS_WITH(make_server_optimizer(server_optimizer_defaults("sgd"), 0),
                    "server optimizer sgd: the model must have at least one value");
}

TEST_CASE("server optimizer state of every kind continues bit-identically after a reload",
          "[strategy]") {
  const size_t dim = 257;
  for (const auto& kind : builtin) {
    INFO(kind);
    rng r(stream_key(99, 0x6f7074));
    const server_optimizer_config cfg = server_optimizer_defaults(kind);
    auto straight = make_server_optimizer(cfg, dim);
    auto first = make_server_optimizer(cfg, dim);
    std::vector<float> ws = random_vector(r, dim, 1.0);
    std::vector<float> wr = ws;
    std::vector<std::vector<float>> deltas;
    for (int t = 0; t < 5; ++t) deltas.push_back(random_vector(r, dim, 0.05));
    for (int t = 0; t < 2; ++t) {
      straight->step(ws.data(), deltas[t].data(), ws.data(), dim);
      first->step(wr.data(), deltas[t].data(), wr.data(), dim);
    }
    const std::vector<char> saved = first->save_state();
    first.reset();
    // A fresh optimizer from a config with other hyperparameters' values is fine too: only
    // the state moves; here the same config, as a resumed run would have.
    auto resumed = make_server_optimizer(cfg, dim);
    resumed->load_state(saved.data(), saved.size());
    CHECK(resumed->save_state() == saved);
    for (int t = 2; t < 5; ++t) {
      straight->step(ws.data(), deltas[t].data(), ws.data(), dim);
      resumed->step(wr.data(), deltas[t].data(), wr.data(), dim);
    }
    CHECK(std::memcmp(ws.data(), wr.data(), dim * sizeof(float)) == 0);
    CHECK(straight->save_state() == resumed->save_state());
  }
}

TEST_CASE("server optimizer state of one kind or dim does not load into another", "[strategy]") {
  auto adam = make_server_optimizer(server_optimizer_defaults("fedadam"), 4);
  auto yogi = make_server_optimizer(server_optimizer_defaults("fedyogi"), 4);
  auto adam5 = make_server_optimizer(server_optimizer_defaults("fedadam"), 5);
  const std::vector<char> s = adam->save_state();
  CHECK_THROWS_WITH(yogi->load_state(s.data(), s.size()),
                    "server optimizer state: saved by kind 'fedadam', this optimizer is 'fedyogi'");
  CHECK_THROWS_WITH(adam5->load_state(s.data(), s.size()),
                    "server optimizer state: saved for dim 4, this optimizer has dim 5");
  const std::vector<char> garbage(40, 'x');
  CHECK_THROWS_WITH(adam->load_state(garbage.data(), garbage.size()),
                    "server optimizer state: bad magic (not a server optimizer state)");
  CHECK_THROWS_AS(adam->load_state(s.data(), s.size() - 1), std::invalid_argument);
}

TEST_CASE("server optimizer kinds registered at run time build by name", "[strategy]") {
  register_sign_sgd();
  const std::vector<std::string> kinds = server_optimizer_kinds();
  CHECK(std::find(kinds.begin(), kinds.end(), "test_sign_sgd") != kinds.end());
  const server_optimizer_config cfg = server_optimizer_defaults("test_sign_sgd");
  CHECK(cfg.kind == "test_sign_sgd");
  CHECK(cfg.server_lr == 0.25);
  // (1, 1, 1) + 0.25·sign(0.5, −2, 0) = (1.25, 0.75, 1)
  auto opt = make_server_optimizer(cfg, 3);
  const std::vector<float> w = {1, 1, 1};
  const std::vector<float> d = {0.5f, -2.0f, 0.0f};
  std::vector<float> next(3);
  opt->step(w.data(), d.data(), next.data(), 3);
  CHECK(next == std::vector<float>{1.25f, 0.75f, 1.0f});
  // The kind's own check runs after the key checks.
  server_optimizer_config bad = cfg;
  bad.server_lr = 2;
  CHECK_THROWS_WITH(make_server_optimizer(bad, 3), "strategy.server_lr must be <= 1");
  bad.server_lr = 0;
  CHECK_THROWS_WITH(make_server_optimizer(bad, 3),
                    "strategy.server_lr must be a finite number > 0, got 0");
}

TEST_CASE("server optimizer registry works from static initialisation", "[strategy]") {
  CHECK(registered_at_startup);
  CHECK(find_server_optimizer("test_startup").has_value());
  const std::vector<std::string> kinds = server_optimizer_kinds();
  CHECK(std::vector<std::string>(kinds.begin(), kinds.begin() + builtin.size()) == builtin);
  for (const auto& kind : builtin) CHECK_FALSE(server_optimizer_keys(kind).empty());
}

TEST_CASE("server optimizer registration refuses a duplicate, an empty name or no factory",
          "[strategy]") {
  register_sign_sgd();
  server_optimizer_info info;
  info.kind = "test_sign_sgd";
  info.make = [](const server_optimizer_config& cfg, size_t dim) {
    return std::make_unique<sign_sgd>(cfg.server_lr, dim);
  };
  CHECK_THROWS_WITH(register_server_optimizer(info),
                    "register_server_optimizer: kind 'test_sign_sgd' is already registered");
  info.kind = "sgd";
  CHECK_THROWS_WITH(register_server_optimizer(info),
                    "register_server_optimizer: kind 'sgd' is already registered");
  info.kind = "";
  CHECK_THROWS_WITH(register_server_optimizer(info), "register_server_optimizer: empty kind name");
  info.kind = "test_no_factory";
  info.make = nullptr;
  CHECK_THROWS_WITH(register_server_optimizer(info),
                    "register_server_optimizer: kind 'test_no_factory' has no make function");
  CHECK_FALSE(find_server_optimizer("test_no_factory").has_value());
}

TEST_CASE("server optimizer docs have a section per kind naming its keys", "[strategy]") {
  const std::string doc = read_file(FEDACTOR_SOURCE_DIR + "/docs/strategies.md");
  REQUIRE_FALSE(doc.empty());
  for (const auto& kind : builtin) {
    INFO(kind);
    const std::string heading = "### `" + kind + "`";
    const size_t at = doc.find(heading);
    REQUIRE(at != std::string::npos);
    const size_t end = doc.find("\n### ", at + heading.size());
    const std::string section = doc.substr(at, end == std::string::npos ? end : end - at);
    for (const auto& key : server_optimizer_keys(kind)) {
      INFO(key);
      CHECK(section.find("`" + key + "`") != std::string::npos);
    }
  }
  CHECK(doc.find("`" + std::string(server_optimizer_kind_key) + "`") != std::string::npos);
}
