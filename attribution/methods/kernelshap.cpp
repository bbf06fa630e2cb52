// KernelSHAP (`--method kernelshap`, Lundberg & Lee 2017) over the groups of --feature-mask (each
// scalar without one): a weighted least-squares fit of v(z) ≈ v(∅) + Σ φ_j z_j over coalitions z,
// with efficiency Σ φ = F(x) − F(x′) imposed exactly (the last value is eliminated). With
// --samples N ≥ 2^M − 2 every coalition is used with the Shapley kernel weight
// (M − 1)/(C(M, |z|)·|z|·(M − |z|)), and the result is the exact Shapley values (to rounding);
// otherwise N distinct coalitions are drawn by size (sampled_coalitions), from a generator seeded
// by --seed and the example's index in the whole input (example_seed).
#include <fmt/format.h>

#include <cmath>
#include <random>
#include <set>

#include "nn/for_each_example.h"
#include "attribution/method.h"
#include "attribution/methods/feature_groups.h"
#include "attribution/methods/kernelshap.h"

namespace integrad::attr {

namespace {

// Every coalition but the empty and the full one, with the Shapley kernel's weights
// (M − 1) / (C(M, s)·s·(M − s)): the regression then gives exact Shapley values.
Coalitions all_coalitions(size_t m) {
  Coalitions c;
  std::vector<double> binom(m + 1, 1.0);
  for (size_t k = 1; k <= m; ++k) binom[k] = binom[k - 1] * double(m - k + 1) / double(k);
  for (int64_t s = 1; s < (int64_t(1) << m) - 1; ++s) {
    std::vector<char> keep(m);
    size_t size = 0;
    for (size_t k = 0; k < m; ++k) size += (keep[k] = char((s >> k) & 1));
    c.keep.push_back(std::move(keep));
    c.weight.push_back(double(m - 1) / (binom[size] * double(size) * double(m - size)));
  }
  return c;
}

}  // namespace

// `samples` distinct coalitions (no repeats), by size, as the shap package does: the kernel's mass
// of size s is (M − 1)/(s(M − s)); the sizes s and M − s are taken in pairs from the outside in
// (1 and M − 1 first), and a pair whose coalitions all fit in its share of the remaining budget
// (budget × its mass / the remaining mass) is enumerated with the kernel's weight per coalition.
// The budget left is drawn from the other sizes: a size with probability ∝ its mass, then a
// uniform subset, a coalition already drawn drawn again; each carries the remaining mass / the
// number drawn. The weights sum to the kernel's total mass (as with every coalition). Needs
// samples < 2^M − 2 (otherwise all_coalitions).
Coalitions sampled_coalitions(size_t m, int64_t samples, uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto uniform = [&] { return double(rng() >> 11) * 0x1.0p-53; };
  Coalitions c;
  std::vector<double> mass(m, 0.0), binom(m + 1, 1.0);
  for (size_t k = 1; k <= m; ++k) binom[k] = binom[k - 1] * double(m - k + 1) / double(k);
  double left_mass = 0;
  for (size_t s = 1; s < m; ++s) left_mass += mass[s] = double(m - 1) / (double(s) * double(m - s));
  std::vector<char> open(m, 1);  // sizes still to be sampled
  open[0] = 0;
  int64_t budget = samples;
  std::vector<size_t> order(m);
  // Enumerate the pairs of sizes that fit.
  for (size_t s = 1; s <= m / 2; ++s) {
    const size_t t = m - s;
    const double pair_count = s == t ? binom[s] : 2 * binom[s];
    const double pair_mass = s == t ? mass[s] : mass[s] + mass[t];
    if (!(double(budget) * pair_mass / left_mass >= pair_count - 1e-9)) break;
    for (size_t size : s == t ? std::vector<size_t>{s} : std::vector<size_t>{s, t}) {
      // Every subset of `size` groups, in lexicographic order of the kept indices.
      std::vector<size_t> pick(size);
      for (size_t k = 0; k < size; ++k) pick[k] = k;
      while (true) {
        std::vector<char> keep(m, 0);
        for (size_t k : pick) keep[k] = 1;
        c.keep.push_back(std::move(keep));
        c.weight.push_back(mass[size] / binom[size]);
        size_t k = size;
        while (k > 0 && pick[k - 1] == m - size + k - 1) --k;
        if (k == 0) break;
        ++pick[k - 1];
        for (size_t q = k; q < size; ++q) pick[q] = pick[q - 1] + 1;
      }
      open[size] = 0;
    }
    budget -= int64_t(pair_count);
    left_mass -= pair_mass;
  }
  if (budget <= 0 || left_mass <= 0) return c;
  std::set<std::vector<char>> seen;
  const size_t first_sampled = c.keep.size();
  // At least `budget` coalitions remain among the open sizes (samples < 2^M − 2); the cap on the
  // draws only guards the loop.
  for (int64_t draws = 0; budget > 0 && draws < 1000 * samples + 1000; ++draws) {
    double u = uniform() * left_mass;
    size_t size = 0;
    for (size_t s = 1; s < m; ++s) {
      if (!open[s]) continue;
      size = s;
      if (u < mass[s]) break;
      u -= mass[s];
    }
    for (size_t k = 0; k < m; ++k) order[k] = k;
    std::vector<char> keep(m, 0);
    for (size_t k = 0; k < size; ++k) {
      const size_t j = k + std::min(size_t(uniform() * double(m - k)), m - k - 1);
      std::swap(order[k], order[j]);
      keep[order[k]] = 1;
    }
    if (!seen.insert(keep).second) continue;
    c.keep.push_back(std::move(keep));
    --budget;
  }
  const double each = left_mass / double(c.keep.size() - first_sampled);
  for (size_t k = first_sampled; k < c.keep.size(); ++k) c.weight.push_back(each);
  return c;
}

namespace {

// The weighted least-squares fit of v(z) − v(∅) = Σ φ_j z_j with efficiency as a constraint:
// φ_last = Δ − Σ_{j<last} φ_j, so v(z) − v(∅) − z_last·Δ = Σ_{j<last} φ_j (z_j − z_last).
// v[0] is F(x), v[1] F(x′), v[s + 2] the value of coalition s. Empty when underdetermined.
std::vector<double> efficient_fit(const Coalitions& c, const std::vector<double>& v, size_t m) {
  const double delta = v[0] - v[1];
  if (m == 1) return {delta};
  const size_t k = m - 1;
  std::vector<double> ata(k * k, 0.0), aty(k, 0.0), row_a(k);
  for (size_t s = 0; s < c.keep.size(); ++s) {
    const double last = c.keep[s][k];
    const double y = v[s + 2] - v[1] - last * delta;
    for (size_t j = 0; j < k; ++j) row_a[j] = double(c.keep[s][j]) - last;
    for (size_t p = 0; p < k; ++p) {
      if (row_a[p] == 0) continue;
      aty[p] += c.weight[s] * row_a[p] * y;
      for (size_t q = 0; q < k; ++q) ata[p * k + q] += c.weight[s] * row_a[p] * row_a[q];
    }
  }
  if (!solve_linear(ata, aty, k)) return {};
  std::vector<double> phi(m);
  double rest = delta;
  for (size_t j = 0; j < k; ++j) rest -= phi[j] = aty[j];
  phi[k] = rest;
  return phi;
}

// Below this many sampled coalitions per group, KernelSHAP warns that its values are noise.
constexpr int64_t kCoalitionsPerGroup = 4;

template <ad::Scalar T>
Attribution<T> run_kernelshap(const MethodCall<T>& c) {
  const Perturbation<T> p = perturbation_setup(c);
  const int64_t samples = c.options.integer("samples");
  const uint64_t seed = static_cast<uint64_t>(c.options.integer("seed"));
  Attribution<T> a{.values = ad::Tensor<T>(c.inputs.shape())};
  // A few coalitions of many groups fit a regression with more unknowns than equations' worth of
  // information: the values come out, and are noise (1,024 coalitions for 784 pixels). Say so.
  size_t groups = 0;
  for (const Groups& g : p.groups) groups = std::max(groups, g.size());
  const bool exact = groups < 31 && samples >= (int64_t(1) << groups) - 2;
  if (!exact && samples < kCoalitionsPerGroup * int64_t(groups))
    a.warnings.push_back(fmt::format("kernelshap: {} coalitions for {} feature groups are fewer than {} per group: the values are mostly noise; group the "
                                     "features (--patch K or --feature-mask) or raise --samples",
                                     samples, groups, kCoalitionsPerGroup));
  nn::for_each_example(c.inputs.size(0), [&](int64_t i) {
    const Groups& g = p.groups[size_t(i)];
    const size_t m = g.size();
    if (m == 0) return;
    // The fit is an (M − 1)² system and each coalition an M-byte row: refused up front, with the
    // estimate, where it cannot fit (2^20 single-pixel groups asked for terabytes).
    const double bytes = 8.0 * double(m - 1) * double(m - 1) + double(std::min<int64_t>(samples, m < 63 ? (int64_t(1) << m) : samples)) * double(m);
    if (bytes > double(int64_t(1) << 31))
      throw std::invalid_argument(fmt::format("kernelshap over {} feature groups needs about {:.3g} GB (an {}² least-squares system and {} coalitions of {} "
                                              "bytes); group the features (--patch, --feature-mask) or lower --samples",
                                              m, bytes / 1e9, m - 1, samples, m));
    const Coalitions z = m < 2 ? Coalitions{} : m < 31 && samples >= (int64_t(1) << m) - 2 ? all_coalitions(m) : sampled_coalitions(m, samples, example_seed(seed, c.first + i));
    // Rows 0 and 1 of the evaluation are x and x′, then one row per coalition.
    const T* b = p.base.data() + i * p.row;
    const std::vector<double> v = evaluate_perturbations<T>(c, p.targets, i, int64_t(z.keep.size()) + 2, [&](int64_t k, std::span<T> r) {
      for (size_t j = 0; j < m; ++j)
        if (k == 1 || (k >= 2 && !z.keep[size_t(k - 2)][j]))
          for (int64_t o : g[j]) r[size_t(o)] = b[o];
    });
    const std::vector<double> phi = efficient_fit(z, v, m);
    if (phi.empty())
      throw std::invalid_argument(fmt::format("kernelshap: {} sampled coalitions do not determine the {} group values of example {}; use more --samples "
                                              "(or a coarser --feature-mask)", z.keep.size(), m, i));
    for (size_t j = 0; j < m; ++j)
      for (int64_t o : g[j]) a.values[i * p.row + o] = T(phi[j]);
  });
  set_group_deltas(a, c, p);
  return a;
}

}  // namespace

template <ad::Scalar T>
Method<T> kernelshap_method() {
  Method<T> m{.name = "kernelshap",
              .display_name = "KernelSHAP",
              .summary = "KernelSHAP: Shapley-kernel weighted least squares over coalitions of feature groups, efficiency exact (Captum's KernelShap)",
              .uses_baseline = true,
              .has_delta = true,
              .guarantees = {"completeness"},
              .options = join({sampling_options("1024", "coalitions drawn; with N >= 2^M − 2 for M groups all are used (exact Shapley)", 1e7,
                                               "coalition sampler"),
                              mask_options()})};
  // Beside the other methods: 256 coalitions (every one up to 8 features), at most 16 features.
  m.matrix_rows = {{"kernelshap", {{"samples", "256"}}, {"completeness"}}};
  m.in_tables = at_most_features<T>(16);
  m.run = run_kernelshap<T>;
  return m;
}

template Method<float> kernelshap_method<float>();
template Method<double> kernelshap_method<double>();

}  // namespace integrad::attr
