// LIME (`--method lime`), Captum's Lime with its defaults: the interpretable features are the groups
// of --feature-mask (each scalar without one); --samples N coalitions z ~ Bernoulli(0.5) per group
// (a removed group takes the baseline), drawn from a generator seeded by --seed; each perturbed input
// is weighted by exp(−d²/(2·width²)), width 1, with d = 1 − cos(x, x_z) the cosine distance between
// the flattened original and perturbed example (cos taken as 0 when a norm product is below 1e-8,
// as torch's cosine_similarity does). A linear model v(z) ≈ b + Σ φ_j z_j is fitted with an
// intercept: weighted least squares with --lime-alpha 0 (the default), otherwise the Lasso
// (1/(2Σw)) Σ w (v − b − z·φ)² + A‖φ‖₁ (sklearn's Lasso objective, intercept unpenalised) by cyclic
// coordinate descent. The attributions are φ, each group's coefficient on all its elements.
#include <fmt/format.h>

#include <cmath>
#include <random>

#include "nn/for_each_example.h"
#include "attribution/method.h"
#include "attribution/methods/feature_groups.h"

namespace integrad::attr {

namespace {

// Lasso by cyclic coordinate descent on weighted-centred data (so the intercept drops out).
std::vector<double> lasso(const std::vector<std::vector<char>>& z, const std::vector<double>& y, const std::vector<double>& w, size_t m,
                          double alpha) {
  const size_t n = z.size();
  double sw = 0, ybar = 0;
  std::vector<double> zbar(m, 0.0);
  for (size_t s = 0; s < n; ++s) {
    sw += w[s];
    ybar += w[s] * y[s];
    for (size_t j = 0; j < m; ++j) zbar[j] += w[s] * double(z[s][j]);
  }
  ybar /= sw;
  for (double& v : zbar) v /= sw;
  std::vector<double> xc(n * m), r(n), norm(m, 0.0), phi(m, 0.0);
  for (size_t s = 0; s < n; ++s) {
    r[s] = y[s] - ybar;
    for (size_t j = 0; j < m; ++j) norm[j] += w[s] * (xc[s * m + j] = double(z[s][j]) - zbar[j]) * xc[s * m + j] / sw;
  }
  for (int iter = 0; iter < 10000; ++iter) {
    double largest = 0, scale = 0;
    for (size_t j = 0; j < m; ++j) {
      if (norm[j] == 0) continue;
      double rho = 0;
      for (size_t s = 0; s < n; ++s) rho += w[s] * xc[s * m + j] * (r[s] + xc[s * m + j] * phi[j]);
      rho /= sw;
      const double next = (rho > alpha ? rho - alpha : rho < -alpha ? rho + alpha : 0.0) / norm[j];
      const double step = next - phi[j];
      if (step != 0)
        for (size_t s = 0; s < n; ++s) r[s] -= xc[s * m + j] * step;
      phi[j] = next;
      largest = std::max(largest, std::abs(step));
      scale = std::max(scale, std::abs(next));
    }
    if (largest <= 1e-10 * std::max(scale, 1e-300) || largest == 0) break;
  }
  return phi;
}

template <ad::Scalar T>
Attribution<T> run_lime(const MethodCall<T>& c) {
  const Perturbation<T> p = perturbation_setup(c);
  const int64_t samples = c.options.integer("samples");
  const double alpha = c.options.real("lime-alpha");
  Attribution<T> a{.values = ad::Tensor<T>(c.inputs.shape())};
  nn::for_each_example(c.inputs.size(0), [&](int64_t i) {
    std::mt19937_64 rng(example_seed(static_cast<uint64_t>(c.options.integer("seed")), c.first + i));  // one stream per example
    const Groups& g = p.groups[size_t(i)];
    const size_t m = g.size();
    if (m == 0) return;
    std::vector<std::vector<char>> z(static_cast<size_t>(samples), std::vector<char>(m, 0));
    for (auto& keep : z)
      for (char& k : keep) k = char(rng() >> 63);  // Bernoulli(0.5): the top bit
    const T* x = c.inputs.data() + i * p.row;
    const T* b = p.base.data() + i * p.row;
    double xx = 0;
    for (int64_t j = 0; j < p.row; ++j) xx += double(x[j]) * double(x[j]);
    std::vector<double> weight(static_cast<size_t>(samples));
    const std::vector<double> y = evaluate_perturbations<T>(c, p.targets, i, samples, [&](int64_t k, std::span<T> r) {
      for (size_t j = 0; j < m; ++j)
        if (!z[size_t(k)][j])
          for (int64_t o : g[j]) r[size_t(o)] = b[o];
      double xr = 0, rr = 0;
      for (size_t j = 0; j < r.size(); ++j) {  // r holds one example: p.row scalars
        xr += double(x[j]) * double(r[j]);
        rr += double(r[j]) * double(r[j]);
      }
      const double norms = std::sqrt(xx) * std::sqrt(rr);
      const double d = 1.0 - (norms < 1e-8 ? 0.0 : xr / norms);
      weight[size_t(k)] = std::exp(-d * d / 2.0);
    });
    std::vector<double> phi;
    if (alpha > 0) {
      phi = lasso(z, y, weight, m, alpha);
    } else {
      // Normal equations of [1, z] β = y with weights: β_0 the intercept, β_1.. the coefficients.
      const size_t k = m + 1;
      std::vector<double> ata(k * k, 0.0), aty(k, 0.0), u(k);
      for (size_t s = 0; s < z.size(); ++s) {
        u[0] = 1;
        for (size_t j = 0; j < m; ++j) u[j + 1] = double(z[s][j]);
        for (size_t p = 0; p < k; ++p) {
          if (u[p] == 0) continue;
          aty[p] += weight[s] * u[p] * y[s];
          for (size_t q = 0; q < k; ++q) ata[p * k + q] += weight[s] * u[p] * u[q];
        }
      }
      if (!solve_linear(ata, aty, k))
        throw std::invalid_argument(fmt::format("lime: {} sampled coalitions do not determine the {} group coefficients of example {}; use more "
                                                "--samples, a coarser --feature-mask or --lime-alpha > 0", z.size(), m, i));
      phi.assign(aty.begin() + 1, aty.end());
    }
    for (size_t j = 0; j < m; ++j)
      for (int64_t o : g[j]) a.values[i * p.row + o] = T(phi[j]);
  });
  return a;
}

}  // namespace

template <ad::Scalar T>
Method<T> lime_method() {
  using K = OptionSpec::Kind;
  Method<T> m{.name = "lime",
              .display_name = "LIME",
              .summary = "coefficients of a linear model fitted to F over Bernoulli(0.5) coalitions of feature groups, cosine-kernel weighted (Captum's Lime)",
              .uses_baseline = true,
              .options = join({sampling_options("256", "coalitions drawn (Captum's n_samples)", 1e7, "coalition sampler"),
                               {{.name = "lime-alpha", .kind = K::real, .default_value = "0",
                                 .help = "Lasso penalty of the fit; 0: weighted least squares", .min = 0, .max = 1e12}},
                               mask_options()})};
  // Beside the other methods: 256 coalitions, at most 64 features (the fit needs more samples than groups).
  m.matrix_rows = {{"lime", {{"samples", "256"}}, {"linearity"}}};
  m.in_tables = at_most_features<T>(64);
  m.run = run_lime<T>;
  return m;
}

template Method<float> lime_method<float>();
template Method<double> lime_method<double>();

}  // namespace integrad::attr
