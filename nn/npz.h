// NumPy .npz archives (np.savez, np.savez_compressed): a zip file of .npy arrays, stored or
// deflated. Read whole; each array is checked as a .npy file is (nn/npy.h). Zip features NumPy
// does not write (encryption, multiple disks, other compression methods) are refused by name.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "nn/npy.h"

namespace integrad::nn {

// The arrays in the archive's order, named as NumPy names them (the member's name without ".npy").
std::vector<std::pair<std::string, NpyArray>> npz_read(const std::string& path);
// The same from the archive's bytes; `path` names it in errors.
std::vector<std::pair<std::string, NpyArray>> npz_parse(const std::string& bytes, const std::string& path);

// Writes an archive as np.savez does (members "NAME.npy", stored), whole (nn/atomic_file.h); at
// most 4 GB in all (no zip64).
template <ad::Scalar T>
void npz_write(const std::string& path, const std::vector<std::pair<std::string, ad::Tensor<T>>>& arrays);

inline bool is_npz_path(const std::string& path) { return path.size() > 4 && path.compare(path.size() - 4, 4, ".npz") == 0; }

}  // namespace integrad::nn
