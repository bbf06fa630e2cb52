// Kernel micro-benchmarks: GEMM (float32, float64) at square and MLP shapes, and the CNN's conv2d
// forward + backward. Prints time, GFLOP/s and peak memory. The whole-job workloads (training an
// epoch, IG on 100 images) are timed as whole processes by tools/bench/compare.sh.
#include <fmt/format.h>
#include <sys/resource.h>

#include <chrono>
#include <functional>

#include "autodiff/gemm.h"
#include "autodiff/ops.h"

using namespace integrad::ad;
using Clock = std::chrono::steady_clock;

namespace {
// Best of `repeats` runs, in seconds.
double best_time(int repeats, const std::function<void()>& fn) {
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = Clock::now();
    fn();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

template <Scalar T>
void bench_gemm(const char* name, int64_t m, int64_t n, int64_t k, bool ta, bool tb) {
  Rng rng(1);
  Tensor<T> a = Tensor<T>::uniform(Shape{m * k}, rng), b = Tensor<T>::uniform(Shape{k * n}, rng), c(Shape{m * n});
  const int repeats = m * n * k > 100'000'000 ? 5 : 20;
  const double s = best_time(repeats, [&] { gemm(ta, tb, m, n, k, T(1), a.data(), ta ? m : k, b.data(), tb ? k : n, T(0), c.data(), n); });
  fmt::print("{:<34} {:>10.3f} ms {:>9.1f} GFLOP/s\n", fmt::format("{} {}x{}x{}{}{}", name, m, n, k, ta ? " Aᵀ" : "", tb ? " Bᵀ" : ""), s * 1e3,
             2.0 * double(m * n * k) / s * 1e-9);
}

void bench_conv(int64_t batch, int64_t c, int64_t o, int64_t hw) {
  Rng rng(2);
  Tensor<float> x = Tensor<float>::uniform(Shape{batch, c, hw, hw}, rng), w = Tensor<float>::uniform(Shape{o, c, 3, 3}, rng), gw(w.shape());
  const Tensor<float> seed(Shape{batch, o, hw, hw}, 1.0f);  // dL/dy = 1, as y.sum().backward() seeds it
  Tape<float> tape;
  const double s = best_time(10, [&] {
    Var<float> y = conv2d(tape.leaf(x, true), tape.parameter(w, &gw), Var<float>(), 1, 1);
    tape.backward(y, seed.span());
    tape.rewind();
  });
  const double flops = 3 * 2.0 * double(batch * o * c * 9 * hw * hw);  // forward, and gradients of the input and the weight
  fmt::print("{:<34} {:>10.3f} ms {:>9.1f} GFLOP/s\n", fmt::format("conv2d fwd+bwd {}x{}->{} {}x{}", batch, c, o, hw, hw), s * 1e3, flops / s * 1e-9);
}
}  // namespace

int main() {
  fmt::print("{:<34} {:>13} {:>17}\n", "workload", "time (best)", "throughput");
  for (int64_t s : {256, 512, 1024}) bench_gemm<float>("sgemm", s, s, s, false, false);
  for (int64_t s : {256, 512}) bench_gemm<double>("dgemm", s, s, s, false, false);
  // The MLP's training GEMMs for a batch of 64: forward, input and weight gradients.
  bench_gemm<float>("sgemm mlp fwd", 64, 256, 784, false, true);
  bench_gemm<float>("sgemm mlp dX", 64, 784, 256, false, false);
  bench_gemm<float>("sgemm mlp dW", 256, 784, 64, true, false);
  bench_conv(64, 1, 16, 28);
  bench_conv(64, 16, 32, 14);
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  fmt::print("peak memory {:.1f} MiB\n", double(usage.ru_maxrss) / 1024);
}
