// The two ways conv2d (ops_conv.cpp) computes a convolution, on raw arrays. Internal to autodiff.
//
//  * conv_rows_*: any stride, but a fused pooling with stride 1 only. Each image is zero-padded
//    once (for stride s > 1 split into s × s phase planes, conv_rows.cpp); then
//    every row of its im2col matrix is one contiguous span of the padded image: the forward's GEMM
//    reads those spans where they are (gemm_rows), and the weight gradient unfolds them with one
//    copy per (channel, kernel offset) instead of one per output row, per image, in a buffer that
//    stays in cache. Nothing batch-sized is kept between forward and backward.
//  * im2col_*: the classic unfolding of the whole batch (Caffe, ggml), for a pooled convolution
//    of stride > 1.
//
// conv_naive.h holds the direct loops both are tested against.
#pragma once

#include <cstdint>
#include <functional>

#include "autodiff/tensor.h"

namespace integrad::ad {

struct ConvGeometry {
  int64_t n, c, h, w;  // input
  int64_t o, kh, kw;   // weight
  int64_t ho, wo;      // output
  int stride, padding;
  int64_t patch() const { return c * kh * kw; }  // rows of the im2col matrix
  int64_t pixels() const { return ho * wo; }     // output pixels per image
  int64_t image() const { return c * h * w; }    // input values per image
};

// Checks x [N, C, H, W] against weight [O, C, kh, kw]; throws std::invalid_argument naming both.
ConvGeometry conv_geometry(const Shape& x, const Shape& weight, int stride, int padding);

// How conv_rows_forward writes its output: conv(x, w) + bias, then ReLU when `relu`, then with
// `pool` a 2×2 max pooling of stride 2 (PyTorch's floor: y is [N, O, Ho/2, Wo/2]), which records
// each window's winner in `winners` when that is not null, as an offset into the image's wide
// layout (conv_rows.cpp) that conv_rows_backward reads back.
struct ConvOutput {
  bool relu = false;
  bool pool = false;
  int32_t* winners = nullptr;
};

// y [N, O, Ho, Wo] (pooled: [N, O, Ho/2, Wo/2]) from x and w; bias may be null. Pooled: stride 1 only.
// With `after_image`, called on each image's output as soon as it is written, while it is in the
// thread's cache (a fused BatchNorm's statistics, ops_conv_batch_norm.cpp).
template <Scalar T>
void conv_rows_forward(const ConvGeometry& g, const T* x, const T* w, const T* bias, ConvOutput out, T* y,
                       const std::function<void(int64_t image, const T* y_image)>* after_image = nullptr);

// One image's dY [O, ho, wo] (of y's layout), worked out when the backward reaches that image, in
// the calling thread's memory: a fused op's gradient that is never written whole (BatchNorm's,
// ops_conv_batch_norm.cpp).
template <Scalar T>
using ImageGradient = std::function<const T*(int64_t image)>;

// Gradients from dy (the shape of y), or from dy_of image by image when dy is null; each of dx,
// dw, db may be null (not needed). dw and db are added to; dx is overwritten when `dx_fresh`,
// added to otherwise. With `relu_y` (the forward's output after a fused ReLU, pooled or not), dy
// passes only where relu_y > 0; with `winners` (a pooled forward's), dy reaches the convolution's
// output at each window's winner only.
template <Scalar T>
void conv_rows_backward(const ConvGeometry& g, const T* x, const T* w, const T* dy, const T* relu_y, const int32_t* winners, T* dx, bool dx_fresh, T* dw,
                        T* db, const ImageGradient<T>* dy_of = nullptr);

}  // namespace integrad::ad
