#include "runtime/learning/local_training.hpp"

#include <dlfcn.h>

#include <mutex>
#include <numeric>
#include <stdexcept>

#include <torch/torch.h>

#include "runtime/math/rng.hpp"

namespace fedactor {

namespace {

torch::nn::Sequential build_mlp(const model_spec& spec) {
  torch::nn::Sequential seq;
  auto w = spec.widths();
  for (size_t l = 0; l + 1 < w.size(); ++l) {
    seq->push_back(torch::nn::Linear(w[l], w[l + 1]));
    if (l + 2 < w.size()) seq->push_back(torch::nn::ReLU());
  }
  return seq;
}

void load_flat(torch::nn::Module& m, const std::vector<float>& flat) {
  torch::NoGradGuard guard;
  size_t offset = 0;
  for (auto& p : m.parameters()) {
    const auto n = static_cast<size_t>(p.numel());
    if (offset + n > flat.size()) throw std::invalid_argument("parameter vector too short");
    auto src =
        torch::from_blob(const_cast<float*>(flat.data() + offset), p.sizes(), torch::kFloat32);
    p.copy_(src);
    offset += n;
  }
  if (offset != flat.size()) throw std::invalid_argument("parameter vector too long");
}

std::vector<float> store_flat(torch::nn::Module& m, size_t total) {
  std::vector<float> out(total);
  size_t offset = 0;
  for (auto& p : m.parameters()) {
    auto c = p.detach().contiguous();
    const auto n = static_cast<size_t>(c.numel());
    std::memcpy(out.data() + offset, c.data_ptr<float>(), n * sizeof(float));
    offset += n;
  }
  return out;
}

}  // namespace

struct local_trainer::impl {
  torch::nn::Sequential net;
};

local_trainer::local_trainer(const model_spec& spec) : spec_(spec), impl_(new impl) {
  limit_math_threads();
  impl_->net = build_mlp(spec);
}

local_trainer::~local_trainer() = default;

local_train_result local_trainer::train(const std::vector<float>& start, const client_dataset& data,
                                        const local_train_config& cfg) {
  if (start.size() != spec_.num_params())
    throw std::invalid_argument("start model has " + std::to_string(start.size()) +
                                " parameters, expected " + std::to_string(spec_.num_params()));
  if (data.features != spec_.inputs)
    throw std::invalid_argument("dataset has " + std::to_string(data.features) +
                                " features, model expects " + std::to_string(spec_.inputs));
  const int64_t n = data.size();
  if (n == 0) throw std::invalid_argument("client has no samples");
  if (cfg.batch_size == 0 || cfg.epochs == 0) throw std::invalid_argument("empty training");

  auto& net = impl_->net;
  load_flat(*net, start);
  net->train();
  torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(cfg.lr).momentum(cfg.momentum));
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
      auto xb = x.index_select(0, idx);
      auto yb = y.index_select(0, idx);
      opt.zero_grad();
      auto loss = torch::nn::functional::cross_entropy(net->forward(xb), yb);
      loss.backward();
      opt.step();
      total_loss += loss.item<double>();
      ++batches;
    }
  }
  local_train_result res;
  res.params = store_flat(*net, spec_.num_params());
  res.num_samples = static_cast<uint32_t>(n);
  res.mean_loss = total_loss / static_cast<double>(batches);
  return res;
}

evaluation local_trainer::evaluate(const std::vector<float>& params, const client_dataset& data) {
  if (params.size() != spec_.num_params())
    throw std::invalid_argument("model has " + std::to_string(params.size()) +
                                " parameters, expected " + std::to_string(spec_.num_params()));
  evaluation ev;
  const int64_t n = data.size();
  if (n == 0) return ev;
  auto& net = impl_->net;
  load_flat(*net, params);
  net->eval();
  torch::NoGradGuard guard;
  auto x = torch::from_blob(const_cast<float*>(data.x.data()), {n, (int64_t)data.features},
                            torch::kFloat32);
  auto y = torch::from_blob(const_cast<int64_t*>(data.y.data()), {n}, torch::kInt64);
  auto logits = net->forward(x);
  ev.loss = torch::nn::functional::cross_entropy(logits, y).item<double>();
  ev.accuracy = logits.argmax(1).eq(y).to(torch::kFloat64).mean().item<double>();
  ev.samples = static_cast<uint32_t>(n);
  return ev;
}

void limit_math_threads() {
  static std::once_flag once;
  std::call_once(once, [] {
    torch::set_num_threads(1);
    using set_threads_fn = void (*)(int);
    if (auto f = reinterpret_cast<set_threads_fn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
      f(1);
  });
}

void save_model_pt(const model_spec& spec, const std::vector<float>& params,
                   const std::string& path) {
  auto net = build_mlp(spec);
  load_flat(*net, params);
  torch::save(net, path);
}

std::vector<float> load_model_pt(const model_spec& spec, const std::string& path) {
  auto net = build_mlp(spec);
  torch::load(net, path);
  return store_flat(*net, spec.num_params());
}

}  // namespace fedactor
