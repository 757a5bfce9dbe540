// TorchScript modules as fedactor models (see torchscript_module.hpp).

#include "runtime/learning/torchscript_module.hpp"

#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include <torch/torch.h>

#include "runtime/learning/local_training.hpp"

namespace fedactor {

std::string first_line(const char* what) {
  std::string s = what;
  return s.substr(0, s.find('\n'));
}

torch::jit::Module load_script(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw std::runtime_error(path + ": no such TorchScript file");
  try {
    return torch::jit::load(path);
  } catch (const c10::Error& e) {
    throw std::runtime_error(path + ": not a readable TorchScript module (" +
                             first_line(e.what_without_backtrace()) + ")");
  }
}

std::vector<torch::Tensor> script_parameters(const torch::jit::Module& m) {
  std::vector<torch::Tensor> out;
  for (const auto& p : m.parameters()) out.push_back(p);
  return out;
}

buffer_role role_of(const std::string& name, const torch::Tensor& t) {
  if (t.is_floating_point()) return buffer_role::floating;
  const auto dot = name.rfind('.');
  const bool counter_name =
      (dot == std::string::npos ? name : name.substr(dot + 1)) == "num_batches_tracked";
  if (counter_name && t.scalar_type() == torch::kInt64) return buffer_role::counter;
  return buffer_role::unfederated;
}

// A count put into an int64 buffer: the nearest integer, halves away from zero.
int64_t count_of(float v, const std::string& name) {
  if (!std::isfinite(v) || std::fabs(v) >= 9.2e18f)
    throw std::invalid_argument("buffer " + name + " holds " + std::to_string(v) + ", not a count");
  return static_cast<int64_t>(std::llround(v));
}

// The flat ranges of every parameter and federated buffer inside a normalisation submodule
// (model_spec::norm_ranges), sorted, adjacent ones merged.
std::vector<flat_range> norm_ranges_of(const torch::jit::Module& module) {
  std::vector<std::string> prefixes;  // "bn." for submodule bn; "" when the root is one
  for (const auto& m : module.named_modules()) {
    const auto type_name = m.value.type()->name();
    if (type_name && is_norm_layer_class(type_name->qualifiedName()))
      prefixes.push_back(m.name.empty() ? std::string() : m.name + ".");
  }
  auto in_norm = [&prefixes](const std::string& name) {
    for (const auto& p : prefixes)
      if (name.compare(0, p.size(), p) == 0) return true;
    return false;
  };
  std::vector<flat_range> out;
  size_t offset = 0;
  auto visit = [&](const std::string& name, const torch::Tensor& t) {
    const auto n = static_cast<size_t>(t.numel());
    if (n > 0 && in_norm(name)) {
      if (!out.empty() && out.back().end == offset)
        out.back().end = offset + n;
      else
        out.push_back({offset, offset + n});
    }
    offset += n;
  };
  for (const auto& p : module.named_parameters()) visit(p.name, p.value);
  for (const auto& b : module.named_buffers())
    if (role_of(b.name, b.value) != buffer_role::unfederated) visit(b.name, b.value);
  return out;
}

model_spec torchscript_spec(const std::string& path, uint32_t inputs,
                            std::vector<int64_t> input_shape, uint32_t classes) {
  model_spec spec;
  spec.kind = model_kind::torchscript;
  spec.hidden = {};
  spec.inputs = inputs;
  spec.input_shape = std::move(input_shape);
  spec.classes = classes;
  spec.path = path;
  auto module = load_script(path);
  for (const auto& p : module.parameters()) {
    if (p.scalar_type() != torch::kFloat32)
      throw std::runtime_error(path + ": parameters must be float32");
    spec.param_shapes.push_back(p.sizes().vec());
  }
  if (spec.param_shapes.empty()) throw std::runtime_error(path + ": the module has no parameters");
  for (const auto& b : module.named_buffers()) {
    const auto role = role_of(b.name, b.value);
    if (role == buffer_role::unfederated)
      spec.unfederated.push_back(b.name + " (" + c10::toString(b.value.scalar_type()) + " " +
                                 c10::str(b.value.sizes()) + ")");
    else
      spec.buffers.push_back({b.name, b.value.sizes().vec(), role == buffer_role::counter});
  }
  spec.norm_ranges = norm_ranges_of(module);
  const auto batch = spec.batch_shape(1);
  torch::Tensor out;
  try {
    torch::NoGradGuard guard;
    module.eval();
    out = module.forward({torch::zeros(batch)}).toTensor();
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": forward on a " + c10::str(c10::IntArrayRef(batch)) +
                             " input failed (" + first_line(e.what()) + ")");
  }
  if (out.dim() != 2 || out.size(0) != 1 || out.size(1) != classes)
    throw std::runtime_error(path + ": forward on a " + c10::str(c10::IntArrayRef(batch)) +
                             " input gives " + c10::str(out.sizes()) + ", expected [1, " +
                             std::to_string(classes) + "]");
  return spec;
}

std::vector<float> load_torchscript_params(const std::string& path) {
  auto module = load_script(path);
  std::vector<float> out;
  auto append = [&out](const torch::Tensor& t) {
    auto c = t.detach().to(torch::kFloat32).contiguous();
    out.insert(out.end(), c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  };
  for (const auto& p : module.parameters()) append(p);
  for (const auto& b : module.named_buffers())
    if (role_of(b.name, b.value) != buffer_role::unfederated) append(b.value);
  return out;
}

}  // namespace fedactor
