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

struct local_train_config {
  uint32_t epochs = 1;
  uint32_t batch_size = 32;
  double lr = 0.01;
  double momentum = 0.9;
  uint64_t shuffle_seed = 0;  // batch order; a fresh permutation per epoch
};

struct local_train_result {
  std::vector<float> params;  // model after training (flat_size() values, buffers included)
  uint32_t num_samples = 0;
  double mean_loss = 0;  // mean over all batches of all epochs
};

struct evaluation {
  double loss = 0;      // mean cross-entropy per sample
  double accuracy = 0;  // fraction classified correctly
  uint32_t samples = 0;
};

class local_trainer {
 public:
  explicit local_trainer(const model_spec& spec);
  ~local_trainer();
  local_trainer(const local_trainer&) = delete;
  local_trainer& operator=(const local_trainer&) = delete;

  // Trains from `start` (spec.flat_size() values) on `data`. Throws std::exception
  // (LibTorch's c10::Error among them) on failure; callers catch at the actor boundary.
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
