// The registry entry of Deconvolution (`--method deconvolution`; Zeiler & Fergus 2014, Captum's
// Deconvolution): the gradient with every ReLU's backward replaced by max(g, 0) of the gradient
// arriving from above, whatever the ReLU's input was. Without ReLU layers it is the plain gradient.
// Like guided backprop it hardly depends on the weights above (Adebayo et al.'s randomisation
// check); unlike it, it ignores which units the forward pass switched off. The mechanism is guided
// backprop's (contrast_methods.h, modified_relu_gradient). Dummy holds: a feature whose weights
// are all zero receives exactly 0.
#include "attribution/method.h"
#include "attribution/methods/contrast_methods.h"

namespace integrad::attr {

template <ad::Scalar T>
Method<T> deconvolution_method() {
  Method<T> m{.name = "deconvolution",
              .display_name = "Deconvolution",
              .summary = "the gradient with each ReLU passing back max(g, 0) whatever its input (Captum's Deconvolution)",
              .guarantees = {"dummy"}};
  m.run = [](const MethodCall<T>& c) {
    return Attribution<T>{.values = modified_relu_gradient(c.model, c.inputs, c.target, ReluBackward::deconvolution)};
  };
  return m;
}

template Method<float> deconvolution_method<float>();
template Method<double> deconvolution_method<double>();

}  // namespace integrad::attr
