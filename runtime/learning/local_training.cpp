// Local SGD and evaluation on LibTorch modules: the MLP, the simple CNN and TorchScript
// modules, all seen through one small wrapper that maps the module's parameters and
// federated buffers to and from the flat model vector (layout and rules: model_spec.hpp).

#include "runtime/learning/local_training.hpp"

#include <dlfcn.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <numeric>
#include <optional>
#include <stdexcept>

#include <torch/script.h>
#include <torch/torch.h>

#include "runtime/learning/torchscript_module.hpp"
#include "runtime/math/rng.hpp"

namespace fedactor {

namespace {

// Rows per forward pass in evaluate(): bounds the activations' memory.
constexpr int64_t eval_batch = 1024;

torch::nn::Sequential build_mlp(const model_spec& spec) {
  torch::nn::Sequential seq;
  auto w = spec.widths();
  for (size_t l = 0; l + 1 < w.size(); ++l) {
    seq->push_back(torch::nn::Linear(w[l], w[l + 1]));
    if (l + 2 < w.size()) seq->push_back(torch::nn::ReLU());
  }
  return seq;
}

// NIID-Bench's SimpleCNNMNIST: same layers, same parameter names.
struct SimpleCnnImpl : torch::nn::Module {
  SimpleCnnImpl(int64_t channels, int64_t flat, int64_t classes)
      : conv1(
            register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, 6, 5)))),
        conv2(register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(6, 16, 5)))),
        fc1(register_module("fc1", torch::nn::Linear(flat, 120))),
        fc2(register_module("fc2", torch::nn::Linear(120, 84))),
        fc3(register_module("fc3", torch::nn::Linear(84, classes))) {}

  torch::Tensor forward(torch::Tensor x) {
    x = torch::max_pool2d(torch::relu(conv1->forward(x)), 2);
    x = torch::max_pool2d(torch::relu(conv2->forward(x)), 2);
    x = x.flatten(1);
    x = torch::relu(fc1->forward(x));
    x = torch::relu(fc2->forward(x));
    return fc3->forward(x);
  }

  torch::nn::Conv2d conv1;
  torch::nn::Conv2d conv2;
  torch::nn::Linear fc1;
  torch::nn::Linear fc2;
  torch::nn::Linear fc3;
};
TORCH_MODULE(SimpleCnn);

SimpleCnn build_cnn(const model_spec& spec) {
  auto shapes = spec.shapes();  // validates the input shape
  return SimpleCnn(spec.input_shape[0], shapes[4][1], spec.classes);
}

// Any of the three model kinds, behind one interface.
class network {
 public:
  explicit network(const model_spec& spec) : kind_(spec.kind) {
    switch (kind_) {
      case model_kind::mlp:
        mlp_ = build_mlp(spec);
        params_ = mlp_->parameters();
        break;
      case model_kind::cnn:
        cnn_ = build_cnn(spec);
        params_ = cnn_->parameters();
        break;
      case model_kind::torchscript:
        script_ = load_script(spec.path);
        params_ = script_parameters(*script_);
        for (auto& p : params_) p.requires_grad_(true);
        for (const auto& b : script_->named_buffers()) {
          const auto role = role_of(b.name, b.value);
          if (role == buffer_role::unfederated)
            fixed_initial_.push_back(b.value.clone());
          else
            buffer_specs_.push_back({b.name, b.value.sizes().vec(), role == buffer_role::counter});
        }
        break;
    }
    auto shapes = spec.shapes();
    bool match = shapes.size() == params_.size() && buffer_specs_ == spec.buffers;
    for (size_t i = 0; match && i < shapes.size(); ++i)
      match = params_[i].sizes().vec() == shapes[i] && params_[i].scalar_type() == torch::kFloat32;
    if (!match)
      throw std::invalid_argument("module parameters or buffers do not match the model spec" +
                                  (spec.path.empty() ? std::string() : " (" + spec.path + ")"));
  }

