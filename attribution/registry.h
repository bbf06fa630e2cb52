// A list of named entries — the attribution methods (method.h), the metrics (metric.h) — in the
// order they were registered, with one way to look an entry up and to refuse a name taken twice.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace integrad::attr {

template <class Entry>
class Registry {
 public:
  Registry(std::string kind, std::vector<Entry> builtins) : kind_(std::move(kind)), entries_(std::move(builtins)) {}

  void add(Entry entry) {
    if (contains(entry.name)) throw std::invalid_argument(fmt::format("a {} called '{}' is registered already", kind_, entry.name));
    entries_.push_back(std::move(entry));
  }
  bool contains(const std::string& name) const {
    return std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.name == name; });
  }
  // The entry called `name`; the error lists the known names.
  const Entry& find(const std::string& name) const {
    for (const Entry& e : entries_)
      if (e.name == name) return e;
    throw std::invalid_argument(fmt::format("unknown {} '{}' (known: {})", kind_, name, fmt::join(names(), ", ")));
  }
  std::vector<std::string> names() const {
    std::vector<std::string> all;
    for (const Entry& e : entries_) all.push_back(e.name);
    return all;
  }
  auto begin() const { return entries_.begin(); }
  auto end() const { return entries_.end(); }
  size_t size() const { return entries_.size(); }

 private:
  std::string kind_;
  std::vector<Entry> entries_;
};

}  // namespace integrad::attr
