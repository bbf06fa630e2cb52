// Blur IG (Xu et al. 2020, "Attribution in Scale and Space"), as PAIR saliency's BlurIG computes it
// (saliency/core/blur_ig.py): integrated gradients along the path from the image x, unblurred, to
// x blurred by a Gaussian of standard deviation max_sigma. With σ_k = k·max_sigma / steps,
// k = 0..steps, the attribution is the left Riemann sum
//     A = −Σ_{k<steps} (σ_{k+1} − σ_k) · ∂x/∂σ(σ_k) · ∂F/∂x(blur(x, σ_k)),
// where ∂x/∂σ is PAIR's forward difference (blur(x, σ + grad_step) − blur(x, σ)) / grad_step. So
// Σ A ≈ F(x) − F(blur(x, max_sigma)): the fully blurred image is the baseline.
// The blur is scipy.ndimage.gaussian_filter with truncate 4 and mode "constant" (zeros outside),
// over height and width only, each channel on its own.
#pragma once

#include "attribution/target.h"

namespace integrad::attr {

// Each [H, W] plane of images [N, C, H, W] blurred with a Gaussian of standard deviation sigma:
// scipy's gaussian_filter(plane, sigma, mode="constant", truncate=4.0), a kernel of radius
// int(4σ + 0.5) normalised to sum 1, rows then columns. sigma 0 returns the images unchanged (as
// PAIR's gaussian_blur does). Computed in double whatever T.
template <ad::Scalar T>
ad::Tensor<double> gaussian_blur(const ad::Tensor<T>& images, double sigma);

struct BlurIgOptions {
  double max_sigma = 50;
  int steps = 100;
  double grad_step = 0.01;
  int64_t batch_size = 512;  // path points per forward/backward pass
};

// Blur IG of images [N, C, H, W] for the target (resolved per example beforehand where it is a class).
template <ad::Scalar T>
ad::Tensor<T> blur_integrated_gradients(const Forward<T>& f, const ad::Tensor<T>& x, const Target<T>& target, std::span<const int64_t> targets,
                                        const BlurIgOptions& options);

}  // namespace integrad::attr
