// Convolution by unfolding the zero-padded image, stride 1 and (in phase planes) any other (see
// conv_kernels.h).
//
// With the image padded to hp × wp, the input pixel under kernel offset (i, j) of output pixel
// (oy, ox) is padded[(oy + i)·wp + ox + j]. Letting ox run over the whole padded width wp instead
// of the wo valid columns, the im2col row of (channel, i, j) becomes ONE contiguous span of
// ho·wp values starting at i·wp + j. The GEMM then computes kw − 1 extra columns per output row
// (garbage, never read: a valid column ox < wo only reads ox + j < wp, inside its own row), and
// in return the forward's GEMM reads its B rows straight from the padded image (gemm_rows) and
// the weight gradient's unfolding is a handful of long copies. In the backward, dW and db sum over those
// columns, so there they are zero in dY and cleared in the unfolded input: they add nothing (not
// even the NaN that 0 · Inf would make); dX's col2im skips them.
//
// Stride s > 1 takes the same path on the padded image split into s × s phase planes (polyphase):
// plane (a, b) holds the padded pixels (s·y + a, s·x + b). The pixel under kernel offset (i, j)
// of output (oy, ox) is padded[s·oy + i, s·ox + j], which is pixel (oy + i/s, ox + j/s) of plane
// (i mod s, j mod s): again one contiguous span per (channel, i, j), now over rows as wide as a
// plane. A stride-2 convolution gathered its patches one pixel at a time (im2col) before.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "autodiff/conv_kernels.h"
#include "autodiff/conv_layout.h"
#include "autodiff/gemm.h"
#include "autodiff/parallel.h"
#include "autodiff/pool_kernels.h"
#include "autodiff/relu.h"

