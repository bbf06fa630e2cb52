// When a loop is worth sharing between threads, and how. Internal to autodiff (and nn/optim.cpp,
// nn/for_each_example.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace integrad::ad {

// A loop is split over threads (parallel_for below) only when it does at least this much work,
// counted in multiply-adds (GEMM, convolution) or element updates: 2^22 is a few hundred
// microseconds of one core for a GEMM, a few milliseconds for element-wise loops. Below it, one
// thread runs it. At 2^20 the second convolution of the CNN (1.0M multiply-adds per image) and the
// Adam update of the MLP's first layer (200k weights) still split at batch size 1, and 2 threads
// stayed several times slower than 1 with the other core busy.
//
// Why: entering a parallel region costs libgomp a few microseconds when each thread has a core of
// its own, but when another process holds one of the cores, the team waits at the region's end
// for its worker to be scheduled, up to a time slice (milliseconds) per region. A batch of one is
// thousands of tiny regions: on two cores with one busy, `predict --batch-size 1` of a CNN on
// 1,000 images took 15.9 s with 2 threads against 0.12 s with 1, and 0.18 s with this threshold
// (docs/performance.md). Work this
// small gains little from a second thread even on an idle machine.
//
// Which thread computes an element never changes how it is computed, so results are the same bits
// whether a loop runs serially or not.
inline constexpr int64_t kParallelWork = int64_t(1) << 22;

// What one element of a pass over memory (an element-wise op, a normalisation's sum) counts for
// against kParallelWork: about as long as 16 of a GEMM's multiply-adds, which run from registers.
// On this project's machine a core does some 55 G multiply-adds a second in the GEMM and streams
// 1-4 G floats a second through a pass from L3 or L2 (BatchNorm at batch 64: 14 GB/s read and
// written). Counted as 1, a ResNet's element-wise passes at batch 64 (400k-800k values, a few
// hundred microseconds each) ran on one thread while the other waited.
inline constexpr int64_t kPassCost = 16;

// An exception must never leave an OpenMP region: the runtime would call std::terminate (a
// std::bad_alloc from a thread's scratch buffer aborted the program with SIGABRT). A loop body
// that can throw (it allocates, or calls something that does) runs through run(); the first
// exception is kept, the iterations not yet started are skipped, and rethrow() raises it after the
// region, where the caller's handlers see it:
//
//   FirstException error;
//   #pragma omp parallel for
//   for (...) error.run([&] { ... });
//   error.rethrow();
class FirstException {
 public:
  template <class Body>
  void run(Body&& body) noexcept {
    if (failed_.load(std::memory_order_relaxed)) return;
    try {
      body();
    } catch (...) {
      bool expected = false;
      if (failed_.compare_exchange_strong(expected, true)) error_ = std::current_exception();
    }
  }
  void rethrow() const {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::atomic<bool> failed_{false};
  std::exception_ptr error_;
};

// Whether a loop asked to share out (`wanted`) can: more than one thread, and not already inside
// a parallel region (a convolution's loop over images, a method's loop over examples), where a
// nested region would be a team of one.
inline bool can_share(bool wanted) {
#ifdef _OPENMP
  return wanted && omp_get_max_threads() > 1 && !omp_in_parallel();
#else
  (void)wanted;
  return false;
#endif
}

// body(i) for i in [0, n), shared among threads (static schedule) when can_share(wanted), else a
// plain loop. Not `#pragma omp parallel for if (...)`: a false `if` still opens a team of one,
// whose closing barrier is a futex system call in libgomp. Convolutions call gemm per image, and
// those teams of one cost a training step about two thousand system calls. The same iterations
// run in the same order either way, so the bits do not change.
template <class Body>
void parallel_for(int64_t n, bool wanted, Body&& body) {
  if (!can_share(wanted && n > 1)) {
    for (int64_t i = 0; i < n; ++i) body(i);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) body(i);
}

}  // namespace integrad::ad
