// for_each_example: the examples (or fixed parts of a batch) of a method, a metric or predict shared
// among threads, one per task.
//
// The perturbation methods and the faithfulness metrics evaluate each example on its own: a few
// hundred perturbed copies, forward-only, in batches of 32. A batch that small is too little work
// to split at every layer (the second thread waited at each layer's barrier, and two threads ran
// occlusion no faster than one); whole examples share out with no waiting at all. Inside the loop
// every layer runs serially (OpenMP's nested regions are inactive, and gemm checks for them).
// The gradient methods and Model::predict share the fixed parts of a batch the same way
// (attribution/methods/gradients.cpp, nn/model.cpp).
//
// The body must touch only what belongs to example i: its own output row or slot, its own random
// stream (example_seed(seed, first + i)). Then no number depends on which thread computed it, and
// the result has the same bits whatever the thread count. If examples throw, the exception of the
// lowest-numbered one is raised after the loop, as a serial loop would raise it.
#pragma once

#include <cstdint>
#include <exception>
#include <limits>
#include <mutex>

#include "autodiff/parallel.h"
#include "nn/stop.h"

namespace integrad::nn {

template <class Body>
void for_each_example(int64_t n, Body&& body) {
  std::mutex guard;
  int64_t failed_at = std::numeric_limits<int64_t>::max();
  std::exception_ptr failure;
  // The caller's cancel flag (CancelScope, the explorer's Cancel), passed on to the OpenMP
  // threads: thread_local values do not follow the work into them.
  const std::atomic<bool>* const cancelled = work_cancelled;
  const auto run = [&](int64_t i) {
    const CancelScope scope(cancelled);
    {
      const std::lock_guard lock(guard);
      if (i > failed_at) return;  // a serial loop would have stopped before this example
    }
    try {
      throw_if_stop_requested();  // Ctrl-C: the examples not yet started are skipped
      body(i);
    } catch (...) {
      const std::lock_guard lock(guard);
      if (i < failed_at) failed_at = i, failure = std::current_exception();
    }
  };
  // Not a parallel region with an `if` clause: a false `if` still opens a team of one, whose
  // barrier costs a system call (autodiff/parallel.h), once for every example of a nested loop.
  if (ad::can_share(n > 1)) {
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t i = 0; i < n; ++i) run(i);
  } else {
    for (int64_t i = 0; i < n; ++i) run(i);
  }
  if (failure) std::rethrow_exception(failure);
}

// Whether this thread is the one that started every enclosing loop: thread 0 of its team at each
// level of nesting. A progress callback called from there alone never runs on two threads at once.
inline bool on_calling_thread() {
#ifdef _OPENMP
  for (int level = 1; level <= omp_get_level(); ++level)
    if (omp_get_ancestor_thread_num(level) != 0) return false;
#endif
  return true;
}

}  // namespace integrad::nn