namespace integrad::ad {

namespace {

using namespace conv_layout;

// The weight gradient read pixel-major. dW[o, (c, i, j)] = Σ_t dY[o, t]·padded[c, start(c, i, j) + t]
// over the span t: with the padded image transposed to (pixel, channel), the taps j = b, b + s,
// b + 2s, ... of kernel row i (one phase b, adjacent pixels of one phase plane) are count·C
// contiguous values at every t. So each such group of taps is a GEMM dY·B whose row t of B lies
// in the transposed image as it is (gemm_rows reads it in place), where dY·patchesᵀ transposed
// nine shifted copies of the image in its packing: a tenth of a ResNet's training step, for one
// transpose of the image instead. The GEMMs' columns come out in tap order (i, b, t, c);
// `column` maps PyTorch's patch row (c, i, j) to it.
struct PixelMajorTaps {
  struct Group {
    int64_t offset;        // the group's first tap, in pixels from row t's output position
    int64_t taps;          // adjacent taps: the GEMM's columns are taps·C
    int64_t first_column;  // in tap order
  };
  std::vector<Group> groups;
  std::vector<int64_t> column;  // column[(c·kh + i)·kw + j]: where dW's tap order keeps it
  int64_t pixels = 0;           // in the transposed image: every phase plane, then the slack the last span reads
  PixelMajorTaps() = default;
  PixelMajorTaps(const ConvGeometry& g, const RowsGeometry& r) : column(size_t(g.patch())), pixels(r.s * r.s * r.hp * r.wp + (g.kw - 1) / r.s) {
    std::vector<int64_t> position(size_t(g.kh * g.kw));  // of tap (i, j) in tap order
    int64_t next = 0;
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t b = 0; b < std::min<int64_t>(r.s, g.kw); ++b) {
        const int64_t taps = (g.kw - b + r.s - 1) / r.s;
        groups.push_back({r.at(0, i, b), taps, next * g.c});
        for (int64_t t = 0; t < taps; ++t) position[size_t(i * g.kw + b + t * r.s)] = next++;
      }
    for (int64_t ic = 0; ic < g.c; ++ic)
      for (int64_t ij = 0; ij < g.kh * g.kw; ++ij) column[size_t(ic * g.kh * g.kw + ij)] = position[size_t(ij)] * g.c + ic;
  }
  // dW of one image added to `partial` [O, patch] in tap order, from its padded image and its dY:
  // over the real outputs (dy [O, ho·wo], row stride dy_stride) when `real_only`, else over the
  // wide layout's span (dy [O, span] at dy_stride).
  template <Scalar T>
  void add_dw(const ConvGeometry& g, const RowsGeometry& r, const T* padded, const T* dy, int64_t dy_stride, bool real_only, T* partial) const {
    T* image = thread_buffer<T, Buffer::pixel_major>(pixels * g.c);
    const int64_t planes = r.s * r.s * r.hp * r.wp;
    transpose(g.c, planes, padded, planes, image, g.c);
    std::fill(image + planes * g.c, image + pixels * g.c, T(0));
    const int64_t depth = real_only ? g.pixels() : r.span;
    static thread_local std::vector<const T*> rows;
    rows.resize(size_t(depth));
    for (const Group& group : groups) {
      if (real_only)
        for (int64_t oy = 0, t = 0; oy < g.ho; ++oy)
          for (int64_t ox = 0; ox < g.wo; ++ox) rows[size_t(t++)] = image + (group.offset + oy * r.wp + ox) * g.c;
      else
        for (int64_t t = 0; t < r.span; ++t) rows[size_t(t)] = image + (group.offset + t) * g.c;
      gemm_rows(g.o, group.taps * g.c, depth, T(1), dy, dy_stride, rows.data(), T(1), partial + group.first_column, g.patch());
    }
  }
};

// The im2col matrix [patch, span], patch row `row` at unfolded row to[row] (or at `row`).
template <Scalar T>
void unfold(const ConvGeometry& g, const RowsGeometry& r, const T* padded, T* unfolded, const int64_t* to = nullptr) {
  for (int64_t row = 0; row < g.patch(); ++row) std::copy_n(padded + r.row_start(row), r.span, unfolded + (to ? to[row] : row) * r.span);
}

// Zeros the extra columns (ox >= wo of each output row) of `rows` rows of the wide layout. In the
// backward they pair wrapped-around pixels with dY's zeros, and W with those zeros: 0 · NaN and
// 0 · Inf are NaN, which would reach dW and dx where PyTorch, whose columns are the valid outputs
// only, has none. Cleared, they add exact zeros, as the file comment says they do.
template <Scalar T>
void clear_extra_columns(const ConvGeometry& g, const RowsGeometry& r, T* m, int64_t rows) {
  for (int64_t row = 0; row < rows; ++row)
    for (int64_t oy = 0; oy < g.ho; ++oy) std::fill_n(m + row * r.span + oy * r.wp + g.wo, r.wp - g.wo, T(0));
}

// Whether p[0, n) holds no NaN or ±Inf: v·0 is ±0 for every finite v and NaN otherwise. A flag
// or-ed per element, which vectorises; a sum of the products was one serial chain of adds, a
// fifth of the backward's own time.
template <Scalar T>
bool all_finite(const T* p, int64_t n) {
  int bad = 0;
  for (int64_t k = 0; k < n; ++k) bad |= p[k] * T(0) != T(0);
  return bad == 0;
}

// dY of one image [O, ho, wo] spread to the wide layout [O, ho·wp]; with a fused ReLU, PyTorch's
// relu backward y <= 0 ? 0 : dY (relu.h), as ad::relu forms it: a NaN in dY where y = 0 gives 0,
// and dY passes where y is NaN. The extra columns are zeroed only with `zero_extra` (dW and db sum
// over them); dX never reads what they produce (dx_from_wide skips them), and zeroing them was a
// memset call per output row, a twentieth of a backward pass.
template <Scalar T>
void widen(const ConvGeometry& g, const RowsGeometry& r, const T* dy, const T* relu_y, bool zero_extra, T* wide) {
  for (int64_t oc = 0; oc < g.o; ++oc)
    for (int64_t oy = 0; oy < g.ho; ++oy) {
      T* dst = wide + oc * r.span + oy * r.wp;
      const int64_t at = (oc * g.ho + oy) * g.wo;
      if (relu_y)
        for (int64_t ox = 0; ox < g.wo; ++ox) dst[ox] = relu_grad(dy[at + ox], relu_y[at + ox]);
      else
        copy_row(dy + at, g.wo, dst);
      if (zero_extra) std::fill(dst + g.wo, dst + r.wp, T(0));
    }
}

// dY of a pooled output [O, ho/2, wo/2] spread to the convolution's output at each window's winner
// (where the forward's max_pool_plane_any found it), zeros elsewhere: what max_pool2d's backward
// and then ReLU's would give the convolution's output, 0 + dY at the winner (the pooling's
// gradient starts at 0) through relu_grad with the pooled value, which is the winner's own. The
// winners are offsets into the wide layout; `to` has `zeroed` values, output channel oc's wide
// plane starting at to + oc·plane_stride + shift (the wide layout itself, or the adjoint
// convolution's padded dY when its rows are as wide). The values first (a loop that vectorises),
// then the scatter.
template <Scalar T>
void unpool(const ConvGeometry& g, int64_t out_plane, const T* dy, const T* relu_y, const int32_t* winners, T* to, int64_t zeroed, int64_t plane_stride,
            int64_t shift) {
  std::fill_n(to, zeroed, T(0));
  T* values = thread_buffer<T, Buffer::unpooled>(out_plane);
  for (int64_t oc = 0; oc < g.o; ++oc) {
    const int64_t at = oc * out_plane;
    // Two loops: in one, GCC sinks the addition into relu_grad's branch and then keeps it out of
    // vector code (an addition might trap), and the loop ran scalar.
    for (int64_t k = 0; k < out_plane; ++k) values[k] = T(0) + dy[at + k];
    if (relu_y)
      for (int64_t k = 0; k < out_plane; ++k) values[k] = relu_grad(values[k], relu_y[at + k]);
    T* plane = to + oc * plane_stride + shift;
    for (int64_t k = 0; k < out_plane; ++k) plane[winners[at + k]] = values[k];
  }
}

// 1 where a column of the wide layout is a real output (ox < wo), 0 in the extra columns.
template <Scalar T>
const T* valid_columns(const ConvGeometry& g, const RowsGeometry& r) {
  T* valid = thread_buffer<T, Buffer::valid>(r.span);
  for (int64_t t = 0; t < r.span; ++t) valid[t] = t % r.wp < g.wo ? T(1) : T(0);
  return valid;
}

// dX of one image from Wᵀ·dY in the wide layout (`unfolded`, [patch, ho·wp]): col2im, each unfolded
// row added back onto its span of the zero-padded image, the valid columns only (the extra ones
// pair wrapped-around pixels with whatever the wide dY held there), then the padding dropped.
// An extra column adds a select's +0 instead of its value: the sums start at +0, so they are
// never −0 and x + 0 = x, the bits of skipping it; one long loop over the span that vectorises,
// where a loop per output row (14 values) ran mostly in its scalar tail.
template <Scalar T>
void dx_from_wide(const ConvGeometry& g, const RowsGeometry& r, const T* unfolded, const T* valid, T* padded, T* dxb, bool dx_fresh) {
  std::fill_n(padded, r.padded, T(0));
  for (int64_t row = 0; row < g.patch(); ++row) {
    T* dst = padded + r.row_start(row);
    const T* src = unfolded + row * r.span;
    for (int64_t t = 0; t < r.span; ++t) dst[t] += valid[t] != T(0) ? src[t] : T(0);
  }
  for (int64_t ic = 0; ic < g.c; ++ic)
    for (int64_t y = 0; y < g.h; ++y) {
      T* dst = dxb + (ic * g.h + y) * g.w;
      if (r.s == 1) {
        const T* src = padded + r.image_row(ic, y, 0);
        for (int64_t xx = 0; xx < g.w; ++xx) dst[xx] = (dx_fresh ? T(0) : dst[xx]) + src[xx];
        continue;
      }
      if (r.s == 2) {  // the two phase planes interleaved back in one pass, as pad_image splits them
        const T *even = padded + r.image_row(ic, y, 0), *odd = padded + r.image_row(ic, y, 1);
        const int64_t pairs = g.w / 2;
        for (int64_t k = 0; k < pairs; ++k) {
          dst[2 * k] = (dx_fresh ? T(0) : dst[2 * k]) + even[k];
          dst[2 * k + 1] = (dx_fresh ? T(0) : dst[2 * k + 1]) + odd[k];
        }
        if (g.w % 2) dst[g.w - 1] = (dx_fresh ? T(0) : dst[g.w - 1]) + even[pairs];
        continue;
      }
      for (int64_t b = 0; b < r.s && b < g.w; ++b) {  // each phase plane holds every s-th pixel
        const T* src = padded + r.image_row(ic, y, b);
        const int64_t count = (g.w - b + r.s - 1) / r.s;
        for (int64_t k = 0; k < count; ++k) dst[k * r.s + b] = (dx_fresh ? T(0) : dst[k * r.s + b]) + src[k];
      }
    }
}

// Σ x[0..n) with 16 independent partial sums: a fixed order (the same bits on every run and
// thread count) that the compiler can keep in one vector register instead of a serial chain.
template <Scalar T>
T sum_of(const T* x, int64_t n) {
  constexpr int lanes = 16;
  T part[lanes] = {};
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes)
    for (int l = 0; l < lanes; ++l) part[l] += x[i + l];
  for (int l = 0; i < n; ++i, ++l) part[l] += x[i];
  T s = 0;
  for (T p : part) s += p;
  return s;
}

