#include "shard.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <set>
#include <stdexcept>

#include "command.h"
#include "common.h"
#include "nn/atomic_file.h"
#include "nn/image_file.h"
#include "nn/npy.h"

namespace integrad::cli {

constexpr int64_t kMaxShards = 1000000;

Shard parse_shard(const std::string& text) {
  const size_t slash = text.find('/');
  auto number = [&](std::string_view s, int64_t& v) {
    const auto [end, err] = std::from_chars(s.data(), s.data() + s.size(), v);
    return !s.empty() && err == std::errc() && end == s.data() + s.size();
  };
  Shard s;
  s.given = true;
  if (slash == std::string::npos || !number(std::string_view(text).substr(0, slash), s.index) || !number(std::string_view(text).substr(slash + 1), s.count))
    throw std::invalid_argument(fmt::format("--shard must be I/N (the I-th of N parts, 0-based, e.g. 0/4); got '{}'", text));
  if (s.count < 1 || s.count > kMaxShards) throw std::invalid_argument(fmt::format("--shard {}: N must be in [1, {}]", text, kMaxShards));
  if (s.index < 0 || s.index >= s.count) throw std::invalid_argument(fmt::format("--shard {}: I must be in [0, {}] (0-based)", text, s.count - 1));
  return s;
}

void add_shard_option(CLI::App& cmd, Shard& shard) {
  cmd.add_option_function<std::string>("--shard", [&shard](const std::string& v) { shard = parse_shard(v); },
                                       "Only the I-th of N contiguous parts of the examples (0-based I/N, e.g. $SLURM_ARRAY_TASK_ID/16); "
                                       "outputs get a sidecar OUT.range.json for `integrad merge`")
      ->type_name("I/N");
}

ExampleRange shard_range(const Shard& shard, int64_t total) {
  // ⌊i·N/n⌋: N < 2^34 (the largest .npy we read) and n ≤ 10^6 keep the product within int64.
  auto at = [&](int64_t i) { return total * i / shard.count; };
  return {at(shard.index), at(shard.index + 1), total};
}

template <ad::Scalar T>
ad::Tensor<T> load_shard_inputs(const std::string& path, const nn::Model<T>& model, const Shard& shard, ExampleRange& range,
                                std::vector<std::string>* feature_names) {
  if (!shard.given || nn::is_image_path(path) || !path.ends_with(".npy")) {
    ad::Tensor<T> x = load_inputs(path, model, feature_names);
    range = shard_range(shard, x.rank() ? x.size(0) : 0);
    return shard.given ? x.rows(range.first, range.end) : x;
  }
  if (feature_names) *feature_names = model.feature_names;
  ad::Shape whole;
  nn::npy_read_rows<T>(path, 0, 0, &whole);  // the header only
  range = shard_range(shard, whole.rank() ? whole[0] : 0);
  ad::Tensor<T> x = nn::npy_read_rows<T>(path, range.first, range.end, &whole);
  const ad::Shape expected = nn::with_batch(whole.rank() ? whole[0] : 0, model.input_shape);
  if (whole != expected)
    throw std::invalid_argument(fmt::format("{} has shape {}, the model expects [N, {}] (per example {})", path, whole.str(),
                                            model.input_shape.str().substr(1, model.input_shape.str().size() - 2), model.input_shape.str()));
  return x;
}

std::string range_sidecar(const std::string& output) { return output + ".range.json"; }

namespace {

// Options that change neither which examples nor what is computed for them: the outputs, the
// shard itself, chattiness. Every other option a shard was run with goes into its fingerprint.
bool is_provenance_neutral(const CLI::Option& o) {
  static const std::set<std::string> neutral = {"output", "deltas", "json", "csv", "svg", "png", "markdown", "html", "labels-out", "masks-out",
                                                "shard",  "quiet",  "verbose", "help"};
  for (const std::string& name : o.get_lnames())
    if (neutral.count(name)) return true;
  return !o.nonpositional();  // MODEL, INPUT: their contents are fingerprinted, not their names
}

std::string hex(uint64_t v) { return fmt::format("{:016x}", v); }

}  // namespace

ShardProvenance shard_provenance() {
  ShardProvenance p;
  // The inputs: every file the command has read so far (the model, the inputs, a baseline or
  // target file), by content, in an order that does not depend on the command line's.
  if (const nn::OutputSet* set = nn::OutputSet::current()) {
    std::vector<uint64_t> prints;
    for (const nn::OutputSet::Input& in : set->inputs)
      if (!in.path.ends_with(".range.json")) prints.push_back(nn::file_fingerprint(in.path));
    std::sort(prints.begin(), prints.end());
    uint64_t h = nn::content_hash("inputs");
    for (uint64_t v : prints) h = nn::content_hash(std::string_view(reinterpret_cast<const char*>(&v), sizeof v), h);
    p.inputs = hex(h);
  }
  std::string options;
  if (parsed_command_line)
    for (const CLI::App* sub : parsed_command_line->get_subcommands()) {
      options += sub->get_name();
      for (const CLI::Option* o : sub->get_options())
        if (o->count() > 0 && !is_provenance_neutral(*o)) options += fmt::format(" {}={}", o->get_name(), fmt::join(o->results(), ","));
    }
  p.options = hex(nn::content_hash(options));
  return p;
}

void write_range_sidecar(const std::string& output, const Shard& shard, const ExampleRange& range) {
  if (!shard.given) return;
  // What the shard was computed from, and its output's own hash: merge refuses shards of other
  // inputs or options, and a sidecar that belongs to another shard's output.
  const ShardProvenance p = shard_provenance();
  std::string output_hash;
  if (const nn::OutputSet* set = nn::OutputSet::current())
    for (const auto& s : set->staged)
      if (s.given == output) output_hash = hex(s.hash);
  nn::write_file_atomically(range_sidecar(output),
                            fmt::format("{{\"first\": {}, \"end\": {}, \"total\": {}, \"shard\": \"{}/{}\", \"inputs\": \"{}\", \"options\": \"{}\", "
                                        "\"output\": \"{}\"}}\n",
                                        range.first, range.end, range.total, shard.index, shard.count, p.inputs, p.options, output_hash));
}

template ad::Tensor<float> load_shard_inputs<float>(const std::string&, const nn::Model<float>&, const Shard&, ExampleRange&, std::vector<std::string>*);
template ad::Tensor<double> load_shard_inputs<double>(const std::string&, const nn::Model<double>&, const Shard&, ExampleRange&, std::vector<std::string>*);

}  // namespace integrad::cli
