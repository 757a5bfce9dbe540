#pragma once

// Gamma and Dirichlet draws on the deterministic rng (Marsaglia–Tsang), so that
// partitions and synthetic data depend only on the seed, not on the standard library.

#include <cstddef>
#include <vector>

#include "runtime/math/rng.hpp"

namespace fedactor {

// log of a Gamma(shape, 1) draw, shape > 0. Shapes below 1 use the boost
// Gamma(a) = Gamma(a + 1) · U^(1/a), kept in log space so tiny shapes do not underflow.
double log_gamma_draw(rng& r, double shape);

// A Gamma(shape, 1) draw, shape > 0 (may underflow to 0 for shape << 1).
double gamma_draw(rng& r, double shape);

// Smallest concentration dirichlet_draw accepts (and the scenario's data.alpha for the
// dirichlet and quantity_skew partitions).
constexpr double min_dirichlet_alpha = 1e-6;

// A draw from the symmetric Dirichlet Dir(alpha, …, alpha) over n components: n non-negative
// proportions summing to 1. std::invalid_argument unless alpha >= min_dirichlet_alpha.
std::vector<double> dirichlet_draw(rng& r, double alpha, size_t n);

// Splits `total` into counts proportional to `p` (sum 1) by largest remainder: the counts
// sum to `total` exactly; ties go to the lower index.
std::vector<size_t> proportional_counts(const std::vector<double>& p, size_t total);

}  // namespace fedactor
