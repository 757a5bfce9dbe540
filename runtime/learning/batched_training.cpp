// Batched local training of MLP clients with hand-vectorised kernels (see the header).
//
// Layout. Inside the kernel every layer keeps its weight matrix transposed and padded,
// Wt[in][outp] with outp = out rounded up to 16 (padding columns are zero and stay zero),
// followed by its bias b[outp]; the parameters of all layers form one flat array, and so do
// the gradients and the momentum buffers, so that the SGD step is one elementwise loop.
// Activations are row-major [rows][outp]. Every product is one small matrix product
//   C[m][n] = init[n] + sum over k of A(m, k) * B[k][n]
// vectorised over n (8 or 16 floats per vector), with the sum over k taken in increasing k, one
// rounding per multiply and one per add (no FMA). Every output element therefore sees the
// same sequence of float operations whatever the tile shape, the vector width or the other
// clients in the call: results are bit-identical across code paths and batch compositions.

#include "runtime/learning/batched_training.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <numeric>
#include <stdexcept>

#include "runtime/math/rng.hpp"

// The vector helpers below are always inlined into one code path: no vector value crosses
// a call boundary, so GCC's note about the AVX calling convention does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace fedactor {

namespace {

#define FEDACTOR_INLINE inline __attribute__((always_inline))

// Layer widths inside the kernels are padded to whole vectors of the widest code path.
constexpr size_t pad16(size_t n) {
  return (n + 15) / 16 * 16;
}

// A 64-byte aligned float buffer.
class fbuf {
 public:
  fbuf() = default;
  explicit fbuf(size_t n) { resize(n); }
  fbuf(const fbuf&) = delete;
  fbuf& operator=(const fbuf&) = delete;
  fbuf(fbuf&& other) noexcept : p_(other.p_), n_(other.n_), cap_(other.cap_) {
    other.p_ = nullptr;
    other.n_ = other.cap_ = 0;
  }
  fbuf& operator=(fbuf&&) = delete;
  ~fbuf() { std::free(p_); }
  void resize(size_t n) {
    if (n <= cap_) {
      n_ = n;
      return;
    }
    std::free(p_);
    const size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
    p_ = static_cast<float*>(std::aligned_alloc(64, bytes == 0 ? 64 : bytes));
    if (!p_) throw std::bad_alloc();
    cap_ = n;
    n_ = n;
  }
  void zero() { std::memset(p_, 0, n_ * sizeof(float)); }
  float* data() { return p_; }
  const float* data() const { return p_; }
  size_t size() const { return n_; }

 private:
  float* p_ = nullptr;
  size_t n_ = 0;
  size_t cap_ = 0;
};

// One layer: Wt[in][outp] at w, b[outp] at b (offsets into the flat arrays); for layers
// after the first, a row-major copy W[out][inp] (inp = previous outp) for the backward pass.
struct layer {
  size_t in = 0, out = 0, outp = 0, inp = 0;
  size_t w = 0, b = 0;
  size_t wr = 0;  // offset of the row-major copy in impl::wrow
};

}  // namespace

namespace detail {

struct batched_state {
  std::vector<layer> layers;
  size_t flat = 0;   // internal parameter count (padded)
  size_t wrows = 0;  // size of the row-major copies
  size_t batch = 0;  // rows the activation buffers hold

  fbuf params, grads, momentum, wrow;
  fbuf correction;         // the job's SCAFFOLD correction c − c_i (load_correction), zero padded
  std::vector<fbuf> act;   // per layer: [batch][outp] outputs (ReLU applied for hidden layers)
  std::vector<fbuf> grad;  // per layer: [batch][outp] loss gradient w.r.t. its pre-activation
  fbuf xb;                 // the mini-batch's inputs [batch][in]
  std::vector<int64_t> yb;
  fbuf zt, et, row_loss;  // softmax scratch: logits and gradients as [class][row], losses
  std::vector<int32_t> y32;
  std::vector<int64_t> order;

  // The last start model and its internal form: clients of one round share the model.
  std::vector<float> cached_start;
  fbuf start_params, start_wrow;

  explicit batched_state(const model_spec& spec) {
    auto w = spec.widths();
    size_t off = 0, wr = 0;
    for (size_t l = 0; l + 1 < w.size(); ++l) {
      layer L;
      L.in = w[l];
      L.out = w[l + 1];
      L.outp = pad16(L.out);
      L.inp = l == 0 ? L.in : pad16(L.in);
      L.w = off;
      off += L.in * L.outp;
      L.b = off;
      off += L.outp;
      if (l > 0) {
        L.wr = wr;
        wr += L.out * L.inp;
      }
      layers.push_back(L);
    }
    flat = off;
    wrows = wr;
    params.resize(flat);
    grads.resize(flat);
    momentum.resize(flat);
    correction.resize(flat);
    wrow.resize(std::max<size_t>(wrows, 16));
    start_params.resize(flat);
    start_wrow.resize(std::max<size_t>(wrows, 16));
    act.resize(layers.size());
    grad.resize(layers.size());
  }

