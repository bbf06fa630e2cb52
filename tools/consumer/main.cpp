// A program built against an installed integrad (find_package(integrad)): train a model, explain
// an input — the README's C++ example.
#include <attribution/methods/integrated_gradients.h>
#include <cstdio>
#include <nn/architecture.h>
#include <nn/named_datasets.h>
#include <nn/synthetic.h>
#include <nn/train.h>
using namespace integrad;

int main() {
  auto data = nn::synthetic_patches<float>(/*n=*/2000, /*seed=*/1);  // the class decides where a bright patch is
  auto model = nn::parse_architecture<float>(nn::named_architecture("cnn"), ad::Shape{1, 28, 28}, nn::InputDtype::float32, /*seed=*/0);
  nn::train<float>(model, data, nullptr, nn::TrainOptions{.progress = false});  // one epoch of Adam, lr 1e-3, batch 64
  auto test = nn::synthetic_patches<float>(/*n=*/4, /*seed=*/2);
  attr::IgOptions<float> ig;                                                    // 50 Gauss-Legendre steps, baseline 0
  auto a = attr::integrated_gradients(attr::forward_of(model), test.inputs, attr::Target<float>::predicted(), ig);
  for (size_t i = 0; i < a.deltas.size(); ++i)                                  // a.values: [4, 1, 28, 28]
    std::printf("example %zu: class %lld, F(x) - F(x') = %.3f, delta %.2e\n", i, (long long)a.targets[i], a.f_input[i] - a.f_baseline[i], a.deltas[i]);
  return nn::accuracy(model, test) == 1.0 ? 0 : 1;
}
