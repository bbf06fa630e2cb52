#include "autodiff/arena.h"

#include <algorithm>

namespace integrad::ad {

namespace {
size_t round_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

// Block sizes and the offsets handed out are multiples of 64, so aligning each block's base is
// enough to align every allocation.
std::byte* aligned_block(size_t bytes) {
  return static_cast<std::byte*>(::operator new[](bytes, std::align_val_t(64)));
}
}  // namespace

void* Arena::allocate(size_t bytes) {
  bytes = round_up(std::max<size_t>(bytes, 1), kAlign);
  while (current_ < blocks_.size() && offset_ + bytes > blocks_[current_].size) {
    ++current_;
    offset_ = 0;
  }
  if (current_ == blocks_.size()) {
    size_t size = round_up(std::max(bytes, next_block_bytes_), kAlign);
    blocks_.push_back({decltype(Block::memory)(aligned_block(size)), size});
    next_block_bytes_ = size * 2;
    offset_ = 0;
  }
  void* p = blocks_[current_].memory.get() + offset_;
  offset_ += bytes;
  in_use_ += bytes;
  return p;
}

void Arena::rewind() {
  current_ = 0;
  offset_ = 0;
  in_use_ = 0;
}

size_t Arena::bytes_reserved() const {
  size_t total = 0;
  for (const Block& b : blocks_) total += b.size;
  return total;
}

}  // namespace integrad::ad
