// Folding BatchNorm into the layer before it — a rewrite Model -> Model that computes the same
// function in evaluation (as torch.fx's fuse, and Zennit's MergeBatchNorm canonizer): where a
// BatchNorm reads a Conv2d or Linear that nothing else reads, that layer's weights are scaled by
// the BatchNorm's per-channel scale, its bias becomes bias·scale + shift, and the BatchNorm node
// becomes an Identity (its name kept, so --layer names still hold). Other BatchNorms stay.
#pragma once

#include "nn/model.h"

namespace integrad::nn {

template <ad::Scalar T>
Model<T> fold_batch_norm(const Model<T>& model);

// How many BatchNorm nodes the model has.
template <ad::Scalar T>
int count_batch_norms(const Model<T>& model);

}  // namespace integrad::nn
