// What the user reads when the standard library, not integrad, raised the error: a failed
// allocation says what to reduce rather than "std::bad_alloc" or "cannot create std::vector larger
// than max_size()". The CLI's main and Python's exception translator both use these.
#pragma once

#include <exception>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>

namespace integrad::nn {

inline constexpr const char* kOutOfMemory =
    "out of memory: this needs more memory than the machine gives it; reduce --batch-size (rows through the model at once), "
    "--samples or --steps, or the number of examples (--limit, --shard)";

// e.what(), except for the library's allocation failures, which become kOutOfMemory.
inline std::string user_message(const std::exception& e) {
  if (dynamic_cast<const std::bad_alloc*>(&e)) return kOutOfMemory;
  const std::string_view what = e.what();
  if (dynamic_cast<const std::length_error*>(&e) && (what.find("max_size") != std::string_view::npos || what.find("vector") != std::string_view::npos ||
                                                     what.find("basic_string") != std::string_view::npos))
    return kOutOfMemory;
  return std::string(what);
}

// A message as shown: a value pasted into an option (5 MB of it) is not echoed in full.
inline std::string shortened(std::string text, size_t max_bytes = 2000) {
  if (text.size() <= max_bytes) return text;
  const size_t more = text.size() - max_bytes;
  text.resize(max_bytes);
  return text + "... (" + std::to_string(more) + " more bytes)";
}

}  // namespace integrad::nn
