// Arena: a bump allocator for everything one forward/backward pass creates. Rewinding frees it all
// at once and keeps the memory, so a training loop allocates nothing per op once it has warmed up.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace integrad::ad {

class Arena {
 public:
  explicit Arena(size_t first_block_bytes = size_t(1) << 20) : next_block_bytes_(first_block_bytes) {}
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // Uninitialised storage, 64-byte aligned (a cache line, and enough for any SIMD load).
  void* allocate(size_t bytes);

  template <class U>
  U* allocate_array(size_t count) { return static_cast<U*>(allocate(count * sizeof(U))); }

  // Forget every allocation and keep every block: the next pass of the same sizes makes the same
  // requests in the same order, so it lands in the same places without allocating. (Merging the
  // blocks into one would map fresh memory and fault in every page again: for IG on a CNN that
  // cost a tenth of the run.)
  void rewind();

  size_t bytes_in_use() const { return in_use_; }
  size_t bytes_reserved() const;

 private:
  static constexpr size_t kAlign = 64;
  struct AlignedDelete {
    void operator()(std::byte* p) const { ::operator delete[](p, std::align_val_t(kAlign)); }
  };
  struct Block {
    std::unique_ptr<std::byte[], AlignedDelete> memory;
    size_t size;
  };
  std::vector<Block> blocks_;
  size_t current_ = 0;  // index of the block being bumped
  size_t offset_ = 0;   // bytes used in blocks_[current_]
  size_t in_use_ = 0;
  size_t next_block_bytes_;
};

}  // namespace integrad::ad
