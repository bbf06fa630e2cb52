// The examples of "Axiomatic Attribution for Deep Networks", as Model models, so every
// check and method runs on them exactly as on a trained model.
//   one_minus_relu:  F(x) = 1 − ReLU(1 − x)            (sensitivity: gradients vanish at x = 2)
//   appendix_b_f:    f(x) = ReLU(ReLU(x₁) − 1 − ReLU(x₂))
//   appendix_b_g:    g(x) = ReLU(ReLU(x₁ − 1) − ReLU(x₂)) (f = g everywhere; DeepLift tells them apart)
#pragma once

#include "nn/model.h"

namespace integrad::attr {

nn::Model<double> paper_one_minus_relu();
nn::Model<double> paper_appendix_b_f();
nn::Model<double> paper_appendix_b_g();

}  // namespace integrad::attr
