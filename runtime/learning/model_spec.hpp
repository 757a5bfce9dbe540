#pragma once

// Shape of a model and its flat layout, without LibTorch.
//
// The flat model vector — the one the whole runtime passes around, averages and saves — is
// the model's trainable parameters, then its federated buffers: flat_size() values, of which
// the first num_params() are parameters.
//
// - mlp: in → hidden… → classes with ReLU between layers. Flat layout, layer by layer:
//   weight [out × in] row-major, then bias [out] — the order of torch::nn::Linear's
//   parameters(), so flat vectors and LibTorch modules map one to one. No buffers.
// - cnn: the NIID-Bench "simple CNN" on a C×H×W input: conv 6@5×5 → ReLU → max-pool 2 →
//   conv 16@5×5 → ReLU → max-pool 2 → fc 120 → ReLU → fc 84 → ReLU → fc classes. Flat
//   layout: conv1.weight [6×C×5×5], conv1.bias, conv2.weight [16×6×5×5], conv2.bias,
//   fc1.weight [120×flat], fc1.bias, fc2…, fc3… (module parameters() order). No buffers.
// - torchscript: a TorchScript module file (torchscript_spec() in local_training.hpp): its
//   parameters in the module's parameters() order, then its buffers in named_buffers() order
//   (e.g. a BatchNorm's running_mean, running_var, num_batches_tracked), by these rules:
//   * floating-point buffers (any precision) are carried as float32 and averaged like the
//     parameters (sample-weighted: the running statistics of the global model are the
//     weighted mean of the clients');
//   * an int64 buffer named num_batches_tracked is carried as a float (exact up to 2^24
//     batches), averaged like the rest, and rounded to the nearest integer (halves away from
//     zero) whenever it is put into a module (training, evaluation, model.pt). Averaging keeps
//     the flat vector one homogeneous float array that the exact accumulator and every server
//     optimizer already handle; the count only matters to BatchNorm with momentum=None (a
//     cumulative average), where the mean count of the clients is the sensible weight;
//   * every other buffer (bool, other integers, complex) is not federated: it is not in the
//     flat vector, every load of a flat vector resets it to the file's value (so no client
//     sees another's, and results do not depend on which trainer ran whom), model.pt keeps
//     the file's value, and unfederated_state() says so for the caller to log once.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/learning/flat_range.hpp"
#include "runtime/scenario/scenario.hpp"

namespace fedactor {

// A buffer of a TorchScript module that is part of the flat model vector.
struct buffer_spec {
  std::string name;            // as named_buffers() gives it, e.g. "bn.running_mean"
  std::vector<int64_t> shape;  // {} for a scalar (one value)
  bool integer = false;        // an int64 num_batches_tracked (rounded when loaded)

  bool operator==(const buffer_spec& other) const {
    return name == other.name && shape == other.shape && integer == other.integer;
  }
};

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
  // torchscript: the federated buffers, in named_buffers() order (mlp, cnn: none).
  std::vector<buffer_spec> buffers = {};
  // torchscript: the buffers that are not federated, "name (dtype shape)", e.g.
  // "mask (Bool [4])", in named_buffers() order.
  std::vector<std::string> unfederated = {};
  // torchscript: the flat ranges of the normalisation layers, for FedBN: every parameter and
  // federated buffer of a submodule whose class is a normalisation layer (is_norm_layer_class:
  // weight, bias, running_mean, running_var, num_batches_tracked), sorted, adjacent ranges
  // merged (valid for extract/overlay). Empty for mlp and cnn.
  std::vector<flat_range> norm_ranges = {};

  // mlp: layer widths including input and output: {inputs, hidden..., classes}.
  std::vector<uint32_t> widths() const;
  // The shape a batch of n samples is viewed as before the forward pass: {n, input dims…}.
  std::vector<int64_t> batch_shape(int64_t n) const;
  // Shapes of the parameters in flat order (every kind); buffers not included.
  std::vector<std::vector<int64_t>> shapes() const;
  // Trainable parameters: the first num_params() values of a flat model vector.
  size_t num_params() const;
  // Values of the federated buffers (0 for mlp and cnn).
  size_t num_buffer_values() const;
  // Length of every flat model vector: num_params() + num_buffer_values(). Equal to
  // num_params() for models without buffers.
  size_t flat_size() const;
  // Where the buffers sit in the flat vector: [num_params(), flat_size()) (empty when none).
  flat_range buffer_range() const { return {num_params(), flat_size()}; }
  // The warning to log once when the model has state fedactor does not federate (names the
  // file and every such buffer); empty when everything is federated.
  std::string unfederated_state() const;

  bool operator==(const model_spec& other) const {
    return inputs == other.inputs && hidden == other.hidden && classes == other.classes &&
           kind == other.kind && input_shape == other.input_shape && path == other.path &&
           param_shapes == other.param_shapes && buffers == other.buffers &&
           unfederated == other.unfederated && norm_ranges == other.norm_ranges;
  }
};

// The NIID-Bench simple CNN for a C×H×W input (throws std::invalid_argument if the image
// is too small for two 5×5 convolutions and two 2×2 poolings).
model_spec cnn_spec(std::vector<int64_t> input_shape, uint32_t classes);

// The initial global model (flat_size() values), a function of the seed:
// - mlp and cnn: PyTorch's default initialisation (weights and biases uniform in
//   ±1/sqrt(fan_in), fan_in = inputs of a Linear, in_channels·k·k of a Conv2d), drawn from
//   the seeded stream.
// - torchscript: the parameters and federated buffers stored in the file (the seed is not
//   used).
std::vector<float> initial_params(const model_spec& spec, uint64_t seed);

// True when a TorchScript class (qualified name, e.g.
// "__torch__.torch.nn.modules.batchnorm.BatchNorm2d", possibly with a "___torch_mangle_N"
// component) is a normalisation layer: its last component is BatchNorm1d/2d/3d,
// SyncBatchNorm, GroupNorm, LayerNorm or InstanceNorm1d/2d/3d. Only the class name counts,
// so a model's own class with one of these names is treated as a normalisation layer too.
bool is_norm_layer_class(const std::string& qualified_name);

}  // namespace fedactor
