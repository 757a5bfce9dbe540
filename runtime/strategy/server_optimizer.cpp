#include "runtime/strategy/server_optimizer.hpp"

#include <charconv>
#include <cmath>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "runtime/strategy/fedadagrad.hpp"
#include "runtime/strategy/fedadam.hpp"
#include "runtime/strategy/fedavgm.hpp"
#include "runtime/strategy/fedyogi.hpp"
#include "runtime/strategy/sgd.hpp"

namespace fedactor {

namespace {

// The built-in kinds, in the order server_optimizer_kinds() lists them. A new optimizer is its
// own file pair (kind.hpp/.cpp with a kind_info() function), its #include above and one line
// here.
std::vector<server_optimizer_info> builtin_kinds() {
  return {
      sgd_info(), fedavgm_info(), fedadam_info(), fedyogi_info(), fedadagrad_info(),
  };
}

struct registry {
  std::mutex mutex;
  std::vector<server_optimizer_info> kinds = builtin_kinds();
};

registry& the_registry() {
  static registry r;  // built on first use (thread-safe initialisation)
  return r;
}

// Shortest text that reads back as the same double ("1e-09", "0.9", "nan").
std::string number_text(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::optional<server_optimizer_config_error> check_key(const server_optimizer_config& cfg,
                                                       optimizer_key k) {
  auto positive = [&](double v) -> std::optional<server_optimizer_config_error> {
    if (std::isfinite(v) && v > 0) return std::nullopt;
    return server_optimizer_config_error{key_name(k),
                                         "must be a finite number > 0, got " + number_text(v)};
  };
  auto unit = [&](double v) -> std::optional<server_optimizer_config_error> {
    if (v >= 0 && v < 1) return std::nullopt;  // false for NaN
    return server_optimizer_config_error{key_name(k), "must be in [0, 1), got " + number_text(v)};
  };
  switch (k) {
    case optimizer_key::server_lr:
      return positive(cfg.server_lr);
    case optimizer_key::momentum:
      return unit(cfg.momentum);
    case optimizer_key::beta1:
      return unit(cfg.beta1);
    case optimizer_key::beta2:
      return unit(cfg.beta2);
    case optimizer_key::tau:
      return positive(cfg.tau);
    case optimizer_key::bias_correction:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

bool operator==(const server_optimizer_config& a, const server_optimizer_config& b) {
  return a.kind == b.kind && a.server_lr == b.server_lr && a.momentum == b.momentum &&
         a.beta1 == b.beta1 && a.beta2 == b.beta2 && a.tau == b.tau &&
         a.bias_correction == b.bias_correction;
}

const char* key_name(optimizer_key k) {
  switch (k) {
    case optimizer_key::server_lr:
      return "strategy.server_lr";
    case optimizer_key::momentum:
      return "strategy.momentum";
    case optimizer_key::beta1:
      return "strategy.beta1";
    case optimizer_key::beta2:
      return "strategy.beta2";
    case optimizer_key::tau:
      return "strategy.tau";
    case optimizer_key::bias_correction:
      return "strategy.bias_correction";
  }
  return "strategy.?";
}

std::vector<std::string> server_optimizer_kinds() {
  registry& r = the_registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::vector<std::string> out;
  out.reserve(r.kinds.size());
  for (const auto& k : r.kinds) out.push_back(k.kind);
  return out;
}

std::optional<server_optimizer_info> find_server_optimizer(const std::string& kind) {
  registry& r = the_registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (const auto& k : r.kinds)
    if (k.kind == kind) return k;
  return std::nullopt;
}

namespace {

server_optimizer_info require_kind(const std::string& kind) {
  auto info = find_server_optimizer(kind);
  if (!info) throw std::invalid_argument(validate(server_optimizer_config{kind})->message());
  return std::move(*info);
}

}  // namespace

server_optimizer_config server_optimizer_defaults(const std::string& kind) {
  return require_kind(kind).defaults;
}

std::vector<std::string> server_optimizer_keys(const std::string& kind) {
  std::vector<std::string> out;
  for (optimizer_key k : require_kind(kind).keys) out.emplace_back(key_name(k));
  return out;
}

std::optional<server_optimizer_config_error> validate_keys(const server_optimizer_config& cfg,
                                                           const std::vector<optimizer_key>& keys) {
  for (optimizer_key k : keys)
    if (auto e = check_key(cfg, k)) return e;
  return std::nullopt;
}

std::optional<server_optimizer_config_error> validate(const server_optimizer_config& cfg) {
  auto info = find_server_optimizer(cfg.kind);
  if (!info) {
    std::string allowed;
    for (const auto& k : server_optimizer_kinds()) allowed += (allowed.empty() ? "" : ", ") + k;
    return server_optimizer_config_error{server_optimizer_kind_key,
                                         "must be one of: " + allowed + ", got '" + cfg.kind + "'"};
  }
  if (auto e = validate_keys(cfg, info->keys)) return e;
  if (info->check) return info->check(cfg);
  return std::nullopt;
}

std::unique_ptr<server_optimizer> make_server_optimizer(const server_optimizer_config& cfg,
                                                        size_t dim) {
  if (auto e = validate(cfg)) throw std::invalid_argument(e->message());
  if (dim == 0)
    throw std::invalid_argument("server optimizer " + cfg.kind +
                                ": the model must have at least one value");
  auto info = require_kind(cfg.kind);
  auto opt = info.make(cfg, dim);
  if (!opt)
    throw std::invalid_argument("server optimizer " + cfg.kind + ": its factory built nothing");
  return opt;
}

void register_server_optimizer(server_optimizer_info info) {
  if (info.kind.empty()) throw std::invalid_argument("register_server_optimizer: empty kind name");
  if (!info.make)
    throw std::invalid_argument("register_server_optimizer: kind '" + info.kind +
                                "' has no make function");
  info.defaults.kind = info.kind;
  registry& r = the_registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (const auto& k : r.kinds)
    if (k.kind == info.kind)
      throw std::invalid_argument("register_server_optimizer: kind '" + info.kind +
                                  "' is already registered");
  r.kinds.push_back(std::move(info));
}

}  // namespace fedactor