// dX as a convolution: the adjoint of a stride-1 convolution is the convolution of dY, zero-padded
// by kh − 1 − padding, with the weights flipped and transposed,
//   Wᵀ[c, (o·kh + i)·kw + j] = W[o, c, kh − 1 − i, kw − 1 − j],
// so dX [C, H, W] is one GEMM (C × O·kh·kw) reading its B rows straight from the padded dY: no
// col2im, and each output sums O·kh·kw products where the col2im GEMM summed O (k = O left that
// GEMM's stores costing as much as its arithmetic). Taken for square kernels with padding ≤ kh − 1,
// enough input channels to fill the GEMM's rows (C ≥ 8, not a first layer), and finite weights:
// the padding's zeros meet every weight (0 · Inf = NaN) where col2im, as PyTorch, adds only the
// terms of real outputs.
ConvGeometry adjoint_geometry(const ConvGeometry& g) {
  return ConvGeometry{g.n, g.o, g.ho, g.wo, g.c, g.kh, g.kw, g.h, g.w, 1, int(g.kh - 1 - g.padding)};
}

template <Scalar T>
bool dx_by_adjoint(const ConvGeometry& g, const T* w) {
  if (g.stride != 1 || g.c < 8 || g.kh != g.kw || g.padding > g.kh - 1) return false;
  for (int64_t k = 0; k < g.o * g.patch(); ++k)
    if (!std::isfinite(w[k])) return false;
  return true;
}

