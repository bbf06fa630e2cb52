// A layer's arguments as model files write them — PyTorch's positional order, then key=value —
// checked and converted for the layer's constructor (nn/layer_registry.h).
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace integrad::nn {

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// A layer's arguments matched to PyTorch's parameter names, positional first, then key=value.
class LayerArgs {
 public:
  LayerArgs(std::string_view layer, std::string_view args, std::vector<std::string> names) : layer_(layer), names_(std::move(names)) {
    size_t position = 0;
    for (std::string_view rest = args; !trim(rest).empty();) {
      const size_t comma = rest.find(',');
      std::string_view item = trim(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      if (item.empty()) fail("empty argument");
      const size_t eq = item.find('=');
      std::string key;
      if (eq == std::string_view::npos) {
        if (!values_.empty() && keyword_seen_) fail("positional argument after a keyword argument");
        if (position >= names_.size()) fail(fmt::format("takes at most {} arguments", names_.size()));
        key = names_[position++];
      } else {
        keyword_seen_ = true;
        key = std::string(trim(item.substr(0, eq)));
        if (std::find(names_.begin(), names_.end(), key) == names_.end()) fail("unknown option '" + key + "'");
        item = trim(item.substr(eq + 1));
      }
      if (values_.count(key)) fail("'" + key + "' given twice");
      values_[key] = std::string(item);
    }
  }

  int64_t integer(const std::string& key, std::optional<int64_t> fallback = std::nullopt) const {
    auto it = values_.find(key);
    if (it == values_.end()) {
      if (!fallback) fail("missing '" + key + "'");
      return *fallback;
    }
    try {
      size_t used = 0;
      const int64_t v = std::stoll(it->second, &used);
      if (used != it->second.size()) throw std::invalid_argument("trailing text");
      return v;
    } catch (const std::exception&) {
      fail("'" + key + "' is '" + it->second + "', expected an integer");
    }
  }
  int64_t positive(const std::string& key, std::optional<int64_t> fallback = std::nullopt) const {
    const int64_t v = integer(key, fallback);
    if (v < 1 || v > (int64_t(1) << 24)) fail(fmt::format("'{}' is {}, expected a positive integer below 2^24", key, v));
    return v;
  }
  bool boolean(const std::string& key, bool fallback) const {
    auto it = values_.find(key);
    if (it == values_.end()) return fallback;
    if (it->second == "True" || it->second == "true") return true;
    if (it->second == "False" || it->second == "false") return false;
    fail("'" + key + "' is '" + it->second + "', expected True or False");
  }
  // A finite real number in [lo, hi].
  double real(const std::string& key, double fallback, double lo, double hi) const {
    auto it = values_.find(key);
    if (it == values_.end()) return fallback;
    double v = 0;
    try {
      size_t used = 0;
      v = std::stod(it->second, &used);
      if (used != it->second.size()) throw std::invalid_argument("trailing text");
    } catch (const std::exception&) {
      fail("'" + key + "' is '" + it->second + "', expected a number");
    }
    if (!(v >= lo && v <= hi)) fail(fmt::format("'{}' is {}, expected a number in [{}, {}]", key, it->second, lo, hi));
    return v;
  }
  // A word, with or without quotes ('relu', "relu", relu).
  std::string word(const std::string& key, const std::string& fallback) const {
    auto it = values_.find(key);
    if (it == values_.end()) return fallback;
    std::string v = it->second;
    if (v.size() >= 2 && (v.front() == '\'' || v.front() == '"') && v.back() == v.front()) v = v.substr(1, v.size() - 2);
    return v;
  }
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  bool is_none(const std::string& key) const { return has(key) && values_.at(key) == "None"; }

  [[noreturn]] void fail(const std::string& what) const { throw std::invalid_argument(fmt::format("layer '{}': {}", layer_, what)); }

 private:
  std::string layer_;
  std::vector<std::string> names_;
  std::map<std::string, std::string> values_;
  bool keyword_seen_ = false;
};

// A layer's parameters (values and gradients) are allocated when it is built: refuse sizes no toy
// model needs (2^26 values per layer and per model) before allocating, so a hostile file cannot
// exhaust memory.
inline constexpr int64_t kMaxLayerParameters = int64_t(1) << 26;

inline void check_size(const LayerArgs& a, std::initializer_list<int64_t> dims) {
  int64_t total = 1;
  for (int64_t d : dims) {
    if (d > kMaxLayerParameters / std::max<int64_t>(total, 1)) a.fail("more than 2^26 parameters");
    total *= d;
  }
}

}  // namespace integrad::nn
