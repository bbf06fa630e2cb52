#pragma once

#include <stdexcept>
#include <string>

namespace integrad::py_bind {

// Raised in Python as FileNotFoundError.
struct FileMissing : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws FileMissing("PATH: no such file") — the CLI's words — unless path is a regular file.
void require_file(const std::string& path);

}  // namespace integrad::py_bind