template <Scalar T>
std::vector<T> flipped_transposed(const ConvGeometry& g, const T* w) {
  std::vector<T> wt(size_t(g.c * g.o * g.kh * g.kw));
  for (int64_t o = 0; o < g.o; ++o)
    for (int64_t c = 0; c < g.c; ++c)
      for (int64_t i = 0; i < g.kh; ++i)
        for (int64_t j = 0; j < g.kw; ++j)
          wt[size_t(c * g.o * g.kh * g.kw + (o * g.kh + i) * g.kw + j)] = w[((o * g.c + c) * g.kh + g.kh - 1 - i) * g.kw + g.kw - 1 - j];
  return wt;
}

// dY from the wide layout (its valid columns) into the adjoint convolution's zero-padded input.
template <Scalar T>
void pad_dy(const ConvGeometry& g, const RowsGeometry& r, const ConvGeometry& ga, const RowsGeometry& ra, const T* wide, T* dy_padded) {
  std::fill_n(dy_padded, ra.padded, T(0));
  for (int64_t oc = 0; oc < g.o; ++oc)
    for (int64_t oy = 0; oy < g.ho; ++oy)
      copy_row(wide + oc * r.span + oy * r.wp, g.wo, dy_padded + (oc * ra.hp + oy + ga.padding) * ra.wp + ga.padding);
}

// dY of one image [O, ho, wo], through the fused ReLU's mask as widen applies it, straight into the
// adjoint convolution's zero-padded input: when dX alone is wanted (attribution), the wide layout
// was one more write and read of every dY.
template <Scalar T>
void pad_dy_direct(const ConvGeometry& g, const ConvGeometry& ga, const RowsGeometry& ra, const T* dy, const T* relu_y, T* dy_padded) {
  pad_planes(g.o, g.ho, g.wo, ga.padding, ra, dy_padded, [&](int64_t oc, int64_t oy, T* dst) {
    const int64_t at = (oc * g.ho + oy) * g.wo;
    if (relu_y)
      for (int64_t ox = 0; ox < g.wo; ++ox) dst[ox] = relu_grad(dy[at + ox], relu_y[at + ox]);
    else
      copy_row(dy + at, g.wo, dst);
  });
}

