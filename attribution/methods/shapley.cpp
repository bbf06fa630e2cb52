// Exact Shapley values (`--method shapley`), Captum's ShapleyValues: the players are the groups of
// --feature-mask (each scalar without one); a coalition keeps its groups and sets the others to the
// baseline. Every one of the 2^M coalitions is evaluated once, then each group gets
// Σ_S |S|!(M − |S| − 1)!/M! · (v(S ∪ {g}) − v(S)) over the coalitions S without it. Efficiency:
// the values sum to F(x) − F(x′) (to rounding). Refused above 16 groups.
#include <fmt/format.h>

#include <bit>

#include "nn/for_each_example.h"
#include "attribution/method.h"
#include "attribution/methods/feature_groups.h"

namespace integrad::attr {

namespace {
constexpr size_t kMaxShapleyGroups = 16;
}

template <ad::Scalar T>
Method<T> shapley_method() {
  Method<T> m{.name = "shapley",
              .display_name = "Shapley values",
              .summary = "exact Shapley values of the feature groups over all 2^M coalitions, at most 16 groups (Captum's ShapleyValues)",
              .uses_baseline = true,
              .has_delta = true,
              .guarantees = {"completeness", "dummy", "linearity", "symmetry"},
              .options = mask_options()};
  m.in_tables = at_most_features<T>(kMaxShapleyGroups - 1);  // room for the dummy check's extra input
  m.run = [](const MethodCall<T>& c) {
    const Perturbation<T> p = perturbation_setup(c);
    Attribution<T> a{.values = ad::Tensor<T>(c.inputs.shape())};
    nn::for_each_example(c.inputs.size(0), [&](int64_t i) {
      const Groups& g = p.groups[size_t(i)];
      const size_t players = g.size();
      if (players > kMaxShapleyGroups)
        throw std::invalid_argument(fmt::format("shapley evaluates all 2^M coalitions and takes at most {} feature groups; example {} has {}: "
                                                "group features with --feature-mask, or use kernelshap",
                                                kMaxShapleyGroups, i, players));
      const T* b = p.base.data() + i * p.row;
      const int64_t coalitions = int64_t(1) << players;
      // v[S]: bit k of S set keeps group k.
      const std::vector<double> v = evaluate_perturbations<T>(c, p.targets, i, coalitions, [&](int64_t s, std::span<T> r) {
        for (size_t k = 0; k < players; ++k)
          if (!((s >> k) & 1))
            for (int64_t o : g[k]) r[size_t(o)] = b[o];
      });
      // weight[s] = s!(M − s − 1)!/M!, exact in double up to 16!.
      std::vector<double> fact(players + 1, 1.0);
      for (size_t k = 1; k <= players; ++k) fact[k] = fact[k - 1] * double(k);
      std::vector<double> weight(players, 0.0);
      for (size_t s = 0; s < players; ++s) weight[s] = fact[s] * fact[players - s - 1] / fact[players];
      std::vector<double> phi(players, 0.0);
      for (int64_t s = 0; s < coalitions; ++s)
        for (size_t k = 0; k < players; ++k)
          if (!((s >> k) & 1)) phi[k] += weight[size_t(std::popcount(uint64_t(s)))] * (v[size_t(s | (int64_t(1) << k))] - v[size_t(s)]);
      for (size_t k = 0; k < players; ++k)
        for (int64_t o : g[k]) a.values[i * p.row + o] = T(phi[k]);
    });
    set_group_deltas(a, c, p);
    return a;
  };
  return m;
}

template Method<float> shapley_method<float>();
template Method<double> shapley_method<double>();

}  // namespace integrad::attr