  void reserve_rows(size_t rows) {
    if (rows <= batch) return;
    batch = rows;
    for (size_t l = 0; l < layers.size(); ++l) {
      act[l].resize(rows * layers[l].outp);
      grad[l].resize(rows * layers[l].outp);
    }
    xb.resize(rows * layers[0].in);
    yb.resize(rows);
    const size_t rp = pad16(rows);
    zt.resize(layers.back().out * rp);
    et.resize(layers.back().out * rp);
    row_loss.resize(rp);
    y32.resize(rp);
  }

  // Prepares a start model in PyTorch's flat layout: start_params and start_wrow, which
  // the kernel copies into params and wrow (cached: a round's clients share the model).
  void load_start(const std::vector<float>& start) {
    if (start == cached_start) return;
    start_params.zero();
    start_wrow.zero();
    float* p = start_params.data();
    const float* src = start.data();
    for (const auto& L : layers) {
      for (size_t c = 0; c < L.out; ++c)
        for (size_t k = 0; k < L.in; ++k) p[L.w + k * L.outp + c] = src[c * L.in + k];
      src += L.out * L.in;
      for (size_t c = 0; c < L.out; ++c) p[L.b + c] = src[c];
      src += L.out;
    }
    cached_start = start;
    refresh_rows(start_params.data(), start_wrow.data());
  }

  // A correction vector in PyTorch's flat layout (spec.num_params() values) into
  // `correction`, in the internal layout of params (padding stays zero).
  void load_correction(const float* src) {
    correction.zero();
    float* p = correction.data();
    for (const auto& L : layers) {
      for (size_t c = 0; c < L.out; ++c)
        for (size_t k = 0; k < L.in; ++k) p[L.w + k * L.outp + c] = src[c * L.in + k];
      src += L.out * L.in;
      for (size_t c = 0; c < L.out; ++c) p[L.b + c] = src[c];
      src += L.out;
    }
  }

  // The row-major copies W[out][inp] of layers after the first, from params p.
  void refresh_rows(const float* p, float* rows) const {
    for (size_t l = 1; l < layers.size(); ++l) {
      const auto& L = layers[l];
      for (size_t c = 0; c < L.out; ++c)
        for (size_t k = 0; k < L.in; ++k) rows[L.wr + c * L.inp + k] = p[L.w + k * L.outp + c];
    }
  }

  // The internal parameters back in PyTorch's flat layout.
  void store_params(std::vector<float>& out, size_t total) const {
    out.resize(total);
    float* dst = out.data();
    const float* p = params.data();
    for (const auto& L : layers) {
      for (size_t c = 0; c < L.out; ++c)
        for (size_t k = 0; k < L.in; ++k) dst[c * L.in + k] = p[L.w + k * L.outp + c];
      dst += L.out * L.in;
      for (size_t c = 0; c < L.out; ++c) dst[c] = p[L.b + c];
      dst += L.out;
    }
  }
};

}  // namespace detail