// dX of one image by the adjoint convolution of the padded dY.
template <Scalar T>
void dx_by_adjoint_convolution(const ConvGeometry& g, const ConvGeometry& ga, const RowsGeometry& ra, const T* wt, const T* dy_padded, T* dx_wide, T* dxb,
                               bool dx_fresh) {
  static thread_local std::vector<const T*> rows;
  rows.resize(size_t(ga.patch()));
  for (int64_t row = 0; row < ga.patch(); ++row) rows[size_t(row)] = dy_padded + ra.row_start(row);
  if (dx_fresh) {
    // Straight into dX, its extra columns dropped as the GEMM stores them; the epilogue adds +0
    // without a bias, so a fresh dX is 0 + x as the copy it replaced wrote it.
    gemm_rows(ga.o, ra.span, ga.patch(), wt, ga.patch(), rows.data(), dxb, g.h * g.w, Epilogue<T>{nullptr, false, ra.wp, g.w});
    return;
  }
  gemm_rows(ga.o, ra.span, ga.patch(), T(1), wt, ga.patch(), rows.data(), T(0), dx_wide, ra.span);
  for (int64_t ic = 0; ic < g.c; ++ic)
    for (int64_t y = 0; y < g.h; ++y) {
      const T* src = dx_wide + ic * ra.span + y * ra.wp;
      T* dst = dxb + (ic * g.h + y) * g.w;
      for (int64_t xx = 0; xx < g.w; ++xx) dst[xx] += src[xx];
    }
}

}  // namespace

template <Scalar T>
void conv_rows_forward(const ConvGeometry& g, const T* x, const T* w, const T* bias, ConvOutput out, T* y,
                       const std::function<void(int64_t image, const T* y_image)>* after_image) {
  const RowsGeometry r(g);
  // With pooling, each output channel's wide rows are pooled in place, as a plane hp wide whose
  // extra columns no window reaches: the winners come out as offsets into the wide layout.
  const PoolGeometry pool{1, g.ho, r.wp, g.ho / 2, g.wo / 2, 2, 2};
  const int64_t out_plane = out.pool ? pool.ho * pool.wo : g.pixels();
  FirstException error;  // the thread buffers may fail to grow
  parallel_for(g.n, g.n > 1 && g.n * g.o * g.patch() * r.span >= kParallelWork, [&](int64_t b) { error.run([&] {
    T* padded = thread_buffer<T, Buffer::padded>(r.padded);
    pad_image(g, r, x + b * g.image(), padded);
    // The unfolded matrix's rows are spans of the padded image: the GEMM reads them there.
    static thread_local std::vector<const T*> patch_rows;
    patch_rows.resize(size_t(g.patch()));
    for (int64_t row = 0; row < g.patch(); ++row) patch_rows[size_t(row)] = padded + r.row_start(row);
    T* yb = y + b * g.o * out_plane;
    if (!out.pool) {
      // The bias, the ReLU (relu_value, as ad::relu: the same bits, NaN included) and the drop of
      // the extra columns happen as the GEMM stores its tiles.
      gemm_rows(g.o, r.span, g.patch(), w, g.patch(), patch_rows.data(), yb, g.pixels(), Epilogue<T>{bias, out.relu, r.wp, g.wo});
      if (after_image) (*after_image)(b, yb);
      return;
    }
    T* wide = thread_buffer<T, Buffer::wide>(g.o * r.span);
    gemm_rows(g.o, r.span, g.patch(), T(1), w, g.patch(), patch_rows.data(), T(0), wide, r.span);
    for (int64_t oc = 0; oc < g.o; ++oc) {
      const T shift = bias ? bias[oc] : T(0);
      // The whole span, extra columns too (they are pooled by no window): one loop that
      // vectorises, and notes a NaN on the way (the pooling takes another loop for one).
      T* row = wide + oc * r.span;
      int nan = 0;
      for (int64_t t = 0; t < r.span; ++t) {
        const T v = out.relu ? relu_value(row[t] + shift) : row[t] + shift;
        row[t] = v;
        nan |= v != v;
      }
      max_pool_plane_any(pool, row, yb + oc * out_plane, out.winners ? out.winners + (b * g.o + oc) * out_plane : nullptr, nan != 0);
    }
    if (after_image) (*after_image)(b, yb);
  }); });
  error.rethrow();
}

