#pragma once

// Local training of one client: SGD with momentum over shuffled mini-batches, on a
// LibTorch module built from a model_spec (mlp, cnn, or a TorchScript module loaded from
// its file). One local_trainer per thread: it owns its module and reuses it from task to
// task. LibTorch stays behind this header (pimpl).
//
// Every model vector here is the flat model of model_spec.hpp: spec.flat_size() values,
// parameters then federated buffers. Training runs the module in training mode (a BatchNorm
// updates its running statistics and num_batches_tracked, which come back in the result);
// evaluate() and logits() run it in evaluation mode with the buffers of the given vector.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/learning/client_dataset.hpp"
#include "runtime/learning/model_spec.hpp"

namespace fedactor {

// Client algorithms. Each step with mini-batch gradient g (mean cross-entropy over the batch)
// at model w is, elementwise:
//
//   g̃   = g + μ·(w − w_start)                        (FedProx, inside the gradient)
//   buf = g̃ on the first step, m·buf + g̃ after       (PyTorch's SGD: momentum m, dampening 0,
//   w   ← w − lr·buf                                    no Nesterov, no weight decay)
//   w   ← w − lr·correction                           (SCAFFOLD, after the optimizer's step)
//
// The batched kernels round every operation once, in this order; LibTorch may fuse a multiply
// and an add or sum in another order (the two trainers agree to float rounding, not bits).
// - FedProx (Li et al. 2020): the local objective is F(w) + μ/2·‖w − w_start‖², whose
//   gradient adds μ·(w − w_start); w_start is the model the training started from (the
//   global model) and w the model at the step. The momentum carries the proximal term, as in
//   Flower's FedProx (the term is part of the loss that autograd differentiates);
//   litian96/FedProx's optimizer takes the same step with momentum 0.
// - SCAFFOLD (Karimireddy et al. 2020, Algorithm 1, line 10): y ← y − η_l·(g(y) − c_i + c);
//   the caller passes correction = c − c_i (runtime/strategy/scaffold.hpp). As in NIID-Bench
//   (experiments.py, train_net_scaffold) and Flower's baselines/niid_bench
//   (ScaffoldOptimizer.step_custom), the plain optimizer step comes first and the correction
//   is then subtracted with the same lr, outside the momentum buffer: momentum never carries
//   it, and K steps move the model by K·lr·correction in all (to rounding) on top of the
//   momentum steps. With m = 0 this is the paper's step up to rounding
//   (w − lr·g − lr·(c − c_i) where the paper has w − lr·(g + c − c_i)).
// μ = 0 and correction = nullptr leave the arithmetic untouched: the result has the same bits
// as training without these fields, and a correction of zeros gives the bits of nullptr
// (w − lr·0 = w). The reported loss is the data loss only (without the proximal term).
struct local_train_config {
  uint32_t epochs = 1;
  uint32_t batch_size = 32;
  double lr = 0.01;
  double momentum = 0.9;
  uint64_t shuffle_seed = 0;  // batch order; a fresh permutation per epoch
  // FedProx's μ: finite, ≥ 0 and representable as a float (the step computes in float).
  double prox_mu = 0;
  // SCAFFOLD's c − c_i: spec.num_params() values in the flat parameter order, or nullptr for
  // none. Must stay valid for the duration of the training call.
  const float* correction = nullptr;
};

struct local_train_result {
  std::vector<float> params;  // model after training (flat_size() values, buffers included)
  uint32_t num_samples = 0;
  double mean_loss = 0;  // mean data loss over all batches of all epochs
  uint32_t steps = 0;    // optimizer steps taken: batches per epoch × epochs (SCAFFOLD's K)
};

struct evaluation {
  double loss = 0;      // mean cross-entropy per sample
  double accuracy = 0;  // fraction classified correctly
  uint32_t samples = 0;
};

// Why `cfg` cannot train a client of `samples` > 0 samples, or empty when it can: zero batch
// size or epochs ("empty training"), a bad prox_mu, or more than 2^32 − 1 steps. Shared by
// local_trainer and batched_trainer.
std::string check_train_config(const local_train_config& cfg, uint32_t samples);

// The optimizer steps of such a training: ceil(samples / batch_size) × epochs (the caller has
// checked cfg).
uint32_t local_steps(const local_train_config& cfg, uint32_t samples);

class local_trainer {
 public:
  explicit local_trainer(const model_spec& spec);
  ~local_trainer();
  local_trainer(const local_trainer&) = delete;
  local_trainer& operator=(const local_trainer&) = delete;

  // Trains from `start` (spec.flat_size() values: parameters, then federated buffers) on
  // `data`. Throws std::invalid_argument for a wrong-size model, mismatched or empty data, zero
  // batch size or epochs, a prox_mu that is negative, not finite or beyond float range, or more
  // than 2^32 − 1 steps; other std::exception (LibTorch's c10::Error among them) on failure;
  // callers catch at the actor boundary. The proximal term reads w_start from `start` (no copy);
  // it and the correction cover the parameters only (buffers have no gradient).
  local_train_result train(const std::vector<float>& start, const client_dataset& data,
                           const local_train_config& cfg);

  // Loss and accuracy of `params` (flat_size() values) on `data` (in batches, no gradients,
  // evaluation mode: normalisation layers use the running statistics in `params`).
  evaluation evaluate(const std::vector<float>& params, const client_dataset& data);

  // The model's outputs on `data`: size() rows of spec().classes logits, row-major.
  std::vector<float> logits(const std::vector<float>& params, const client_dataset& data);

  const model_spec& spec() const { return spec_; }

 private:
  struct impl;
  model_spec spec_;
  std::unique_ptr<impl> impl_;
};

// Keeps LibTorch's and OpenBLAS's own thread pools at one thread: the runtime runs one
// trainer per core and needs results that do not depend on the thread count.
void limit_math_threads();

// Writes a flat model vector (flat_size() values) as model.pt:
// - mlp: torch::save of an nn::Sequential of Linear/ReLU layers ("0.weight", "0.bias",
//   "2.weight", …); load with torch::load into the same Sequential.
// - cnn: torch::save of the simple CNN module ("conv1.weight", "conv1.bias", "conv2.*",
//   "fc1.*", "fc2.*", "fc3.*", the parameter names of NIID-Bench's SimpleCNNMNIST); load with
//   torch::load into the same module, or read the named tensors with torch::jit::load.
// - torchscript: the TorchScript module of model.path with the trained parameters and the
//   federated buffers (running statistics; num_batches_tracked rounded to the nearest
//   integer; unfederated buffers keep the file's values), saved with Module::save; load with
//   torch::jit::load (C++) or torch.jit.load (Python).
void save_model_pt(const model_spec& spec, const std::vector<float>& params,
                   const std::string& path);

// Reads such a file back into a flat model vector, buffers included (for tests and tools).
std::vector<float> load_model_pt(const model_spec& spec, const std::string& path);

// A torchscript model_spec: reads the module in `path`, records its parameter shapes, its
// buffers (federated or not, by the rules of model_spec.hpp) and the flat ranges of its
// normalisation layers (submodules whose class is_norm_layer_class), and checks that a batch
// shaped {1, input_shape…} (or {1, inputs} when input_shape is empty) gives {1, classes}
// logits. Throws std::runtime_error naming the file on failure.
model_spec torchscript_spec(const std::string& path, uint32_t inputs,
                            std::vector<int64_t> input_shape, uint32_t classes);

// The flat model stored in a TorchScript file: its parameters in parameters() order, then its
// federated buffers in named_buffers() order (as float32).
std::vector<float> load_torchscript_params(const std::string& path);

}  // namespace fedactor