  const std::vector<torch::Tensor>& parameters() const { return params_; }

  torch::Tensor forward(const torch::Tensor& x) {
    switch (kind_) {
      case model_kind::mlp:
        return mlp_->forward(x);
      case model_kind::cnn:
        return cnn_->forward(x);
      case model_kind::torchscript:
        return script_->forward({x}).toTensor();
    }
    throw std::logic_error("unknown model kind");
  }

  void train(bool on) {
    switch (kind_) {
      case model_kind::mlp:
        mlp_->train(on);
        break;
      case model_kind::cnn:
        cnn_->train(on);
        break;
      case model_kind::torchscript:
        script_->train(on);
        break;
    }
  }

  // Parameters, then federated buffers (counters rounded); unfederated buffers back to the
  // file's values.
  void load_flat(const std::vector<float>& flat) {
    torch::NoGradGuard guard;
    size_t offset = 0;
    for (auto& p : params_) {
      const auto n = static_cast<size_t>(p.numel());
      if (offset + n > flat.size()) throw std::invalid_argument("parameter vector too short");
      auto src =
          torch::from_blob(const_cast<float*>(flat.data() + offset), p.sizes(), torch::kFloat32);
      p.copy_(src);
      offset += n;
    }
    auto buffers = current_buffers();
    for (size_t i = 0; i < buffers.federated.size(); ++i) {
      auto& b = buffers.federated[i];
      const auto n = static_cast<size_t>(b.numel());
      if (offset + n > flat.size()) throw std::invalid_argument("parameter vector too short");
      if (buffer_specs_[i].integer) {
        std::vector<int64_t> counts(n);
        for (size_t k = 0; k < n; ++k)
          counts[k] = count_of(flat[offset + k], buffer_specs_[i].name);
        b.copy_(torch::from_blob(counts.data(), b.sizes(), torch::kInt64));
      } else {
        b.copy_(torch::from_blob(const_cast<float*>(flat.data() + offset), b.sizes(),
                                 torch::kFloat32));  // converts to the buffer's precision
      }
      offset += n;
    }
    if (offset != flat.size()) throw std::invalid_argument("parameter vector too long");
    for (size_t i = 0; i < buffers.fixed.size(); ++i) buffers.fixed[i].copy_(fixed_initial_[i]);
  }

  std::vector<float> store_flat() const {
    const auto buffers = current_buffers().federated;
    size_t total = 0;
    for (const auto& p : params_) total += static_cast<size_t>(p.numel());
    for (const auto& b : buffers) total += static_cast<size_t>(b.numel());
    std::vector<float> out(total);
    size_t offset = 0;
    for (const auto& p : params_) {
      auto c = p.detach().contiguous();
      const auto n = static_cast<size_t>(c.numel());
      std::memcpy(out.data() + offset, c.data_ptr<float>(), n * sizeof(float));
      offset += n;
    }
    for (const auto& b : buffers) {
      auto c = b.detach().to(torch::kFloat32).contiguous();
      const auto n = static_cast<size_t>(c.numel());
      std::memcpy(out.data() + offset, c.data_ptr<float>(), n * sizeof(float));
      offset += n;
    }
    return out;
  }

  void save(const std::string& path) {
    switch (kind_) {
      case model_kind::mlp:
        torch::save(mlp_, path);
        break;
      case model_kind::cnn:
        torch::save(cnn_, path);
        break;
      case model_kind::torchscript:
        script_->save(path);
        break;
    }
  }

