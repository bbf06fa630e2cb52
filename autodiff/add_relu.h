// relu(a + b) as one op: a residual block's sum and its activation (nn/model.cpp fuses Add, ReLU
// into it). Apart from ops.h, which nearly every file includes, since only the model and the
// tests call it.
#pragma once

#include "autodiff/tape.h"

namespace integrad::ad {

// relu(a + b) in one pass forward and one backward, the same bits as the two ops (NaN, ±Inf and
// ±0 included); shapes that broadcast take the two ops.
template <Scalar T>
Var<T> add_relu(Var<T> a, Var<T> b);

}  // namespace integrad::ad
