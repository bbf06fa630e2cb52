// How many rows of a batch one tape takes, for what cuts a batch into fixed parts (predict, the
// gradient methods, Grad-CAM, LRP). The parts depend on the rows and the model alone, never on the thread
// count, so the bits do not either.
#pragma once

#include <algorithm>
#include <cstdint>

namespace integrad::nn {

// At most max_rows, and about `budget` recorded values a part when the forward says how many an
// example records (Forward::values_per_example; 0: unknown), so that a part's tape stays in cache
// between its forward and its backward. On the ResNet (180,000 values an example) parts of 32 rows
// streamed every activation through memory at each op; parts of 2 took 11% less time for Grad-CAM
// and 33% less for LRP (10,000 and 1,000 images, 2 threads, idle); a small model keeps its rows.
inline int64_t rows_per_part(int64_t values_per_example, int64_t budget, int64_t max_rows) {
  return values_per_example > 0 ? std::clamp<int64_t>(budget / values_per_example, 1, max_rows) : max_rows;
}

}  // namespace integrad::nn
