// Micro-benchmark behind docs/performance.md: local training of W1 clients (MLP 32-64-10,
// 50-199 samples, batch 32, 1 epoch, SGD lr 0.01 momentum 0.9) per client with LibTorch,
// as stacked LibTorch batched matrix products (bmm/baddbmm), and with the hand-vectorised
// kernels of runtime/learning/batched_training (generic x86-64 and AVX2 code paths), plus
// the cost of building a client's data. Prints clients/s of each on one thread and the
// largest relative parameter difference of each against per-client LibTorch.
//
//   training_kernels [CLIENTS] [GROUP] [REPEAT]   (defaults 2000 clients, groups of 100)
//   training_kernels CLIENTS GROUP REPEAT kernel  (only the hand kernels, REPEAT times: for
//                                                  perf stat)

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "runtime/learning/batched_training.hpp"
#include "runtime/learning/local_training.hpp"
#include "runtime/learning/synthetic_data.hpp"
#include "runtime/math/rng.hpp"

using namespace fedactor;

namespace {

// CPU time of this thread: the machine may be shared, and every method runs on one thread.
double now() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Stacked training of a group of clients with LibTorch: weights [G][out][in], each step a
// batched product over the clients that still have a mini-batch (clients sorted by step
// count, so those form a prefix); partial batches padded with zero rows of weight 0.
std::vector<std::vector<float>> train_stacked(const model_spec& spec,
                                              const std::vector<float>& start,
                                              const std::vector<client_dataset>& data,
                                              const std::vector<uint64_t>& seeds,
                                              const local_train_config& cfg) {
  const int64_t G = static_cast<int64_t>(data.size());
  const int64_t I = spec.inputs, H = spec.hidden.at(0), C = spec.classes, B = cfg.batch_size;
  std::vector<int64_t> idx(G);
  for (int64_t g = 0; g < G; ++g) idx[g] = g;
  auto steps = [&](int64_t g) { return (static_cast<int64_t>(data[g].size()) + B - 1) / B; };
  std::stable_sort(idx.begin(), idx.end(),
                   [&](int64_t a, int64_t b) { return steps(a) > steps(b); });
  const int64_t T = steps(idx[0]);
  auto X = torch::zeros({T, G, B, I});
  auto Y = torch::zeros({T, G, B}, torch::kInt64);
  auto M = torch::zeros({T, G, B});
  std::vector<int64_t> active(T, 0);
  for (int64_t s = 0; s < G; ++s) {
    const auto& d = data[idx[s]];
    const int64_t n = d.size();
    std::vector<int64_t> order(n);
    for (int64_t i = 0; i < n; ++i) order[i] = i;
    rng r{stream_key(seeds[idx[s]], rng_tag::shuffle, 0)};
    for (int64_t i = n - 1; i > 0; --i) std::swap(order[i], order[r.below(i + 1)]);
    auto xa = X.accessor<float, 4>();
    auto ya = Y.accessor<int64_t, 3>();
    auto ma = M.accessor<float, 3>();
    for (int64_t t = 0; t * B < n; ++t) {
      const int64_t rows = std::min(B, n - t * B);
      active[t] = s + 1;
      for (int64_t k = 0; k < rows; ++k) {
        const int64_t src = order[t * B + k];
        for (int64_t f = 0; f < I; ++f) xa[t][s][k][f] = d.x[src * I + f];
        ya[t][s][k] = d.y[src];
        ma[t][s][k] = 1.0f / static_cast<float>(rows);
      }
    }
  }
  auto flat = torch::from_blob(const_cast<float*>(start.data()), {(int64_t)start.size()}).clone();
  auto W1 = flat.narrow(0, 0, H * I).view({1, H, I}).repeat({G, 1, 1}).requires_grad_();
  auto b1 = flat.narrow(0, H * I, H).view({1, 1, H}).repeat({G, 1, 1}).requires_grad_();
  auto W2 = flat.narrow(0, H * I + H, C * H).view({1, C, H}).repeat({G, 1, 1}).requires_grad_();
  auto b2 = flat.narrow(0, H * I + H + C * H, C).view({1, 1, C}).repeat({G, 1, 1}).requires_grad_();
  std::vector<torch::Tensor> ps{W1, b1, W2, b2}, bufs(4);
  for (int64_t t = 0; t < T; ++t) {
    const int64_t g = active[t];
    auto x = X[t].narrow(0, 0, g);
    auto h = torch::relu(torch::baddbmm(b1.narrow(0, 0, g), x, W1.narrow(0, 0, g).transpose(1, 2)));
    auto z = torch::baddbmm(b2.narrow(0, 0, g), h, W2.narrow(0, 0, g).transpose(1, 2));
    auto logp = torch::log_softmax(z, 2);
    auto picked = logp.gather(2, Y[t].narrow(0, 0, g).unsqueeze(2)).squeeze(2);
    auto loss = -(picked * M[t].narrow(0, 0, g)).sum();
    for (auto& p : ps)
      if (p.grad().defined()) p.grad().zero_();
    loss.backward();
    torch::NoGradGuard ng;
    for (size_t i = 0; i < ps.size(); ++i) {
      auto grad = ps[i].grad().narrow(0, 0, g);
      if (t == 0) {
        bufs[i] = grad.clone();
      } else {
        bufs[i].narrow(0, 0, g).mul_(cfg.momentum).add_(grad);
      }
      ps[i].narrow(0, 0, g).add_(bufs[i].narrow(0, 0, g), -cfg.lr);
    }
  }
  std::vector<std::vector<float>> out(G);
  for (int64_t s = 0; s < G; ++s) {
    auto cat = torch::cat({W1[s].flatten(), b1[s].flatten(), W2[s].flatten(), b2[s].flatten()})
                   .detach()
                   .contiguous();
    out[idx[s]].assign(cat.data_ptr<float>(), cat.data_ptr<float>() + cat.numel());
  }
  return out;
}

double max_rel(const std::vector<float>& a, const std::vector<float>& ref) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(double(a[i]) - ref[i]) / std::max(std::fabs(double(ref[i])), 1e-3);
    worst = std::max(worst, d);
  }
  return worst;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t clients = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 2000;
  const size_t group = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 100;
  const size_t repeat = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 1;
  const bool kernel_only = argc > 4 && std::string(argv[4]) == "kernel";
  limit_math_threads();
  scenario sc;
  model_spec spec;
  tutorial_random_source src{sc.data, 0};
  auto start = initial_params(spec, 0);
  local_train_config cfg;

  double t0 = now();
  std::vector<client_dataset> data;
  std::vector<uint64_t> seeds;
  for (size_t c = 0; c < clients; ++c) {
    data.push_back(src.make(c));
    seeds.push_back(stream_key(0, rng_tag::shuffle, 1, c));
  }
  const double t_data = now() - t0;

  if (kernel_only) {
    batched_trainer bt{spec};
    std::vector<batched_job> jobs;
    std::vector<local_train_config> cfgs(clients, cfg);
    for (size_t c = 0; c < clients; ++c) {
      cfgs[c].shuffle_seed = seeds[c];
      jobs.push_back({&start, &data[c], cfgs[c]});
    }
    double samples = 0;
    for (const auto& d : data) samples += d.size();
    t0 = now();
    for (size_t r = 0; r < repeat; ++r) bt.train(jobs);
    const double dt = now() - t0;
    // Multiply-adds per sample: forward, weight gradients, hidden gradients.
    double macs = 0;
    auto w = spec.widths();
    for (size_t l = 0; l + 1 < w.size(); ++l) macs += 2.0 * w[l] * w[l + 1];
    for (size_t l = 1; l + 1 < w.size(); ++l) macs += double(w[l]) * w[l + 1];
    std::printf("%zu clients x %zu: %.1f us/client, %.2f GFLOP/s\n", clients, repeat,
                dt / (clients * repeat) * 1e6, 2 * macs * samples * repeat / dt * 1e-9);
    return 0;
  }

  local_trainer ref{spec};
  std::vector<std::vector<float>> ref_params(clients);
  t0 = now();
  for (size_t c = 0; c < clients; ++c) {
    cfg.shuffle_seed = seeds[c];
    ref_params[c] = ref.train(start, data[c], cfg).params;
  }
  const double t_torch = now() - t0;

  double t_stacked = 0, err_stacked = 0;
  for (size_t b = 0; b < clients; b += group) {
    const size_t e = std::min(clients, b + group);
    std::vector<client_dataset> d(data.begin() + b, data.begin() + e);
    std::vector<uint64_t> s(seeds.begin() + b, seeds.begin() + e);
    t0 = now();
    auto out = train_stacked(spec, start, d, s, cfg);
    t_stacked += now() - t0;
    for (size_t i = 0; i < out.size(); ++i)
      err_stacked = std::max(err_stacked, max_rel(out[i], ref_params[b + i]));
  }

  auto run_kernel = [&](kernel_isa isa, double& err) {
    batched_trainer bt{spec, isa};
    std::vector<batched_job> jobs;
    std::vector<local_train_config> cfgs(clients, cfg);
    for (size_t c = 0; c < clients; ++c) {
      cfgs[c].shuffle_seed = seeds[c];
      jobs.push_back({&start, &data[c], cfgs[c]});
    }
    const double t = now();
    auto out = bt.train(jobs);
    const double dt = now() - t;
    err = 0;
    for (size_t c = 0; c < clients; ++c)
      err = std::max(err, max_rel(out[c].result.params, ref_params[c]));
    return dt;
  };
  double err_generic = 0, err_avx2 = 0;
  const double t_generic = run_kernel(kernel_isa::generic, err_generic);
  const double t_avx2 = run_kernel(best_kernel_isa(), err_avx2);

  std::printf("clients %zu, stacked group %zu, one thread, CPU time of the thread\n", clients,
              group);
  std::printf("%-34s %12s %14s %22s\n", "method", "clients/s", "us/client",
              "max rel diff vs torch");
  auto row = [&](const char* name, double t, double err) {
    std::printf("%-34s %12.0f %14.1f %22.2e\n", name, clients / t, t / clients * 1e6, err);
  };
  row("data generation (tutorial_random)", t_data, 0);
  row("LibTorch per client", t_torch, 0);
  row("LibTorch stacked (baddbmm)", t_stacked, err_stacked);
  row("hand kernels, generic x86-64", t_generic, err_generic);
  row(("hand kernels, " + std::string(to_string(best_kernel_isa()))).c_str(), t_avx2, err_avx2);
  return 0;
}
