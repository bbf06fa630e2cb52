#include "attribution/evaluation/paper_models.h"

#include "nn/architecture.h"
#include "nn/layers_linear.h"

namespace integrad::attr {

namespace {
// A Model from its architecture, with the Linear layers' weights and biases given in order.
nn::Model<double> build(const char* architecture, int64_t inputs, std::vector<std::pair<std::vector<double>, std::vector<double>>> params) {
  nn::Model<double> m = nn::parse_architecture<double>(architecture, ad::Shape{inputs}, nn::InputDtype::float64, 0);
  size_t next = 0;
  for (auto& layer : m.layers)
    if (auto* l = nn::layer_if<nn::Linear<double>>(*layer)) {
      auto& [w, b] = params[next++];
      l->weight.value = ad::Tensor<double>(l->weight.value.shape(), w);
      l->bias.value = ad::Tensor<double>(l->bias.value.shape(), b);
    }
  return m;
}
}  // namespace

nn::Model<double> paper_one_minus_relu() { return build("Linear(1, 1); ReLU(); Linear(1, 1)", 1, {{{-1}, {1}}, {{-1}, {1}}}); }

nn::Model<double> paper_appendix_b_f() {
  return build("Linear(2, 2); ReLU(); Linear(2, 1); ReLU()", 2, {{{1, 0, 0, 1}, {0, 0}}, {{1, -1}, {-1}}});
}

nn::Model<double> paper_appendix_b_g() {
  return build("Linear(2, 2); ReLU(); Linear(2, 1); ReLU()", 2, {{{1, 0, 0, 1}, {-1, 0}}, {{1, -1}, {0}}});
}

}  // namespace integrad::attr