  void load(const std::string& path) {
    switch (kind_) {
      case model_kind::mlp:
        torch::load(mlp_, path);
        break;
      case model_kind::cnn:
        torch::load(cnn_, path);
        break;
      case model_kind::torchscript: {
        auto other = load_script(path);
        torch::NoGradGuard guard;
        auto src = script_parameters(other);
        if (src.size() != params_.size())
          throw std::invalid_argument(path + ": parameter count differs from the model");
        for (size_t i = 0; i < src.size(); ++i) {
          if (src[i].sizes() != params_[i].sizes())
            throw std::invalid_argument(path + ": parameter shapes differ from the model");
          params_[i].copy_(src[i]);
        }
        auto buffers = current_buffers().federated;
        for (size_t i = 0; i < buffers.size(); ++i) {
          const auto& name = buffer_specs_[i].name;
          std::optional<torch::Tensor> found;
          for (const auto& b : other.named_buffers())
            if (b.name == name) found = b.value;
          if (!found || found->sizes() != buffers[i].sizes())
            throw std::invalid_argument(path + ": buffer " + name +
                                        " is missing or shaped differently");
          buffers[i].copy_(*found);
        }
        break;
      }
    }
  }

 private:
  model_kind kind_;
  torch::nn::Sequential mlp_{nullptr};
  SimpleCnn cnn_{nullptr};
  std::optional<torch::jit::Module> script_;
  // The module's buffers as they are now, federated ones in flat order, then the others
  // (fetched each time: a scripted forward may rebind a buffer attribute). Throws
  // std::runtime_error when they no longer match the ones the module started with. Empty for
  // mlp and cnn.
  struct buffer_set {
    std::vector<torch::Tensor> federated;
    std::vector<torch::Tensor> fixed;
  };
  buffer_set current_buffers() const {
    buffer_set out;
    if (!script_) return out;
    for (const auto& b : script_->named_buffers()) {
      if (role_of(b.name, b.value) == buffer_role::unfederated) {
        out.fixed.push_back(b.value);
        continue;
      }
      const auto i = out.federated.size();
      if (i >= buffer_specs_.size() || buffer_specs_[i].name != b.name ||
          b.value.sizes().vec() != buffer_specs_[i].shape)
        throw std::runtime_error("buffer " + b.name + " changed its type or shape");
      out.federated.push_back(b.value);
    }
    if (out.federated.size() != buffer_specs_.size() || out.fixed.size() != fixed_initial_.size())
      throw std::runtime_error("the module's buffers changed");
    return out;
  }

  std::vector<torch::Tensor> params_;
  std::vector<buffer_spec> buffer_specs_;     // federated buffers: names, shapes, counter flags
  std::vector<torch::Tensor> fixed_initial_;  // unfederated buffers: their values in the file
};

void check_data(const model_spec& spec, const client_dataset& data) {
  if (data.features != spec.inputs)
    throw std::invalid_argument("dataset has " + std::to_string(data.features) +
                                " features, model expects " + std::to_string(spec.inputs));
  if (data.x.size() != static_cast<size_t>(data.size()) * data.features)
    throw std::invalid_argument("dataset has " + std::to_string(data.x.size()) +
                                " feature values for " + std::to_string(data.size()) +
                                " samples of " + std::to_string(data.features));
  if (spec.kind == model_kind::cnn && !data.shape.empty() && data.shape != spec.input_shape)
    throw std::invalid_argument("dataset samples are not shaped as the CNN's input");
}

// The flat values at `flat`, viewed (not copied) as tensors shaped like `params`.
std::vector<torch::Tensor> flat_views(const float* flat, const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> out;
  out.reserve(params.size());
  size_t offset = 0;
  for (const auto& p : params) {
    out.push_back(torch::from_blob(const_cast<float*>(flat + offset), p.sizes(), torch::kFloat32));
    offset += static_cast<size_t>(p.numel());
  }
  return out;
}

}  // namespace

std::string check_train_config(const local_train_config& cfg, uint32_t samples) {
  if (cfg.batch_size == 0 || cfg.epochs == 0) return "empty training";
  if (!(cfg.prox_mu >= 0) || !std::isfinite(static_cast<float>(cfg.prox_mu)))
    return "prox_mu must be finite, >= 0 and within float range (got " +
           std::to_string(cfg.prox_mu) + ")";
  const uint64_t batches = (uint64_t{samples} + cfg.batch_size - 1) / cfg.batch_size;
  if (batches * cfg.epochs > UINT32_MAX) return "more than 2^32 - 1 optimizer steps";
  return {};
}

