// Feature ablation (`--method ablation`), Captum's FeatureAblation: each group of --feature-mask
// (each scalar without one) gets F(x) − F(x with the group set to the baseline), carried by every
// element of the group.
#include "nn/for_each_example.h"
#include "attribution/method.h"
#include "attribution/methods/feature_groups.h"

namespace integrad::attr {

template <ad::Scalar T>
Method<T> ablation_method() {
  Method<T> m{.name = "ablation",
              .display_name = "Feature Ablation",
              .summary = "F(x) − F(x with the feature group set to the baseline) (Captum's FeatureAblation)",
              .uses_baseline = true,
              .options = mask_options()};
  m.guarantees = {"dummy", "linearity", "symmetry"};
  m.in_tables = at_most_features<T>(256);
  m.run = [](const MethodCall<T>& c) {
    const Perturbation<T> p = perturbation_setup(c);
    Attribution<T> a{.values = ad::Tensor<T>(c.inputs.shape())};
    nn::for_each_example(c.inputs.size(0), [&](int64_t i) {
      const Groups& g = p.groups[size_t(i)];
      const T* b = p.base.data() + i * p.row;
      // Row 0 is x itself; row k removes group k − 1.
      const std::vector<double> f = evaluate_perturbations<T>(c, p.targets, i, int64_t(g.size()) + 1, [&](int64_t k, std::span<T> r) {
        if (k > 0)
          for (int64_t o : g[size_t(k - 1)]) r[size_t(o)] = b[o];
      });
      for (size_t k = 0; k < g.size(); ++k)
        for (int64_t o : g[k]) a.values[i * p.row + o] = T(f[0] - f[k + 1]);
    });
    return a;
  };
  return m;
}

template Method<float> ablation_method<float>();
template Method<double> ablation_method<double>();

}  // namespace integrad::attr
