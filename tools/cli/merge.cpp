// integrad merge: joins the outputs of `--shard i/n` runs (explain, predict, evaluate) into one .npy.
// Each shard's OUT.range.json says which rows [first, end) of how many examples it holds; the
// shards must agree on the total, the dtype and the shape of a row, must not overlap, and together
// must cover every example: what is missing is named (rows and, where the shards say, i/n).
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "command.h"
#include "common.h"
#include "nn/atomic_file.h"
#include "nn/npy.h"
#include "nn/output_guard.h"
#include "nn/printable.h"
#include "shard.h"

namespace integrad::cli {
namespace {

struct MergeArgs {
  std::vector<std::string> shards;
  std::string output;
};

struct Part {
  std::string path;
  ExampleRange range;
  int64_t of = 0;  // n of i/n, 0 if the sidecar does not say
  nn::NpyArray array;
  std::string inputs, options;  // what it was computed from (empty in sidecars of older versions)
};

Part read_part(const std::string& path) {
  const std::string sidecar = range_sidecar(path);
  std::string text;
  try {
    text = nn::read_file(sidecar);
  } catch (const std::exception&) {
    throw std::invalid_argument(fmt::format("{} has no range sidecar {}: was it written with --shard?", nn::printable(path), nn::printable(sidecar)));
  }
  const auto j = nlohmann::json::parse(text, nullptr, false);
  auto field = [&](const char* key) -> int64_t {
    if (!j.is_object() || !j.contains(key) || !j.at(key).is_number_integer() || j.at(key).get<int64_t>() < 0)
      throw std::invalid_argument(fmt::format("{}: '{}' is missing or not a non-negative integer", nn::printable(sidecar), key));
    return j.at(key).get<int64_t>();
  };
  Part p{path, {field("first"), field("end"), field("total")}, 0, {}};
  if (p.range.first > p.range.end || p.range.end > p.range.total)
    throw std::invalid_argument(fmt::format("{}: rows [{}, {}) do not lie within the {} examples", nn::printable(sidecar), p.range.first, p.range.end, p.range.total));
  if (j.contains("shard") && j.at("shard").is_string()) {
    const std::string s = j.at("shard").get<std::string>();
    if (const size_t slash = s.find('/'); slash != std::string::npos) p.of = std::atoll(s.c_str() + slash + 1);
  }
  auto text_field = [&](const char* key) { return j.contains(key) && j.at(key).is_string() ? j.at(key).get<std::string>() : std::string(); };
  p.inputs = text_field("inputs");
  p.options = text_field("options");
  const std::string bytes = nn::read_file(path);
  if (const std::string hash = text_field("output"); !hash.empty() && hash != fmt::format("{:016x}", nn::content_hash(bytes)))
    throw std::invalid_argument(fmt::format("{} is not the file {} describes (its contents differ from what was written with it): sidecars swapped or "
                                            "the shard changed since",
                                            nn::printable(path), nn::printable(sidecar)));
  p.array = nn::npy_parse(bytes, path);
  if (p.array.shape.rank() < 1 || p.array.shape[0] != p.range.size())
    throw std::invalid_argument(fmt::format("{} has shape {}, but its sidecar says it holds rows [{}, {}) ({} rows)", nn::printable(path), p.array.shape.str(),
                                            p.range.first, p.range.end, p.range.size()));
  return p;
}

// "rows [a, b)" plus the shards i/n that lie inside the gap, when the shards say how many there are.
std::string describe_gap(int64_t a, int64_t b, int64_t total, int64_t of) {
  std::string text = fmt::format("examples [{}, {}) of {}", a, b, total);
  if (of > 0) {
    std::vector<std::string> names;
    for (int64_t i = 0; i < of; ++i) {
      const ExampleRange r = shard_range(Shard{i, of, true}, total);
      if (r.first >= a && r.end <= b && r.size() > 0) names.push_back(fmt::format("{}/{}", i, of));
    }
    if (!names.empty()) text += fmt::format(" (shard{} {})", names.size() > 1 ? "s" : "", fmt::join(names, ", "));
  }
  return text;
}

void run(const MergeArgs& a) {
  std::vector<nn::NamedPath> inputs;
  for (const auto& s : a.shards) inputs.push_back({"SHARD", s});
  nn::check_outputs({{"-o", a.output}}, inputs);
  std::vector<Part> parts;
  for (const auto& s : a.shards) parts.push_back(read_part(s));
  const Part& head = parts.front();
  for (const Part& p : parts) {
    if (p.range.total != head.range.total)
      throw std::invalid_argument(fmt::format("{} is a shard of {} examples, {} of {}: shards of different inputs", nn::printable(p.path), p.range.total,
                                              nn::printable(head.path), head.range.total));
    if (p.array.dtype != head.array.dtype || p.array.shape.without(0) != head.array.shape.without(0))
      throw std::invalid_argument(fmt::format("{} holds {} rows of {}, {} holds {} rows of {}: shards of different outputs", nn::printable(p.path),
                                              p.array.dtype, p.array.shape.without(0).str(), nn::printable(head.path), head.array.dtype,
                                              head.array.shape.without(0).str()));
    if (!p.inputs.empty() && !head.inputs.empty() && p.inputs != head.inputs)
      throw std::invalid_argument(fmt::format("{} and {} were computed from different files (model, inputs, baseline or targets): shards of different runs",
                                              nn::printable(p.path), nn::printable(head.path)));
    if (!p.options.empty() && !head.options.empty() && p.options != head.options)
      throw std::invalid_argument(fmt::format("{} and {} were computed with different options (method, steps, target, ...): shards of different runs",
                                              nn::printable(p.path), nn::printable(head.path)));
  }
  std::stable_sort(parts.begin(), parts.end(), [](const Part& x, const Part& y) { return x.range.first < y.range.first; });
  const int64_t total = head.range.total;
  int64_t of = parts.front().of;
  for (const Part& p : parts)
    if (p.of != of) of = 0;
  std::vector<std::string> missing;
  int64_t covered = 0;
  for (size_t k = 0; k < parts.size(); ++k) {
    const Part& p = parts[k];
    if (p.range.size() == 0) continue;
    if (p.range.first < covered) {
      const auto prev = std::find_if(parts.begin(), parts.begin() + long(k), [&](const Part& q) { return q.range.end > p.range.first && q.range.size() > 0; });
      throw std::invalid_argument(fmt::format("{} (examples [{}, {})) and {} (examples [{}, {})) overlap", nn::printable(prev->path), prev->range.first,
                                              prev->range.end, nn::printable(p.path), p.range.first, p.range.end));
    }
    if (p.range.first > covered) missing.push_back(describe_gap(covered, p.range.first, total, of));
    covered = p.range.end;
  }
  if (covered < total) missing.push_back(describe_gap(covered, total, total, of));
  if (!missing.empty())
    throw std::invalid_argument(fmt::format("the shards do not cover every example: missing {}", fmt::join(missing, "; ")));
  nn::NpyArray out{head.array.dtype, head.array.shape.with(0, total), {}};
  for (const Part& p : parts) out.data += p.array.data;
  nn::npy_write_array(a.output, out);
  fmt::print(status_stream(a.output), "merged {} shards into {} {}\n", parts.size(), nn::printable(a.output), out.shape.str());
}

void setup(CLI::App& cmd) {
  auto a = std::make_shared<MergeArgs>();
  cmd.add_option("SHARDS", a->shards, "Shard outputs (.npy), each with its OUT.range.json from --shard, in any order")->required();
  cmd.add_option("-o,--output", a->output, "The joined .npy, rows in example order")->required();
  cmd.callback([a] { run(*a); });
}

const bool registered = register_command({"merge", "Join the .npy outputs of --shard runs into one (checks the ranges are complete and disjoint)", setup});

}  // namespace
}  // namespace integrad::cli
