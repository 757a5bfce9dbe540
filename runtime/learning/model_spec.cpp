// Flat layouts of the built-in models, their seeded initialisation, and the few rules about
// TorchScript state that need no LibTorch.

#include "runtime/learning/model_spec.hpp"

#include <cmath>
#include <stdexcept>

#include "runtime/learning/local_training.hpp"
#include "runtime/math/rng.hpp"

namespace fedactor {

namespace {

constexpr int64_t conv_kernel = 5;
constexpr int64_t conv1_out = 6;
constexpr int64_t conv2_out = 16;
constexpr int64_t fc1_out = 120;
constexpr int64_t fc2_out = 84;

// Side of an image after a valid 5×5 convolution and a 2×2 max-pool (floor).
int64_t conv_pool(int64_t side) {
  return (side - conv_kernel + 1) / 2;
}

int64_t product(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

}  // namespace

std::vector<uint32_t> model_spec::widths() const {
  std::vector<uint32_t> w;
  w.reserve(hidden.size() + 2);
  w.push_back(inputs);
  w.insert(w.end(), hidden.begin(), hidden.end());
  w.push_back(classes);
  return w;
}

std::vector<int64_t> model_spec::batch_shape(int64_t n) const {
  std::vector<int64_t> out{n};
  if (input_shape.empty() || kind == model_kind::mlp) {
    out.push_back(inputs);
  } else {
    out.insert(out.end(), input_shape.begin(), input_shape.end());
  }
  return out;
}

std::vector<std::vector<int64_t>> model_spec::shapes() const {
  std::vector<std::vector<int64_t>> out;
  switch (kind) {
    case model_kind::mlp: {
      auto w = widths();
      for (size_t l = 0; l + 1 < w.size(); ++l) {
        out.push_back({w[l + 1], w[l]});
        out.push_back({w[l + 1]});
      }
      break;
    }
    case model_kind::cnn: {
      if (input_shape.size() != 3)
        throw std::invalid_argument("cnn needs a C×H×W input shape, got " +
                                    std::to_string(input_shape.size()) + " dimensions");
      const int64_t c = input_shape[0];
      const int64_t h = conv_pool(conv_pool(input_shape[1]));
      const int64_t w = conv_pool(conv_pool(input_shape[2]));
      if (h < 1 || w < 1)
        throw std::invalid_argument("cnn input " + std::to_string(input_shape[1]) + "x" +
                                    std::to_string(input_shape[2]) +
                                    " is too small (at least 16x16)");
      const int64_t k = conv_kernel;
      out = {{conv1_out, c, k, k},         {conv1_out}, {conv2_out, conv1_out, k, k}, {conv2_out},
             {fc1_out, conv2_out * h * w}, {fc1_out},   {fc2_out, fc1_out},           {fc2_out},
             {classes, fc2_out},           {classes}};
      break;
    }
    case model_kind::torchscript:
      out = param_shapes;
      break;
  }
  return out;
}

size_t model_spec::num_params() const {
  size_t n = 0;
  for (const auto& s : shapes()) n += static_cast<size_t>(product(s));
  return n;
}

size_t model_spec::num_buffer_values() const {
  size_t n = 0;
  for (const auto& b : buffers) n += static_cast<size_t>(product(b.shape));
  return n;
}

size_t model_spec::flat_size() const {
  return num_params() + num_buffer_values();
}

std::string model_spec::unfederated_state() const {
  if (unfederated.empty()) return {};
  std::string out = path + ": " + std::to_string(unfederated.size()) +
                    (unfederated.size() == 1 ? " buffer is" : " buffers are") +
                    " not federated (every client starts from the file's value, model.pt "
                    "keeps it): ";
  for (size_t i = 0; i < unfederated.size(); ++i) out += (i ? ", " : "") + unfederated[i];
  return out;
}

model_spec cnn_spec(std::vector<int64_t> input_shape, uint32_t classes) {
  model_spec spec;
  spec.kind = model_kind::cnn;
  spec.hidden = {};
  spec.classes = classes;
  spec.inputs = static_cast<uint32_t>(product(input_shape));
  spec.input_shape = std::move(input_shape);
  spec.shapes();  // validates the shape
  return spec;
}

std::vector<float> initial_params(const model_spec& spec, uint64_t seed) {
  if (spec.kind == model_kind::torchscript) return load_torchscript_params(spec.path);
  std::vector<float> out;
  out.reserve(spec.flat_size());
  rng r{stream_key(seed, rng_tag::model_init)};
  // Shapes come in (weight, bias) pairs; fan_in = weight elements per output unit.
  auto shapes = spec.shapes();
  for (size_t l = 0; l + 1 < shapes.size(); l += 2) {
    const int64_t weights = product(shapes[l]);
    const int64_t fan_in = weights / shapes[l][0];
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    const int64_t count = weights + product(shapes[l + 1]);
    for (int64_t i = 0; i < count; ++i)
      out.push_back(static_cast<float>((2.0 * r.uniform() - 1.0) * bound));
  }
  return out;
}

bool is_norm_layer_class(const std::string& qualified_name) {
  static const char* const names[] = {"BatchNorm1d",    "BatchNorm2d",    "BatchNorm3d",
                                      "SyncBatchNorm",  "GroupNorm",      "LayerNorm",
                                      "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"};
  const auto dot = qualified_name.rfind('.');
  const std::string base =
      dot == std::string::npos ? qualified_name : qualified_name.substr(dot + 1);
  for (const char* n : names)
    if (base == n) return true;
  return false;
}

}  // namespace fedactor
