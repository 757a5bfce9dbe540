#pragma once

// Rényi differential privacy (RDP) of the sampled Gaussian mechanism (SGM) and its conversion
// to (ε, δ)-DP: the privacy accountant of DP-FedAvg (docs/privacy.md).
//
// The SGM adds N(0, σ²) to the sum of a function of sensitivity 1 over a Poisson sample of
// the data (each record independently with probability q). Its RDP at order α is
// log(A_α)/(α − 1) with A_α = E_{z∼μ0}[((1 − q) + q·μ1(z)/μ0(z))^α], μ0 = N(0, σ²),
// μ1 = N(1, σ²) (Mironov, Talwar, Zhang 2019, "Rényi Differential Privacy of the Sampled
// Gaussian Mechanism", Sections 3.3 and 3.4): a binomial sum for integer α, and for fractional
// α two series of erfc terms split at z0 = σ²·ln(1/q − 1) + 1/2. These are the formulas of
// TensorFlow Privacy's rdp_accountant (_compute_log_a_int / _compute_log_a_frac, compute_rdp),
// computed in log space. RDP composes by addition over rounds. The conversion to (ε, δ) is the
// improved bound of Canonne, Kamath, Steinke 2020 (arXiv 2004.00010, Proposition 12):
// ε = rdp + ln(1 − 1/α) − ln(δ·α)/(α − 1), minimised over the orders (with the KL bound
// δ ≤ sqrt(1 − e^(−rdp)) giving ε = 0 when it suffices), as get_privacy_spent does.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fedactor {

// The orders TensorFlow Privacy's compute_dp_sgd_privacy uses: 1.25, 1.5, 1.75, 2, 2.25, 2.5,
// 3, 3.5, 4, 4.5, 5, 6, ..., 63, 128, 256, 512 (72 orders).
const std::vector<double>& default_rdp_orders();

// RDP at order `alpha` (>= 1, may be +inf; 1 only with q = 0 or 1) of one SGM step with
// sampling rate q in [0, 1] and noise multiplier sigma (noise std / sensitivity) >= 0: 0 for
// q = 0, α/(2σ²) for q = 1, +inf for σ = 0 (q > 0) or α = +inf. Throws std::invalid_argument
// for values outside those ranges.
double sgm_rdp(double q, double sigma, double alpha);

// `steps` steps, at each order.
std::vector<double> sgm_rdp(double q, double sigma, uint64_t steps,
                            const std::vector<double>& orders);

// (ε, δ) from RDP values at `orders` (same length, orders >= 1, rdp >= 0), and the order
// that gave it.
struct privacy_spent {
  double epsilon = 0;
  double delta = 0;
  double order = 0;
};

// The smallest ε for `delta` (> 0); +inf when no order gives a finite one.
privacy_spent epsilon_for_delta(const std::vector<double>& orders, const std::vector<double>& rdp,
                                double delta);
// The smallest δ (at most 1) for `epsilon` (>= 0).
privacy_spent delta_for_epsilon(const std::vector<double>& orders, const std::vector<double>& rdp,
                                double epsilon);

// The running total of a run: one SGM step per round, at the default orders.
class rdp_accountant {
 public:
  rdp_accountant();

  // Composes `steps` SGM steps of rate q and noise multiplier sigma.
  void add_steps(double q, double sigma, uint64_t steps = 1);

  const std::vector<double>& orders() const { return orders_; }
  const std::vector<double>& rdp() const { return rdp_; }
  privacy_spent spent(double delta) const { return epsilon_for_delta(orders_, rdp_, delta); }

  // The totals' byte form (a u64 count, then one f64 per order), and back: load throws
  // checkpoint_error naming `what` when the bytes are not that (another order count, a
  // negative or NaN total, trailing bytes), changing nothing.
  std::vector<char> save() const;
  void load(const char* data, size_t size, const std::string& what);

 private:
  std::vector<double> orders_;
  std::vector<double> rdp_;
  // The last step's rates and RDP (rounds mostly repeat the same q and σ).
  double cached_q_ = -1, cached_sigma_ = -1;
  std::vector<double> cached_;
};

}  // namespace fedactor
