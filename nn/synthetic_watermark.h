// synthetic-watermark: a Clever Hans data set. Images [N, 1, 28, 28] of noise in [0, 0.2] holding
// one object of value 0.6, a 7x7 shape at a random place in rows and columns 7..20: class 0 a
// hollow square (its outline), class 1 a plus sign (the middle row and column). The object alone
// decides the label. Each image also holds a watermark: a 3x3 block of value 1 in the top-left
// corner (rows and columns 1..3) or the top-right one (rows 1..3, columns 24..26). In the training
// split the watermark agrees with the label (top-left for 0, top-right for 1); in the test split it
// is drawn at random, independent of the label. A model can learn either cue; one that learned the
// watermark scores about 50% on the test split. The masks mark the object (synthetic_watermark_
// object_masks) and, apart, the watermark (synthetic_watermark_masks); the values 0.6 and 1 occur
// nowhere else, so the masks are read back from the pixels.
#pragma once

#include "nn/dataset.h"

namespace integrad::nn {

inline constexpr float kWatermarkObject = 0.6f, kWatermarkMark = 1.0f;

// `agreeing`: the watermark follows the label (the training split) or is random (the test split).
template <ad::Scalar T>
Dataset<T> synthetic_watermark(int64_t n, uint64_t seed, bool agreeing);

ad::Tensor<float> synthetic_watermark_object_masks(const ad::Tensor<float>& inputs);  // 1 on the object
ad::Tensor<float> synthetic_watermark_masks(const ad::Tensor<float>& inputs);         // 1 on the watermark

}  // namespace integrad::nn
