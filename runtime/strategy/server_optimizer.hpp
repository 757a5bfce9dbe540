#pragma once

// The server optimizer: what the server does with the aggregated update. After a sync round or
// a FedBuff buffer, the server holds the exact weighted mean of the client deltas (the
// pseudo-gradient Δ = weighted mean of client params − current model, as floats) and asks its
// server optimizer for the next model. Plain FedAvg is `sgd` with server_lr 1; FedAvgM, FedAdam,
// FedYogi and FedAdagrad keep state (momentum, moments) between steps. One interface, one
// optimizer per file, built by kind name from a registry table in server_optimizer.cpp; users of
// the C++ API may subclass server_optimizer and pass their own instance, or register a kind at
// run time. Actor-free; docs/strategies.md has the formulas, keys and defaults.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fedactor {

// The server optimizer settings, as the scenario's strategy.* keys. Each kind reads only some
// of them (server_optimizer_keys()); the others are ignored. The member defaults are not any
// kind's defaults: start from server_optimizer_defaults(kind).
struct server_optimizer_config {
  std::string kind = "sgd";     // strategy.server_optimizer
  double server_lr = 1.0;       // strategy.server_lr       η, the server learning rate
  double momentum = 0.9;        // strategy.momentum        FedAvgM's momentum factor
  double beta1 = 0.9;           // strategy.beta1           first-moment decay (FedOpt family)
  double beta2 = 0.99;          // strategy.beta2           second-moment decay (Adam, Yogi)
  double tau = 1e-3;            // strategy.tau             adaptivity: η·m / (√v + τ)
  bool bias_correction = true;  // strategy.bias_correction Adam's bias-corrected step size
};

bool operator==(const server_optimizer_config& a, const server_optimizer_config& b);
inline bool operator!=(const server_optimizer_config& a, const server_optimizer_config& b) {
  return !(a == b);
}

// The keys a kind may read (the kind key itself, strategy.server_optimizer, is implied).
enum class optimizer_key { server_lr, momentum, beta1, beta2, tau, bias_correction };

// "strategy.server_lr", "strategy.momentum", ...
const char* key_name(optimizer_key k);

// The key that selects the kind.
constexpr const char* server_optimizer_kind_key = "strategy.server_optimizer";

// One step of a server optimizer moves the model by the aggregated pseudo-gradient. Subclass it
// to write your own (docs/strategies.md, "Writing your own server optimizer"). Implementations
// must be deterministic: the same sequence of step() inputs gives the same bytes. Not thread
// safe: one optimizer belongs to one server.
class server_optimizer {
 public:
  virtual ~server_optimizer() = default;

  // The kind name, as registered ("sgd", "fedadam", ...). Written into saved state.
  virtual const char* kind() const = 0;

  // Number of model values the optimizer was built for.
  virtual size_t dim() const = 0;

  // next = current moved by mean_delta, all `dim` values; called once per sync round or
  // FedBuff step, after the exact weighted mean. mean_delta = weighted mean of the client
  // models − current (for FedBuff, Σ wᵢΔᵢ / Σ wᵢ), finite floats. `next` may be the same
  // buffer as `current` or `mean_delta` (values are computed element by element), but must not
  // otherwise overlap them. The built-in optimizers throw std::invalid_argument, changing
  // nothing, when dim != this->dim(). O(dim).
  virtual void step(const float* current, const float* mean_delta, float* next, size_t dim) = 0;

  // The state (step count, moments, ...) as bytes, for checkpoints. Hyperparameters are not
  // part of it (they come from the configuration, so a resumed run may change them).
  virtual std::vector<char> save_state() const = 0;

  // Restores save_state()'s output: the optimizer then continues bit-identically to the one
  // that saved. Throws std::invalid_argument naming what is wrong (not a server optimizer
  // state, another kind, another dim, truncated, trailing bytes, a non-finite or out-of-range
  // value), leaving the optimizer unchanged. The built-in state format is in state_bytes.hpp.
  virtual void load_state(const char* data, size_t size) = 0;
};

// A bad setting: the key and what is wrong with its value. message() is one line, e.g.
// "strategy.beta1 must be in [0, 1), got 1".
struct server_optimizer_config_error {
  std::string key;
  std::string what;
  std::string message() const { return key + " " + what; }
};

// Everything the registry knows about a kind.
struct server_optimizer_info {
  std::string kind;                  // the name in strategy.server_optimizer
  std::string summary;               // one line for docs and --help
  std::vector<optimizer_key> keys;   // the settings the kind reads (validated, documented)
  server_optimizer_config defaults;  // this kind's defaults (kind field = kind)
  // Optional checks across keys, beyond each key's own range: nullopt when fine.
  std::function<std::optional<server_optimizer_config_error>(const server_optimizer_config&)> check;
  // Builds an optimizer for a validated config and dim >= 1.
  std::function<std::unique_ptr<server_optimizer>(const server_optimizer_config&, size_t dim)> make;
};

// The registered kind names: the built-in ones in table order (sgd, fedavgm, fedadam, fedyogi,
// fedadagrad), then those added with register_server_optimizer(), in order. Thread safe.
std::vector<std::string> server_optimizer_kinds();

// The info of a registered kind; nullopt for an unknown kind. Thread safe.
std::optional<server_optimizer_info> find_server_optimizer(const std::string& kind);

// The defaults of a kind (kind field set). Throws std::invalid_argument for an unknown kind.
server_optimizer_config server_optimizer_defaults(const std::string& kind);

// The key names a kind reads, e.g. {"strategy.server_lr", "strategy.momentum"} for fedavgm.
// Throws std::invalid_argument for an unknown kind.
std::vector<std::string> server_optimizer_keys(const std::string& kind);

// Checks `keys` of cfg, each against its own range, first bad key first:
//   strategy.server_lr        finite, > 0
//   strategy.momentum         in [0, 1)
//   strategy.beta1            in [0, 1)
//   strategy.beta2            in [0, 1)
//   strategy.tau              finite, > 0
//   strategy.bias_correction  any
std::optional<server_optimizer_config_error> validate_keys(const server_optimizer_config& cfg,
                                                           const std::vector<optimizer_key>& keys);

// nullopt when cfg names a registered kind and every key that kind reads is in range (and its
// own check passes); else the first problem, e.g. {"strategy.server_optimizer", "must be one
// of: sgd, fedavgm, ..., got 'adam'"}. Thread safe.
std::optional<server_optimizer_config_error> validate(const server_optimizer_config& cfg);

// The optimizer cfg.kind names, for a model of `dim` values, in its initial state. Throws
// std::invalid_argument with validate()'s message for a bad config, or for dim 0. Thread safe.
std::unique_ptr<server_optimizer> make_server_optimizer(const server_optimizer_config& cfg,
                                                        size_t dim);

// Adds a kind at run time (for C++ users who want a scenario to name their own optimizer).
// Throws std::invalid_argument when info.kind is empty or already registered, or info.make is
// empty. info.defaults.kind is set to info.kind. Thread safe.
void register_server_optimizer(server_optimizer_info info);

}  // namespace fedactor
