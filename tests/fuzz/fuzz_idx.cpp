#include <stdexcept>

#include "fuzz_common.h"
#include "nn/fashion_mnist.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    (void)integrad::nn::idx_parse(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.idx");
  } catch (const std::exception&) {
  }
  return 0;
}
