#pragma once

// The arithmetic of SCAFFOLD (Karimireddy et al. 2020, "SCAFFOLD: Stochastic Controlled
// Averaging for Federated Learning", Algorithm 1 with option II), as pure functions on flat
// parameter-sized vectors; no actor, no LibTorch. Notation of the paper: x the server model,
// c the server control variate, y_i and c_i client i's model and control variate, η_l the
// local learning rate, K the local steps, S the sampled clients, N the population.
//
// One round:
//   client i (local_trainer / batched_trainer with local_train_config::correction = c − c_i):
//     y_i ← x;  K times: y_i ← y_i − η_l·buf_k;  y_i ← y_i − η_l·(c − c_i)           (line 10)
//       with buf_k = m·buf_{k−1} + g_k (buf_1 = g_1) the optimizer's momentum buffer and g_k
//       the step's gradient g_i(y_i) (plus FedProx's term, if any): the plain step first,
//       then the correction outside the buffer, as NIID-Bench and Flower's niid_bench do;
//       for momentum m = 0 it is the paper's y_i ← y_i − η_l·(g_i(y_i) − c_i + c)
//     c_i⁺ ← c_i − c + (x − y_i) / (K·η_l)                  (line 12, option II: control_update)
//     sends Δy_i = y_i − x and Δc_i = c_i⁺ − c_i (control_delta); keeps c_i ← c_i⁺  (line 13)
//   server:
//     x ← x + η_g·(1/|S|)·Σ Δy_i                                                (line 16)
//     c ← c + (1/N)·Σ Δc_i = c + (|S|/N)·mean Δc_i             (line 17: server_control_step)
//
// With every control variate zero (c = c_i = 0, the paper's initial state), the correction
// c − c_i is zero and the first round's client update is FedAvg's: a correction buffer of
// zeros gives the same bits as no correction (tested through both trainers).
//
// What option II measures. Unrolling the K steps,
//   x − y_i = η_l·Σ_k buf_k + K·η_l·(c − c_i) = η_l·Σ_j a_j·g_j + K·η_l·(c − c_i),
//   a_j = 1 + m + … + m^(K−j) = (1 − m^(K−j+1)) / (1 − m),
// so (x − y_i)/(K·η_l) measures the momentum-amplified data steps, (1/K)·Σ_j a_j·g_j, plus
// exactly the K corrections, K·η_l·(c − c_i)/(K·η_l) = c − c_i. Hence c_i⁺ = (1/K)·Σ_j a_j·g_j
// (the g_j taken along the corrected trajectory): the corrections' own displacement cancels,
// to float rounding, whatever the momentum. For m = 0 every a_j = 1 and c_i⁺ is the
// mean gradient along the trajectory, as in the paper; with m > 0 the early steps count up
// to 1/(1 − m) times (for a constant gradient g, c_i⁺ = ‖a‖₁/K·g with
// ‖a‖₁ = (K − m·(1 − m^K)/(1 − m))/(1 − m), FedNova's a_i). NIID-Bench and Flower's
// niid_bench compute the same c_i⁺ after the same momentum steps. The paper's analysis
// assumes plain SGD (m = 0).
//
// Precision: control_update and server_control_step compute each coordinate in double from
// the float inputs and round once to float; control_correction and control_delta are one
// float subtraction (correctly rounded). Non-finite inputs give non-finite outputs: callers
// validate what comes from other processes. Every function is O(model size).

#include <cstdint>
#include <vector>

namespace fedactor {

// c − c_i, the correction a client subtracts (times η_l) after each optimizer step
// (local_train_config::correction). Throws std::invalid_argument when the sizes differ.
std::vector<float> control_correction(const std::vector<float>& c, const std::vector<float>& c_i);

// Option II's new client control variate:
//   c_i⁺[j] = (c_i[j] − c[j]) + (x_start[j] − y_end[j]) / (steps · local_lr)
// in double, stored as float; x_start is the global model the client started from, y_end its
// model after `steps` local steps (local_train_result::steps) with learning rate local_lr.
// Throws std::invalid_argument when the sizes differ, steps is 0 or local_lr is not finite
// and > 0.
std::vector<float> control_update(const std::vector<float>& c_i, const std::vector<float>& c,
                                  const std::vector<float>& x_start,
                                  const std::vector<float>& y_end, uint32_t steps, double local_lr);

// Δc_i = c_i⁺ − c_i, what a client sends to the server. Throws std::invalid_argument when the
// sizes differ.
std::vector<float> control_delta(const std::vector<float>& c_i_new, const std::vector<float>& c_i);

// The server's control-variate step, in place:
//   c[j] ← c[j] + (sampled / population) · mean_delta_c[j]
// in double, stored as float, where mean_delta_c is the unweighted mean of the Δc_i of the
// `sampled` clients whose Δc_i it averages (count the clients actually averaged, not those
// asked: then the step is c + (1/N)·Σ Δc_i). Throws std::invalid_argument when the sizes
// differ or unless 0 < sampled ≤ population.
void server_control_step(std::vector<float>& c, const std::vector<float>& mean_delta_c,
                         uint64_t sampled, uint64_t population);

}  // namespace fedactor
