// --shard i/n (explain, predict, evaluate): the i-th (0-based) of n contiguous ranges of the input's
// examples, rows [⌊i·N/n⌋, ⌊(i+1)·N/n⌋), so a job array or GNU parallel can split a data set without
// a scheduler of our own. A shard's outputs carry their range in a sidecar OUTPUT.range.json
// ({"first": .., "end": .., "total": N, "shard": "i/n"}); `integrad merge` joins them (merge.cpp).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

#include "nn/model.h"

namespace integrad::cli {

struct Shard {
  int64_t index = 0, count = 1;
  bool given = false;
};

// Rows [first, end) of a set of total examples.
struct ExampleRange {
  int64_t first = 0, end = 0, total = 0;
  int64_t size() const { return end - first; }
};

// "i/n" with n >= 1 and 0 <= i < n; anything else is refused naming --shard and what it allows.
Shard parse_shard(const std::string& text);
void add_shard_option(CLI::App& cmd, Shard& shard);
ExampleRange shard_range(const Shard& shard, int64_t total);

// The model's inputs as load_inputs reads them, but only this shard's rows (read from a memory map
// of the .npy); range receives which rows of how many.
template <ad::Scalar T>
ad::Tensor<T> load_shard_inputs(const std::string& path, const nn::Model<T>& model, const Shard& shard, ExampleRange& range,
                                std::vector<std::string>* feature_names = nullptr);

// What a shard was computed from, as hex hashes: the contents of every file the command read,
// and the options that change the result (not the outputs, --shard, -q).
struct ShardProvenance {
  std::string inputs, options;
};
ShardProvenance shard_provenance();

// OUTPUT.range.json, written beside a shard's output (nothing without --shard), after the output:
// {"first", "end", "total", "shard": "i/n", "inputs", "options", "output": the output's hash}.
std::string range_sidecar(const std::string& output);
void write_range_sidecar(const std::string& output, const Shard& shard, const ExampleRange& range);

}  // namespace integrad::cli