uint32_t local_steps(const local_train_config& cfg, uint32_t samples) {
  const uint64_t batches = (uint64_t{samples} + cfg.batch_size - 1) / cfg.batch_size;
  return static_cast<uint32_t>(batches * cfg.epochs);
}

struct local_trainer::impl {
  explicit impl(const model_spec& spec) : net(spec) {}
  network net;
};

local_trainer::local_trainer(const model_spec& spec) : spec_(spec) {
  limit_math_threads();
  impl_ = std::make_unique<impl>(spec);
}

local_trainer::~local_trainer() = default;

local_train_result local_trainer::train(const std::vector<float>& start, const client_dataset& data,
                                        const local_train_config& cfg) {
  if (start.size() != spec_.flat_size())
    throw std::invalid_argument("start model has " + std::to_string(start.size()) +
                                " parameters, expected " + std::to_string(spec_.flat_size()));
  check_data(spec_, data);
  const int64_t n = data.size();
  if (n == 0) throw std::invalid_argument("client has no samples");
  if (auto err = check_train_config(cfg, static_cast<uint32_t>(n)); !err.empty())
    throw std::invalid_argument(err);

  auto& net = impl_->net;
  net.load_flat(start);
  net.train(true);
  const auto& params = net.parameters();
  torch::optim::SGD opt(params, torch::optim::SGDOptions(cfg.lr).momentum(cfg.momentum));
  // The client algorithms' terms (see local_train_config): w_start as tensors for FedProx
  // (`start` outlives the call), c − c_i viewed in the caller's buffer for SCAFFOLD.
  // μ enters the step as a float, as in the batched kernels (a μ that rounds to 0 is none).
  const bool prox = static_cast<float>(cfg.prox_mu) > 0;
  const bool corrected = cfg.correction != nullptr;
  const auto w_start = prox ? flat_views(start.data(), params) : std::vector<torch::Tensor>{};
  const auto correction =
      corrected ? flat_views(cfg.correction, params) : std::vector<torch::Tensor>{};
  auto x = torch::from_blob(const_cast<float*>(data.x.data()), {n, (int64_t)data.features},
                            torch::kFloat32);
  auto y = torch::from_blob(const_cast<int64_t*>(data.y.data()), {n}, torch::kInt64);

  std::vector<int64_t> order(static_cast<size_t>(n));
  double total_loss = 0;
  int64_t batches = 0;
  for (uint32_t epoch = 0; epoch < cfg.epochs; ++epoch) {
    std::iota(order.begin(), order.end(), int64_t{0});
    rng r{stream_key(cfg.shuffle_seed, rng_tag::shuffle, epoch)};
    for (int64_t i = n - 1; i > 0; --i) std::swap(order[i], order[r.below(i + 1)]);
    auto perm = torch::from_blob(order.data(), {n}, torch::kInt64);
    for (int64_t b = 0; b < n; b += cfg.batch_size) {
      const int64_t e = std::min<int64_t>(n, b + cfg.batch_size);
      auto idx = perm.slice(0, b, e);
      auto xb = x.index_select(0, idx).view(spec_.batch_shape(e - b));
      auto yb = y.index_select(0, idx);
      opt.zero_grad();
      auto loss = torch::nn::functional::cross_entropy(net.forward(xb), yb);
      loss.backward();
      if (prox) {
        torch::NoGradGuard guard;
        for (size_t i = 0; i < params.size(); ++i) {
          const auto& p = params[i];
          // A parameter the loss does not reach still gets the proximal term.
          if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
          p.mutable_grad().add_(p.detach() - w_start[i], cfg.prox_mu);
        }
      }
      opt.step();
      if (corrected) {
        // SCAFFOLD's correction after the optimizer's step, outside its momentum buffer.
        torch::NoGradGuard guard;
        for (size_t i = 0; i < params.size(); ++i) params[i].add_(correction[i], -cfg.lr);
      }
      total_loss += loss.item<double>();
      ++batches;
    }
  }
  local_train_result res;
  res.params = net.store_flat();
  res.num_samples = static_cast<uint32_t>(n);
  res.mean_loss = total_loss / static_cast<double>(batches);
  res.steps = static_cast<uint32_t>(batches);
  return res;
}

