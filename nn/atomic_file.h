// Whole files in and out. Outputs go to a temporary file beside the target and are renamed into
// place, so a reader never sees half a file and a crash never leaves one.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace integrad::nn {

void write_file_atomically(const std::string& path, std::string_view bytes);
// The whole file; errors name the path. Refuses files larger than max_bytes.
std::string read_file(const std::string& path, size_t max_bytes = size_t(4) << 30);

}  // namespace integrad::nn
