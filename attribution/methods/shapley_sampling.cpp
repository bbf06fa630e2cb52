// Shapley value sampling (`--method shapley-sampling`), Captum's ShapleyValueSampling: the players
// are the groups of --feature-mask (each scalar without one). For each of --samples N random
// permutations (drawn from a generator seeded by --seed), the groups are added one at a time, in the
// permutation's order, to the all-baseline input; each group's marginal contribution
// v(before ∪ {g}) − v(before) is averaged over the N permutations. Forward-only, batched; every
// permutation's contributions telescope to F(x) − F(x′), so efficiency holds exactly (to rounding).
#include <algorithm>
#include <numeric>
#include <random>

#include "nn/for_each_example.h"
#include "attribution/method.h"
#include "attribution/methods/feature_groups.h"

namespace integrad::attr {

template <ad::Scalar T>
Method<T> shapley_sampling_method() {
  Method<T> m{.name = "shapley-sampling",
              .display_name = "Shapley sampling",
              .summary = "Shapley values estimated over N random permutations of the feature groups (Captum's ShapleyValueSampling)",
              .uses_baseline = true,
              .has_delta = true,
              .guarantees = {"completeness", "dummy", "linearity"},  // symmetry only in expectation
              .options = join({sampling_options("25", "random permutations (Captum's n_samples)", 1e6, "permutation sampler"), mask_options()})};
  // Beside the other methods: 8 permutations, at most 64 features.
  m.matrix_rows = {{"shapley-sampling", {{"samples", "8"}}, {"completeness", "dummy", "linearity"}}};
  m.in_tables = at_most_features<T>(64);
  m.run = [](const MethodCall<T>& c) {
    const Perturbation<T> setup = perturbation_setup(c);
    const int64_t samples = c.options.integer("samples");
    Attribution<T> a{.values = ad::Tensor<T>(c.inputs.shape())};
    nn::for_each_example(c.inputs.size(0), [&](int64_t i) {
      std::mt19937_64 rng(example_seed(static_cast<uint64_t>(c.options.integer("seed")), c.first + i));  // one stream per example
      const Groups& g = setup.groups[size_t(i)];
      const size_t m = g.size();
      if (m == 0) return;
      // The permutations in passes of about 2^16 evaluations, drawn in the same order and summed in
      // the same order as one pass (the same bits): memory follows the pass, not --samples (it was
      // 16 bytes per group and permutation, 12.5 KB per sample on 28x28).
      const T* b = setup.base.data() + i * setup.row;
      const int64_t per = int64_t(m) + 1, pass = std::max<int64_t>(1, (int64_t(1) << 16) / per);
      std::vector<double> phi(m, 0.0);
      std::vector<size_t> perm;
      for (int64_t p0 = 0; p0 < samples; p0 += pass) {
        const int64_t count = std::min(pass, samples - p0);
        // perm[p·m + t]: the t-th group added in permutation p0 + p (Fisher–Yates on 53-bit uniforms).
        perm.assign(size_t(count) * m, 0);
        for (int64_t p = 0; p < count; ++p) {
          size_t* o = perm.data() + size_t(p) * m;
          std::iota(o, o + m, size_t(0));
          for (size_t k = m; k > 1; --k) {
            const size_t j = std::min(size_t(double(rng() >> 11) * 0x1.0p-53 * double(k)), k - 1);
            std::swap(o[k - 1], o[j]);
          }
        }
        // Evaluation p·(m + 1) + t keeps the first t groups of permutation p, the rest at the baseline.
        const std::vector<double> v = evaluate_perturbations<T>(c, setup.targets, i, count * per, [&](int64_t k, std::span<T> r) {
          const size_t* o = perm.data() + size_t(k / per) * m;
          for (size_t t = size_t(k % per); t < m; ++t)
            for (int64_t off : g[o[t]]) r[size_t(off)] = b[off];
        });
        for (int64_t p = 0; p < count; ++p)
          for (size_t t = 0; t < m; ++t) phi[perm[size_t(p) * m + t]] += v[size_t(p * per) + t + 1] - v[size_t(p * per) + t];
      }
      for (size_t k = 0; k < m; ++k)
        for (int64_t o : g[k]) a.values[i * setup.row + o] = T(phi[k] / double(samples));
    });
    set_group_deltas(a, c, setup);
    return a;
  };
  return m;
}

template Method<float> shapley_sampling_method<float>();
template Method<double> shapley_sampling_method<double>();

}  // namespace integrad::attr
