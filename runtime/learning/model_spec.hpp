#pragma once

// Shape of a model and its flat parameter layout, without LibTorch.
//
// - mlp: in → hidden… → classes with ReLU between layers. Flat layout, layer by layer:
//   weight [out × in] row-major, then bias [out] — the order of torch::nn::Linear's
//   parameters(), so flat vectors and LibTorch modules map one to one.
// - cnn: the NIID-Bench "simple CNN" on a C×H×W input: conv 6@5×5 → ReLU → max-pool 2 →
//   conv 16@5×5 → ReLU → max-pool 2 → fc 120 → ReLU → fc 84 → ReLU → fc classes. Flat
//   layout: conv1.weight [6×C×5×5], conv1.bias, conv2.weight [16×6×5×5], conv2.bias,
//   fc1.weight [120×flat], fc1.bias, fc2…, fc3… (module parameters() order).
// - torchscript: a TorchScript module file; its parameters (shapes read from the file, see
//   torchscript_spec() in local_training.hpp) in the module's parameters() order.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/scenario/scenario.hpp"

namespace fedactor {

struct model_spec {
  uint32_t inputs = 32;  // values per sample (product of input_shape)
  std::vector<uint32_t> hidden = {64};
  uint32_t classes = 10;
  model_kind kind = model_kind::mlp;
  // Per-sample input shape the model sees, e.g. {1, 28, 28}; empty = {inputs}.
  std::vector<int64_t> input_shape = {};
  std::string path = {};  // torchscript: the module file
  // torchscript: the shapes of the module's parameters, in parameters() order.
  std::vector<std::vector<int64_t>> param_shapes = {};

  // mlp: layer widths including input and output: {inputs, hidden..., classes}.
  std::vector<uint32_t> widths() const;
  // The shape a batch of n samples is viewed as before the forward pass: {n, input dims…}.
  std::vector<int64_t> batch_shape(int64_t n) const;
  // Shapes of the parameters in flat order (every kind).
  std::vector<std::vector<int64_t>> shapes() const;
  size_t num_params() const;

  bool operator==(const model_spec& other) const {
    return inputs == other.inputs && hidden == other.hidden && classes == other.classes &&
           kind == other.kind && input_shape == other.input_shape && path == other.path &&
           param_shapes == other.param_shapes;
  }
};

// The NIID-Bench simple CNN for a C×H×W input (throws std::invalid_argument if the image
// is too small for two 5×5 convolutions and two 2×2 poolings).
model_spec cnn_spec(std::vector<int64_t> input_shape, uint32_t classes);

// The initial global model, a function of the seed:
// - mlp and cnn: PyTorch's default initialisation (weights and biases uniform in
//   ±1/sqrt(fan_in), fan_in = inputs of a Linear, in_channels·k·k of a Conv2d), drawn from
//   the seeded stream.
// - torchscript: the parameters stored in the file (the seed is not used).
std::vector<float> initial_params(const model_spec& spec, uint64_t seed);

}  // namespace fedactor