evaluation local_trainer::evaluate(const std::vector<float>& params, const client_dataset& data) {
  if (params.size() != spec_.flat_size())
    throw std::invalid_argument("model has " + std::to_string(params.size()) +
                                " parameters, expected " + std::to_string(spec_.flat_size()));
  evaluation ev;
  const int64_t n = data.size();
  if (n == 0) return ev;
  check_data(spec_, data);
  auto& net = impl_->net;
  net.load_flat(params);
  net.train(false);
  torch::NoGradGuard guard;
  auto x = torch::from_blob(const_cast<float*>(data.x.data()), {n, (int64_t)data.features},
                            torch::kFloat32);
  auto y = torch::from_blob(const_cast<int64_t*>(data.y.data()), {n}, torch::kInt64);
  double loss_sum = 0;
  int64_t correct = 0;
  for (int64_t b = 0; b < n; b += eval_batch) {
    const int64_t e = std::min<int64_t>(n, b + eval_batch);
    auto logits = net.forward(x.slice(0, b, e).view(spec_.batch_shape(e - b)));
    auto yb = y.slice(0, b, e);
    loss_sum +=
        torch::nn::functional::cross_entropy(
            logits, yb, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
            .item<double>();
    correct += logits.argmax(1).eq(yb).sum().item<int64_t>();
  }
  ev.loss = loss_sum / static_cast<double>(n);
  ev.accuracy = static_cast<double>(correct) / static_cast<double>(n);
  ev.samples = static_cast<uint32_t>(n);
  return ev;
}

std::vector<float> local_trainer::logits(const std::vector<float>& params,
                                         const client_dataset& data) {
  if (params.size() != spec_.flat_size())
    throw std::invalid_argument("model has " + std::to_string(params.size()) +
                                " parameters, expected " + std::to_string(spec_.flat_size()));
  check_data(spec_, data);
  const int64_t n = data.size();
  if (n == 0) return {};
  auto& net = impl_->net;
  net.load_flat(params);
  net.train(false);
  torch::NoGradGuard guard;
  auto x = torch::from_blob(const_cast<float*>(data.x.data()), {n, (int64_t)data.features},
                            torch::kFloat32);
  auto out = net.forward(x.view(spec_.batch_shape(n))).contiguous();
  if (out.dim() != 2 || out.size(0) != n || out.size(1) != spec_.classes)
    throw std::runtime_error("model output is " + c10::str(out.sizes()) + ", expected [" +
                             std::to_string(n) + ", " + std::to_string(spec_.classes) + "]");
  return std::vector<float>(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
}

void limit_math_threads() {
  static std::once_flag once;
  std::call_once(once, [] {
    torch::set_num_threads(1);
    // Strict reproducibility (docs/reproducibility.md): oneDNN picks its kernels by CPU ISA;
    // without it convolutions go through im2col and OpenBLAS's pinned sgemm.
    if (const char* mode = std::getenv("FEDACTOR_REPRODUCIBILITY");
        mode && std::strcmp(mode, "strict") == 0)
      at::globalContext().setUserEnabledMkldnn(false);
    using set_threads_fn = void (*)(int);
    if (auto f = reinterpret_cast<set_threads_fn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
      f(1);
  });
}

void save_model_pt(const model_spec& spec, const std::vector<float>& params,
                   const std::string& path) {
  network net{spec};
  net.load_flat(params);
  net.save(path);
}

std::vector<float> load_model_pt(const model_spec& spec, const std::string& path) {
  network net{spec};
  net.load(path);
  return net.store_flat();
}

}  // namespace fedactor