namespace {

using impl_t = detail::batched_state;

// The baseline keeps 8-float vectors (GCC splits each into two SSE halves): fewer
// instructions than 4-float vectors, and the same bits.
#define FEDACTOR_VECTOR_BYTES 32
#define FEDACTOR_TILE_ROWS 4
#define FEDACTOR_TILE_VECTORS 2
namespace isa_generic {
#include "runtime/learning/batched_kernels.inc"
}  // namespace isa_generic

#pragma GCC push_options
#pragma GCC target("avx2")
namespace isa_avx2 {
#include "runtime/learning/batched_kernels.inc"
}  // namespace isa_avx2
#pragma GCC pop_options
#undef FEDACTOR_VECTOR_BYTES
#undef FEDACTOR_TILE_ROWS
#undef FEDACTOR_TILE_VECTORS

// AVX-512 implies FMA to GCC: contraction is switched off so that a·b + c stays two
// roundings, as on the other paths.
#define FEDACTOR_VECTOR_BYTES 64
#define FEDACTOR_TILE_ROWS 4
#define FEDACTOR_TILE_VECTORS 4
#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512dq,avx512bw")
#pragma GCC optimize("fp-contract=off")
namespace isa_avx512 {
#include "runtime/learning/batched_kernels.inc"
}  // namespace isa_avx512
#pragma GCC pop_options
#undef FEDACTOR_VECTOR_BYTES
#undef FEDACTOR_TILE_ROWS
#undef FEDACTOR_TILE_VECTORS

double train_generic(impl_t& s, const client_dataset& data, const local_train_config& cfg) {
  return isa_generic::train_body(s, data, cfg);
}

__attribute__((target("avx2"))) double train_avx2(impl_t& s, const client_dataset& data,
                                                  const local_train_config& cfg) {
  return isa_avx2::train_body(s, data, cfg);
}

__attribute__((target("avx512f,avx512vl,avx512dq,avx512bw"), optimize("fp-contract=off"))) double
train_avx512(impl_t& s, const client_dataset& data, const local_train_config& cfg) {
  return isa_avx512::train_body(s, data, cfg);
}

std::string check_job(const model_spec& spec, const std::vector<float>* start,
                      const client_dataset* data, const local_train_config& cfg) {
  if (!start || !data) return "missing start model or data";
  if (start->size() != spec.num_params())
    return "start model has " + std::to_string(start->size()) + " parameters, expected " +
           std::to_string(spec.num_params());
  if (data->features != spec.inputs)
    return "dataset has " + std::to_string(data->features) + " features, model expects " +
           std::to_string(spec.inputs);
  if (data->size() == 0) return "client has no samples";
  if (data->x.size() != size_t{data->size()} * data->features)
    return "dataset has " + std::to_string(data->x.size()) + " feature values for " +
           std::to_string(data->size()) + " samples";
  if (auto err = check_train_config(cfg, data->size()); !err.empty()) return err;
  for (auto y : data->y)
    if (y < 0 || y >= static_cast<int64_t>(spec.classes))
      return "label " + std::to_string(y) + " outside [0, " + std::to_string(spec.classes) + ")";
  return {};
}

}  // namespace

const char* to_string(kernel_isa isa) {
  switch (isa) {
    case kernel_isa::generic:
      return "generic";
    case kernel_isa::avx2:
      return "avx2";
    case kernel_isa::avx512:
      return "avx512";
  }
  return "?";
}

kernel_isa best_kernel_isa() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw"))
    return kernel_isa::avx512;
  if (__builtin_cpu_supports("avx2")) return kernel_isa::avx2;
  return kernel_isa::generic;
}

bool batched_trainer::supports(const model_spec& spec) {
  if (spec.kind != model_kind::mlp || spec.inputs == 0 || spec.classes == 0) return false;
  for (auto h : spec.hidden)
    if (h == 0) return false;
  return true;
}

batched_trainer::batched_trainer(const model_spec& spec, kernel_isa isa) : spec_(spec), isa_(isa) {
  if (!supports(spec)) throw std::invalid_argument("batched training supports MLP models only");
  isa_ = std::min(isa_, best_kernel_isa());
  impl_ = std::make_unique<detail::batched_state>(spec);
}

batched_trainer::~batched_trainer() = default;

local_train_result batched_trainer::train_one(const std::vector<float>& start,
                                              const client_dataset& data,
                                              const local_train_config& cfg) {
  if (auto err = check_job(spec_, &start, &data, cfg); !err.empty())
    throw std::invalid_argument(err);
  return train_checked(start, data, cfg);
}

local_train_result batched_trainer::train_checked(const std::vector<float>& start,
                                                  const client_dataset& data,
                                                  const local_train_config& cfg) {
  auto& s = *impl_;
  s.load_start(start);
  if (cfg.correction) s.load_correction(cfg.correction);
  local_train_result res;
  switch (isa_) {
    case kernel_isa::avx512:
      res.mean_loss = train_avx512(s, data, cfg);
      break;
    case kernel_isa::avx2:
      res.mean_loss = train_avx2(s, data, cfg);
      break;
    default:
      res.mean_loss = train_generic(s, data, cfg);
      break;
  }
  res.num_samples = data.size();
  res.steps = local_steps(cfg, data.size());
  s.store_params(res.params, spec_.num_params());
  return res;
}

std::vector<batched_outcome> batched_trainer::train(const std::vector<batched_job>& jobs) {
  std::vector<batched_outcome> out(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    const auto& j = jobs[i];
    out[i].error = check_job(spec_, j.start, j.data, j.cfg);
    if (!out[i].ok()) continue;
    out[i].result = train_checked(*j.start, *j.data, j.cfg);
  }
  return out;
}

}  // namespace fedactor
