// ThreadTape: a tape borrowed for one call, one per thread and nesting depth, rewound and reused.
//
// Inference and attribution run thousands of short forward (and backward) passes: a perturbation
// method's batches of 32, IG's batches of path points, F(x) for a summary. A fresh Tape maps and
// page-faults its arena every time, which cost as much as the arithmetic of a 32-image batch; a
// reused one keeps its arena warm. A call made while the thread's tape is in use (a method run
// inside a model's forward, a metric re-running a method) gets the next depth's tape. An arena
// grown past 256 MB by one huge batch is given back when the call ends rather than kept.
#pragma once

#include <memory>
#include <vector>

#include "autodiff/tape.h"

namespace integrad::ad {

template <Scalar T>
class ThreadTape {
 public:
  ThreadTape() : level_(depth()++) {
    auto& all = tapes();
    if (all.size() <= level_) all.push_back(std::make_unique<Tape<T>>());
    all[level_]->rewind();
  }
  ~ThreadTape() {
    auto& tape = tapes()[level_];
    tape->rewind();
    if (tape->arena().bytes_reserved() > (size_t(256) << 20)) tape = std::make_unique<Tape<T>>();
    --depth();
  }
  ThreadTape(const ThreadTape&) = delete;
  ThreadTape& operator=(const ThreadTape&) = delete;

  Tape<T>& operator*() const { return *tapes()[level_]; }
  Tape<T>* operator->() const { return tapes()[level_].get(); }

 private:
  static std::vector<std::unique_ptr<Tape<T>>>& tapes() {
    static thread_local std::vector<std::unique_ptr<Tape<T>>> all;
    return all;
  }
  static size_t& depth() {
    static thread_local size_t d = 0;
    return d;
  }
  size_t level_;
};

}  // namespace integrad::ad
