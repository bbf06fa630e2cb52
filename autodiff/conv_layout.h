// The padded layout the rows convolution (conv_rows.cpp) works in: where each padded pixel and
// each unfolded row lies (RowsGeometry), the per-thread buffers, and writing images into it
// (pad_image; pad_planes for any zero-bordered stride-1 layout). Internal to conv_rows.cpp.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "autodiff/conv_kernels.h"

namespace integrad::ad::conv_layout {

struct RowsGeometry {
  int64_t s;        // the stride: s × s phase planes per channel (one, the padded image, for stride 1)
  int64_t hp, wp;   // a phase plane
  int64_t span;     // ho·wp: columns of the unfolded matrix and of the wide output
  int64_t padded;   // values in a padded image buffer, including the slack the last span reads
  // Where the unfolded row of (channel, i, j) starts in the buffer, row (channel·kh + i)·kw + j:
  // worked out once a call, not with three divisions per row per image (7% of a ResNet forward).
  std::vector<int64_t> starts;
  // Where image pixel (y, b) of channel 0 lies, y < h and b < s: pixels b, b + s, b + 2s, ... of
  // image row y lie side by side from there, in one phase plane. Also worked out once a call: the
  // divisions per row of every image were most of the stride-2 convolution's padding.
  std::vector<int64_t> image_rows;
  RowsGeometry(const ConvGeometry& g)
      : s(g.stride),
        hp((g.h + 2 * g.padding + s - 1) / s),
        wp((g.w + 2 * g.padding + s - 1) / s),
        span(g.ho * wp),
        padded(g.c * s * s * hp * wp + (g.kw - 1) / s) {
    // at(ic, i, j) for every patch row, its divisions done once per kernel row and column: 4
    // integer divisions per row were a fiftieth of an LRP on a ResNet (parts of 2 images).
    std::vector<int64_t> row_part(size_t(g.kh)), column_part(size_t(g.kw));
    for (int64_t i = 0; i < g.kh; ++i) row_part[size_t(i)] = at(0, i, 0);
    for (int64_t j = 0; j < g.kw; ++j) column_part[size_t(j)] = at(0, 0, j);
    const int64_t channel_stride = s * s * hp * wp;
    starts.reserve(size_t(g.patch()));
    for (int64_t ic = 0; ic < g.c; ++ic)
      for (int64_t i = 0; i < g.kh; ++i)
        for (int64_t j = 0; j < g.kw; ++j) starts.push_back(ic * channel_stride + row_part[size_t(i)] + column_part[size_t(j)]);
    image_rows.reserve(size_t(g.h * s));
    for (int64_t y = 0; y < g.h; ++y)
      for (int64_t b = 0; b < s; ++b) image_rows.push_back(at(0, y + g.padding, b + g.padding));
  }
  // Where padded pixel (y, x) of channel ic lies in the buffer.
  int64_t at(int64_t ic, int64_t y, int64_t x) const { return ((ic * s + y % s) * s + x % s) * hp * wp + y / s * wp + x / s; }
  int64_t row_start(int64_t row) const { return starts[size_t(row)]; }
  int64_t image_row(int64_t ic, int64_t y, int64_t b) const { return ic * s * s * hp * wp + image_rows[size_t(y * s + b)]; }
};

// dst[0, n) = src[0, n) for the short rows of an image (28 values), in whole vectors where
// std::copy_n was a call to memmove per row (5% of a ResNet forward).
template <Scalar T>
void copy_row(const T* src, int64_t n, T* dst) {
  constexpr int64_t chunk = 32 / sizeof(T);
  if (n < chunk) {
    std::copy_n(src, n, dst);
    return;
  }
  for (int64_t k = 0; k + chunk <= n; k += chunk) std::memcpy(dst + k, src + k, 32);
  std::memcpy(dst + n - chunk, src + n - chunk, 32);  // the tail, overlapping the chunk before it
}

// Zeros the gap [p, p + n) between two rows of a padded image, before the next row (`next`
// values from p + n on) is written: a gap no longer than a vector (2·padding values) is cleared
// by one store of a whole vector when what it spills onto is that next row. std::fill was a call
// to memset per row, for two values: most of the padding's time.
template <Scalar T>
void clear_gap(T* p, int64_t n, int64_t next) {
  constexpr int64_t chunk = 32 / sizeof(T);
  static constexpr T zeros[chunk] = {};
  if (n > 0 && n <= chunk && n + next >= chunk)
    std::memcpy(p, zeros, 32);
  else
    std::fill_n(p, n, T(0));
}

// A per-thread buffer for each role, grown as needed and kept (OpenMP threads persist). Aligned
// to a cache line: dW's GEMMs load their B rows in whole vectors from the pixel-major image, and a
// load across two lines made them a tenth slower.
enum class Buffer { padded, pixel_major, unfolded, wide, unpooled, valid, dy_padded, dx_wide };
template <Scalar T, Buffer role>
T* thread_buffer(int64_t count) {
  constexpr int64_t line = 64;
  static thread_local std::vector<T> buffer;
  if (buffer.size() < size_t(count + line / int64_t(sizeof(T)))) buffer.resize(size_t(count + line / int64_t(sizeof(T))));
  const auto misaligned = int64_t(reinterpret_cast<uintptr_t>(buffer.data()) % line);
  return buffer.data() + (misaligned ? (line - misaligned) / int64_t(sizeof(T)) : 0);
}

// `planes` images of rows × width, zero-padded into a layout r of stride 1 (pad_image's, or the
// adjoint convolution's for dY): plane p's row y is written by row(p, y, dst) at its place, and
// only the border is zeroed, the interior written once. A plane is [top rows, left border], then
// per row its values and the gap up to the next row's first value (right border, left border),
// the last gap running to the plane's end (the bottom rows); then the slack the last span reads.
// Grad-CAM's forward spent a tenth of its time here when the whole buffer was cleared first.
template <Scalar T, class Row>
void pad_planes(int64_t planes, int64_t rows, int64_t width, int padding, const RowsGeometry& r, T* out, Row&& row) {
  const int64_t plane = r.hp * r.wp, first = padding * r.wp + padding;
  for (int64_t p = 0; p < planes; ++p) {
    T* at = out + p * plane;
    std::fill_n(at, first, T(0));
    for (int64_t y = 0; y < rows; ++y) {
      T* dst = at + first + y * r.wp;
      row(p, y, dst);
      if (y + 1 < rows)
        clear_gap(dst + width, r.wp - width, width);
      else
        std::fill(dst + width, at + plane, T(0));
    }
  }
  std::fill(out + planes * plane, out + r.padded, T(0));
}

template <Scalar T>
void pad_image(const ConvGeometry& g, const RowsGeometry& r, const T* image, T* padded) {
  if (r.s == 1)
    return pad_planes(g.c, g.h, g.w, g.padding, r, padded, [&](int64_t ic, int64_t y, T* dst) { copy_row(image + (ic * g.h + y) * g.w, g.w, dst); });
  // Phase planes that no tap reads stay zeros: plane (a, b) is read when a < kh and b < kw, so a
  // 1×1 convolution of stride 2 (a ResNet's downsampling shortcut) reads only the even rows and
  // columns, and the odd rows of its input are not even loaded.
  std::fill_n(padded, r.padded, T(0));
  for (int64_t ic = 0; ic < g.c; ++ic)
    for (int64_t y = 0; y < g.h; ++y) {
      if ((y + g.padding) % r.s >= g.kh) continue;
      const T* src = image + (ic * g.h + y) * g.w;
      if (r.s == 2 && g.kw == 1 && g.padding % 2 == 0) {  // the even pixels alone
        T* even = padded + r.image_row(ic, y, 0);
        for (int64_t k = 0; k < (g.w + 1) / 2; ++k) even[k] = src[2 * k];
        continue;
      }
      if (r.s == 2) {
        // The even pixels to one phase plane, the odd to the other, in one pass over the row
        // that GCC vectorises as a deinterleave: a loop per phase, each with its own strided
        // gather and scalar tail, was most of a stride-2 convolution's time outside its GEMM.
        T *even = padded + r.image_row(ic, y, 0), *odd = padded + r.image_row(ic, y, 1);
        const int64_t pairs = g.w / 2;
        for (int64_t k = 0; k < pairs; ++k) {
          even[k] = src[2 * k];
          odd[k] = src[2 * k + 1];
        }
        if (g.w % 2) even[pairs] = src[g.w - 1];
        continue;
      }
      // Each phase plane of this row takes every s-th pixel.
      for (int64_t b = 0; b < r.s && b < g.w; ++b) {
        if ((b + g.padding) % r.s >= g.kw) continue;
        T* dst = padded + r.image_row(ic, y, b);
        const int64_t count = (g.w - b + r.s - 1) / r.s;
        for (int64_t k = 0; k < count; ++k) dst[k] = src[k * r.s + b];
      }
    }
}

}  // namespace integrad::ad::conv_layout
