// Images as model inputs: one PNG file is one example [1, C, H, W] with values scaled to [0, 1]
// (as the Fashion-MNIST sets are), C = 1 (decoded to grayscale) or 3 (RGB). Decoded by stb_image,
// compiled into integrad with only its PNG decoder; the header's size is checked before any pixel
// is decoded. JPEG files are recognised and refused with a message (see image_file.cpp for why).
#pragma once

#include <string>
#include <string_view>

#include "autodiff/tensor.h"

namespace integrad::nn {

// True for names ending in .png, .jpg or .jpeg (any case): files to read as images, or to refuse as such.
bool is_image_path(const std::string& path);

template <ad::Scalar T>
ad::Tensor<T> image_parse(std::string_view bytes, int64_t channels, const std::string& name_for_errors);
template <ad::Scalar T>
ad::Tensor<T> read_image(const std::string& path, int64_t channels);

}  // namespace integrad::nn