template <Scalar T>
void conv_rows_backward(const ConvGeometry& g, const T* x, const T* w, const T* dy, const T* relu_y, const int32_t* winners, T* dx, bool dx_fresh, T* dw,
                        T* db, const ImageGradient<T>* dy_of) {
  const RowsGeometry r(g);
  const int64_t out_plane = winners ? (g.ho / 2) * (g.wo / 2) : g.pixels();
  // dW and db sum over the batch. Images are taken in fixed groups, each summed into its own
  // partial in image order, and the partials are added in group order: the same bits whatever the
  // thread count. The group size depends on the batch size alone (at most 32 partials).
  const int64_t group = std::max<int64_t>(4, (g.n + 31) / 32), groups = (g.n + group - 1) / group;
  const int64_t weights = g.o * g.patch();
  const bool dw_by_output = g.o % 8 == 0 && g.patch() >= 32;  // the layout of partial_dw, below
  const PixelMajorTaps taps = dw && dw_by_output ? PixelMajorTaps(g, r) : PixelMajorTaps();
  static thread_local std::vector<T> partials;
  // Only when a weight or bias gradient is wanted: attribution asks for dX alone, and zeroing
  // up to 32 partials of the weights on every backward was a tenth of a small IG's instructions.
  if (dw || db) partials.assign(size_t(groups * (weights + g.o)), T(0));
  T* partial_dw = dw || db ? partials.data() : nullptr;
  T* partial_db = dw || db ? partial_dw + groups * weights : nullptr;

  const bool adjoint = dx && dx_by_adjoint(g, w);
  const ConvGeometry ga = adjoint_geometry(g);
  const RowsGeometry ra(ga);
  const std::vector<T> wt = adjoint ? flipped_transposed(g, w) : std::vector<T>();
  const bool unpool_into_adjoint = adjoint && winners && !dw && !db && ra.wp == r.wp;

  FirstException error;  // the thread buffers may fail to grow
  parallel_for(groups, groups > 1 && g.n * g.o * g.patch() * r.span >= kParallelWork, [&](int64_t q) { error.run([&] {
    T* padded = thread_buffer<T, Buffer::padded>(r.padded);
    T* unfolded = thread_buffer<T, Buffer::unfolded>(g.patch() * r.span);
    T* wide = thread_buffer<T, Buffer::wide>(g.o * r.span);
    const T* valid = dx && !adjoint ? valid_columns<T>(g, r) : nullptr;
    T* dy_padded = adjoint ? thread_buffer<T, Buffer::dy_padded>(ra.padded) : nullptr;
    T* dx_wide = adjoint ? thread_buffer<T, Buffer::dx_wide>(g.c * ra.span) : nullptr;
    for (int64_t b = q * group; b < std::min(g.n, (q + 1) * group); ++b) {
      const int64_t out_at = b * g.o * out_plane;
      const T* pooled = relu_y ? relu_y + out_at : nullptr;
      const T* dy_image = dy ? dy + out_at : (*dy_of)(b);
      if (unpool_into_adjoint) {
        // Only dX is wanted: dY goes straight into the adjoint's padded input, rows as wide.
        unpool(g, out_plane, dy_image, pooled, winners + out_at, dy_padded, ra.padded, ra.hp * ra.wp, ga.padding * ra.wp + ga.padding);
        dx_by_adjoint_convolution(g, ga, ra, wt.data(), dy_padded, dx_wide, dx + b * g.image(), dx_fresh);
        continue;
      }
      if (adjoint && !winners && !dw && !db) {
        pad_dy_direct(g, ga, ra, dy_image, pooled, dy_padded);
        dx_by_adjoint_convolution(g, ga, ra, wt.data(), dy_padded, dx_wide, dx + b * g.image(), dx_fresh);
        continue;
      }
      // dY in the wide layout [O, ho·wp], its extra columns zeros, channel oc's row at
      // dy_wide + oc·wide_stride. When the adjoint's padded rows are as wide, that layout is a
      // window of its padded dY (row oy, column ox at (oy + pad)·wp + ox + pad; the extra columns
      // fall on its right and left borders): dY is written once, there, not widened first.
      const bool window = adjoint && !winners && ra.wp == r.wp;
      const T* dy_wide = wide;
      int64_t wide_stride = r.span;
      if (window) {
        pad_dy_direct(g, ga, ra, dy_image, pooled, dy_padded);
        dy_wide = dy_padded + ga.padding * ra.wp + ga.padding;
        wide_stride = ra.hp * ra.wp;
      } else if (winners) {
        unpool(g, out_plane, dy_image, pooled, winners + out_at, wide, g.o * r.span, r.span, 0);
      } else {
        widen(g, r, dy_image, pooled, dw || db, wide);
      }
      if (db)  // the extra columns of dy_wide are zeros
        for (int64_t oc = 0; oc < g.o; ++oc) partial_db[q * g.o + oc] += sum_of(dy_wide + oc * wide_stride, r.span);
      if (dw) {
        pad_image(g, r, x + b * g.image(), padded);
        // With dY as it is (no mask to apply on the way), dW's sums run over the real outputs
        // only: B's rows are pointers, so they may skip the extra columns, whose dY is zero (a
        // fourteenth of layer 1's dW products, an eighth of layer 2's). The same sums, bit for
        // bit: adding those zeros left each running sum as it was. Otherwise they run over the
        // wide layout's span, whose extra columns hold pixels that dY's zeros there turn into ±0
        // terms when the image is finite (a sum from +0 never becomes −0 by adding them); an
        // image with NaN or Inf is unfolded with those columns cleared.
        const bool real_only = !relu_y && !winners;
        if (dw_by_output && (real_only || all_finite(padded, r.padded))) {
          if (real_only) taps.add_dw(g, r, padded, dy_image, g.pixels(), true, partial_dw + q * weights);
          else taps.add_dw(g, r, padded, dy_wide, wide_stride, false, partial_dw + q * weights);
        } else {
          // The unfolded rows in dW's tap order when the pixel-major GEMMs above fill partial_dw.
          unfold(g, r, padded, unfolded, dw_by_output ? taps.column.data() : nullptr);
          clear_extra_columns(g, r, unfolded, g.patch());
          // As dWᵀ = unfolded·dYᵀ [patch, O]: the patch side fills the GEMM's 12-row micro-tiles
          // and O its 32-wide ones far better than the other way round (16 × 9 for a first
          // layer). But O a multiple of 8 fills the 8-row tiles exactly, and a long patch
          // (16 × 9 and more) the wide ones: then dW = dY·unfoldedᵀ [O, patch], read pixel-major
          // when the image is finite (above). Each element is the same sum over the span in
          // the same order either way.
          if (dw_by_output)
            gemm(false, true, g.o, g.patch(), r.span, T(1), dy_wide, wide_stride, unfolded, r.span, T(1), partial_dw + q * weights, g.patch());
          else
            gemm(false, true, g.patch(), g.o, r.span, T(1), unfolded, r.span, dy_wide, wide_stride, T(1), partial_dw + q * weights, g.o);
        }
      }
      if (adjoint) {
        if (!window) pad_dy(g, r, ga, ra, wide, dy_padded);
        dx_by_adjoint_convolution(g, ga, ra, wt.data(), dy_padded, dx_wide, dx + b * g.image(), dx_fresh);
      } else if (dx) {
        // dX = col2im(Wᵀ·dY): each unfolded row adds back onto its span of the padded image.
        gemm(true, false, g.patch(), r.span, g.o, T(1), w, g.patch(), wide, r.span, T(0), unfolded, r.span);
        dx_from_wide(g, r, unfolded, valid, padded, dx + b * g.image(), dx_fresh);
      }
    }
  }); });
  error.rethrow();
  for (int64_t q = 0; q < groups; ++q) {
    if (dw)
      for (int64_t oc = 0; oc < g.o; ++oc)
        for (int64_t row = 0; row < g.patch(); ++row)
          dw[oc * g.patch() + row] += partial_dw[q * weights + (dw_by_output ? oc * g.patch() + taps.column[size_t(row)] : row * g.o + oc)];
    if (db)
      for (int64_t oc = 0; oc < g.o; ++oc) db[oc] += partial_db[q * g.o + oc];
  }
}

template void conv_rows_forward(const ConvGeometry&, const float*, const float*, const float*, ConvOutput, float*,
                                const std::function<void(int64_t, const float*)>*);
template void conv_rows_forward(const ConvGeometry&, const double*, const double*, const double*, ConvOutput, double*,
                                const std::function<void(int64_t, const double*)>*);
template void conv_rows_backward(const ConvGeometry&, const float*, const float*, const float*, const float*, const int32_t*, float*, bool, float*, float*,
                                 const ImageGradient<float>*);
template void conv_rows_backward(const ConvGeometry&, const double*, const double*, const double*, const double*, const int32_t*, double*, bool, double*,
                                 double*, const ImageGradient<double>*);

}  // namespace integrad::ad
