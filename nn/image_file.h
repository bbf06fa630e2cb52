// Images as model inputs: one PNG or JPEG file is one example [1, C, H, W] with values scaled to
// [0, 1] (as the Fashion-MNIST sets are), C = 1 (decoded to grayscale) or 3 (RGB). Decoded by
// stb_image, compiled into integrad with only its PNG and JPEG decoders; the header's size is
// checked before any pixel is decoded.
#pragma once

#include <string>
#include <string_view>

#include "autodiff/tensor.h"

namespace integrad::nn {

// True for names ending in .png, .jpg or .jpeg (any case).
bool is_image_path(const std::string& path);

template <ad::Scalar T>
ad::Tensor<T> image_parse(std::string_view bytes, int64_t channels, const std::string& name_for_errors);
template <ad::Scalar T>
ad::Tensor<T> read_image(const std::string& path, int64_t channels);

}  // namespace integrad::nn
