// When a loop is worth sharing between threads. Internal to autodiff (and nn/optim.cpp).
#pragma once

#include <cstdint>

namespace integrad::ad {

// A loop is split over threads (OpenMP `if` clauses) only when it does at least this much work,
// counted in multiply-adds or simple element operations, each roughly a nanosecond on one core:
// 2^20 is about half a millisecond or less. Below it, one thread runs it.
//
// Why: entering a parallel region costs libgomp a few microseconds when each thread has a core of
// its own, but when another process holds one of the cores, the team waits at the region's end
// for its worker to be scheduled, up to a time slice (milliseconds) per region. A batch of one is
// thousands of tiny regions: on two cores with one busy, `predict --batch-size 1` of a CNN on
// 1,000 images took 15.9 s with 2 threads against 0.12 s with 1 (docs/performance.md). Work this
// small gains little from a second thread even on an idle machine.
//
// Which thread computes an element never changes how it is computed, so results are the same bits
// whether a loop runs serially or not.
inline constexpr int64_t kParallelWork = int64_t(1) << 22;

}  // namespace integrad::ad
