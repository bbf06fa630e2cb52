// 2-D pooling over [N, C, H, W] without padding; the output size is floored as in PyTorch.
// Max pooling remembers each window's winner and routes the whole gradient there. The winner is
// PyTorch's (cpu_max_pool: `if ((val > maxval) || std::isnan(val))`, in row-major window order):
// the first maximal element at ties, but any NaN wins, the last NaN of the window if several, so
// a NaN input gives a NaN output and its gradient goes to that NaN.
#include <algorithm>
#include <string>

#include "autodiff/ops.h"
#include "autodiff/parallel.h"
#include "autodiff/pool_kernels.h"

namespace integrad::ad {

namespace {
PoolGeometry pool_geometry(const char* op, const Shape& x, int kernel, int stride) {
  if (x.rank() != 4) throw std::invalid_argument(std::string(op) + ": input must be [N, C, H, W], got " + x.str());
  if (kernel < 1 || stride < 1) throw std::invalid_argument(std::string(op) + ": kernel and stride must be >= 1");
  if (x[2] < kernel || x[3] < kernel) throw std::invalid_argument(std::string(op) + ": kernel " + std::to_string(kernel) + " larger than input " + x.str());
  return {x[0] * x[1], x[2], x[3], (x[2] - kernel) / stride + 1, (x[3] - kernel) / stride + 1, kernel, stride};
}

}  // namespace

template <Scalar T>
Var<T> max_pool2d(Var<T> x, int kernel, int stride) {
  const PoolGeometry g = pool_geometry("max_pool2d", x.shape(), kernel, stride);
  Tape<T>& tape = x.tape();
  Var<T> out = tape.make(Shape{x.shape()[0], x.shape()[1], g.ho, g.wo}, x.requires_grad());
  const T* xv = x.value().data();
  T* y = tape.write(out);
  // Winner offsets within the plane, kept only when a backward will need them.
  int32_t* winner = x.requires_grad() ? tape.template scratch<int32_t>(static_cast<size_t>(out.numel())) : nullptr;
#pragma omp parallel for schedule(static) if (g.planes > 1 && kPassCost * g.planes * g.h * g.w >= kParallelWork)
  for (int64_t p = 0; p < g.planes; ++p) {
    const int64_t o = p * g.ho * g.wo;
    const T* plane = xv + p * g.h * g.w;
    int32_t* plane_winner = winner ? winner + o : nullptr;
    max_pool_plane_any(g, plane, y + o, plane_winner);
  }
  if (out.requires_grad()) {
    tape.on_backward(out, [x, out, g, winner](Tape<T>& t) {
      const T* dy = t.grad(out);
      // Not a structured binding: clang 14 cannot name one inside an OpenMP region.
      const auto slot = t.grad_slot(x);
      T* const dx = slot.data;
      const bool fresh = slot.fresh;
      // A plane's winners lie in that plane: planes have one writer each, in a fixed order. A
      // fresh gradient is zeroed plane by plane here, where the plane is about to be used.
#pragma omp parallel for schedule(static) if (g.planes > 1 && kPassCost * g.planes * g.h * g.w >= kParallelWork)
      for (int64_t p = 0; p < g.planes; ++p) {
        T* dx_plane = dx + p * g.h * g.w;
        if (fresh) std::fill_n(dx_plane, g.h * g.w, T(0));
        for (int64_t k = 0; k < g.ho * g.wo; ++k) dx_plane[winner[p * g.ho * g.wo + k]] += dy[p * g.ho * g.wo + k];
      }
    });
  }
  return out;
}

template <Scalar T>
Var<T> avg_pool2d(Var<T> x, int kernel, int stride) {
  const PoolGeometry g = pool_geometry("avg_pool2d", x.shape(), kernel, stride);
  Tape<T>& tape = x.tape();
  Var<T> out = tape.make(Shape{x.shape()[0], x.shape()[1], g.ho, g.wo}, x.requires_grad());
  const T* xv = x.value().data();
  T* y = tape.write(out);
  const T scale = T(1) / static_cast<T>(kernel * kernel);
  for (int64_t p = 0; p < g.planes; ++p)
    for (int64_t oy = 0; oy < g.ho; ++oy)
      for (int64_t ox = 0; ox < g.wo; ++ox) {
        T s = 0;
        for (int i = 0; i < g.kernel; ++i)
          for (int j = 0; j < g.kernel; ++j) s += xv[p * g.h * g.w + (oy * g.stride + i) * g.w + ox * g.stride + j];
        y[(p * g.ho + oy) * g.wo + ox] = s * scale;
      }
  if (out.requires_grad()) {
    tape.on_backward(out, [x, out, g, scale](Tape<T>& t) {
      const T* dy = t.grad(out);
      T* dx = t.grad_to(x);
      for (int64_t p = 0; p < g.planes; ++p)
        for (int64_t oy = 0; oy < g.ho; ++oy)
          for (int64_t ox = 0; ox < g.wo; ++ox) {
            const T v = dy[(p * g.ho + oy) * g.wo + ox] * scale;
            for (int i = 0; i < g.kernel; ++i)
              for (int j = 0; j < g.kernel; ++j) dx[p * g.h * g.w + (oy * g.stride + i) * g.w + ox * g.stride + j] += v;
          }
    });
  }
  return out;
}

template Var<float> max_pool2d(Var<float>, int, int);
template Var<double> max_pool2d(Var<double>, int, int);
template Var<float> avg_pool2d(Var<float>, int, int);
template Var<double> avg_pool2d(Var<double>, int, int);

}  // namespace integrad::ad
