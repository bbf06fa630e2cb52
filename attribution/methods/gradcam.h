// Grad-CAM (Selvaraju et al. 2017) as Captum's LayerGradCam computes it, and the upsampling that
// Captum's LayerAttribution.interpolate does with torch.nn.functional.interpolate. Guided Grad-CAM
// (guided_gradcam.cpp) reuses both.
#pragma once

#include <optional>
#include <string>

#include "attribution/method.h"

namespace integrad::attr {

// The node Grad-CAM reads: --layer if given (a name, or a chain's index), else the last node whose
// value is an image [C, h, w] per example with h·w > 1 (Captum users pass the last convolutional
// block; a global average pool's [C, 1, 1] is skipped). Refuses a node whose value is not [C, h, w].
template <ad::Scalar T>
size_t gradcam_layer(const nn::Model<T>& model, const Options& options);

// Σ_c mean_{h,w}(∂F/∂A_c) · A_c at node `layer`, [N, 1, h, w]; clipped at 0 unless `keep_sign`
// (Captum's relu_attributions=True). The target's gradient at the node is taken with the node's
// value as a leaf, so nothing below it is differentiated.
// `f_input`, if given, receives F(x) per example from the same forward (explain need not run another).
template <ad::Scalar T>
ad::Tensor<T> grad_cam(const nn::Model<T>& model, size_t layer, const ad::Tensor<T>& x, const Target<T>& target, bool keep_sign,
                       std::vector<double>* f_input = nullptr);

// [N, C, h, w] resized to [N, C, H, W] as torch.nn.functional.interpolate does it: "nearest"
// (PyTorch's legacy nearest: source index floor(i · h / H) with the scale in float) or "bilinear"
// with align_corners=False (half-pixel centres, source clamped at 0).
enum class Interpolation { nearest, bilinear };
Interpolation parse_interpolation(const std::string& name);
template <ad::Scalar T>
ad::Tensor<T> interpolate(const ad::Tensor<T>& a, int64_t height, int64_t width, Interpolation mode);

}  // namespace integrad::attr
