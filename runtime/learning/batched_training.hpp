#pragma once

// Batched local training: the local SGD of many clients of an MLP model in one call, with
// hand-vectorised kernels in plain C++ (no LibTorch). Each client is trained exactly as
// local_trainer::train does (same batch order, same loss, SGD with PyTorch's momentum
// rule), equal to it within float rounding (1e-5 relative), and its result is
// bit-identical whatever other clients share the call, in which order, and whatever CPU
// code path (generic x86-64, AVX2, AVX-512) runs it: every value is computed by the same
// sequence of float operations, with no fused multiply-add and no reordered sums. The client
// algorithms of local_train_config enter each step as there, in the same pass over the
// parameters and each operation rounded once: FedProx's prox_mu in the gradient,
// g̃ = g + μ·(w − w_start), before the momentum rule; SCAFFOLD's correction after it,
// w ← (w + (−lr)·buf) + (−lr)·correction, outside the momentum buffer (a correction is
// converted to the kernels' layout once per job). Without them the step is the plain one,
// operation for operation, so the default configuration gives the same bits as before they
// existed (tests/runtime/learning/batched_training_test.cpp pins them).
// docs/performance.md explains why this beats stacked LibTorch batched matrix products.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/learning/client_dataset.hpp"
#include "runtime/learning/local_training.hpp"
#include "runtime/learning/model_spec.hpp"

namespace fedactor {

// One client's training job. The pointers (cfg.correction too) must stay valid for the
// duration of train().
struct batched_job {
  const std::vector<float>* start = nullptr;  // spec.num_params() values
  const client_dataset* data = nullptr;
  local_train_config cfg;
};

// The outcome of one job: the result, or why the job could not run (error non-empty).
struct batched_outcome {
  local_train_result result;
  std::string error;
  bool ok() const { return error.empty(); }
};

namespace detail {
struct batched_state;  // the kernels' buffers (batched_training.cpp)
}  // namespace detail

// Which instruction set the kernels use.
enum class kernel_isa { generic, avx2, avx512 };
const char* to_string(kernel_isa isa);

// The best kernel_isa this CPU supports.
kernel_isa best_kernel_isa();

class batched_trainer {
 public:
  // True when the batched kernels can train `spec` (the MLP family: Linear layers with
  // ReLU between them). Other models go through local_trainer.
  static bool supports(const model_spec& spec);

  // Throws std::invalid_argument when !supports(spec). `isa` selects a code path below
  // the best one (for tests and benchmarks); the result does not depend on it.
  explicit batched_trainer(const model_spec& spec, kernel_isa isa = best_kernel_isa());
  ~batched_trainer();
  batched_trainer(const batched_trainer&) = delete;
  batched_trainer& operator=(const batched_trainer&) = delete;

  // Trains every job; outcome i belongs to job i. A bad job (wrong model size, feature
  // count, no samples, zero batch size or epochs, a bad prox_mu: see check_train_config)
  // gets an error and does not affect the others. Never throws for a bad job; throws
  // std::bad_alloc when memory runs out.
  std::vector<batched_outcome> train(const std::vector<batched_job>& jobs);

  // One job (same arithmetic as in a batch). Throws std::invalid_argument for a bad job.
  local_train_result train_one(const std::vector<float>& start, const client_dataset& data,
                               const local_train_config& cfg);

  const model_spec& spec() const { return spec_; }
  kernel_isa isa() const { return isa_; }

 private:
  // train_one without the checks (the job has passed check_job).
  local_train_result train_checked(const std::vector<float>& start, const client_dataset& data,
                                   const local_train_config& cfg);

  model_spec spec_;
  kernel_isa isa_;
  std::unique_ptr<detail::batched_state> impl_;
};

}  // namespace fedactor
