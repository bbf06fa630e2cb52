// Big-endian integers in binary formats that use them (IDX headers, PNG chunks).
#pragma once

#include <cstdint>
#include <string_view>

namespace integrad::nn {

// The 32-bit unsigned big-endian integer at bytes[at, at + 4); the caller checks the bounds.
inline uint32_t big_endian_32(std::string_view bytes, size_t at) {
  return uint32_t(uint8_t(bytes[at])) << 24 | uint32_t(uint8_t(bytes[at + 1])) << 16 | uint32_t(uint8_t(bytes[at + 2])) << 8 | uint8_t(bytes[at + 3]);
}

}  // namespace integrad::nn
