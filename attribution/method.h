// The method registry: one entry per attribution method, saying what the method is (its names,
// whether its maps are signed, whether it uses a baseline and has a completeness delta, which
// axioms it guarantees), which options it takes (defaults, ranges, help), and how to run it.
// `integrad explain --method` and its --help, the axiom matrix, the report's columns and the docs'
// table are all read from here, so adding a method is one file (attribution/methods/NAME.cpp,
// defining `NAME_method<T>()`) and one line in attribution/methods/builtin.cpp.
#pragma once

#include <functional>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "attribution/attribution.h"
#include "attribution/registry.h"

namespace integrad::attr {

// One option a method declares, as the command line spells it (without the dashes).
struct OptionSpec {
  enum class Kind { integer, real, choice, flag, text };  // text: any non-empty string (lists, paths)
  std::string name;
  Kind kind = Kind::integer;
  std::string default_value;  // as text; empty: unset unless given (e.g. --layer)
  std::string help;
  double min = -std::numeric_limits<double>::infinity(), max = std::numeric_limits<double>::infinity();  // inclusive
  std::vector<std::string> choices;
};

// A method's option values, each checked against its spec (parse_options); every declared option
// with a default has a value.
class Options {
 public:
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  bool given(const std::string& name) const { return given_.count(name) > 0; }  // by the caller, not a default
  int64_t integer(const std::string& name) const;
  double real(const std::string& name) const;
  const std::string& text(const std::string& name) const;
  bool flag(const std::string& name) const { return has(name) && text(name) == "true"; }

 private:
  std::map<std::string, std::string> values_;
  std::set<std::string> given_;
  friend Options parse_options(const std::string&, const std::vector<OptionSpec>&, const std::map<std::string, std::string>&,
                               const std::map<std::string, std::string>&);
};

// Checks `given` (name -> text) against the specs: an undeclared name, a number out of range or not
// a number, a choice not listed are refused with a message naming the option and what it allows.
// `presets` (e.g. a matrix row's) apply before `given`, and only where declared.
Options parse_options(const std::string& method, const std::vector<OptionSpec>& specs, const std::map<std::string, std::string>& given,
                      const std::map<std::string, std::string>& presets = {});

// What a method explains: the target is already resolved (one class per example, or a function).
template <ad::Scalar T>
struct MethodCall {
  const nn::Model<T>& model;
  const ad::Tensor<T>& inputs;
  const Baseline<T>& baseline;
  const Target<T>& target;
  const Options& options;
  // Where these inputs sit in the whole set being explained (explain's chunks of --batch-size,
  // --shard): row 0 is example `first` of `total` (total 0: the inputs are the whole set). Random
  // methods seed one stream per example from (--seed, first + i), so a chunk or a shard draws what
  // the whole run draws for it; a per-example --feature-mask [total, ...] is read at these rows.
  int64_t first = 0, total = 0;
  // The baseline tensor holds these rows of a per-example baseline [total, ...] (explain sliced it):
  // gradientshap then gives example i baseline i alone, whatever the chunk's size.
  bool per_example_baseline = false;
  // If set, a long-running method may report the fraction [0, 1] of this call's work it has done
  // (IG after each pass of path points), so a progress bar moves within one chunk.
  std::function<void(double)> progress = {};
};

// The seed of example `example`'s own random stream (splitmix64 of the pair): draws for one example
// do not depend on which other examples share its batch.
inline uint64_t example_seed(uint64_t seed, int64_t example) {
  uint64_t z = seed ^ (0x9E3779B97F4A7C15ull * (static_cast<uint64_t>(example) + 1));
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The option every method takes: rows through the model at once. explain runs the examples in
// chunks of this many, and a method evaluates at most this many rows (examples, IG's path points,
// noisy or perturbed copies) per forward/backward pass, so the tape's memory is bounded by it and
// not by the number of examples. Results do not depend on it, bit for bit.
OptionSpec batch_size_option();

// A row of the axiom matrix: a method with some options fixed (e.g. one quadrature rule of IG).
struct MatrixRowSpec {
  std::string name;
  std::map<std::string, std::string> presets;
  std::vector<std::string> guarantees;  // axioms this row must satisfy by theory
  bool conserves_without_bias = false;  // Method::conserves_without_bias, for this row
};

template <ad::Scalar T>
struct Method {
  std::string name;          // as --method spells it
  std::string display_name;  // as tables and headings show it
  std::string summary;       // one line for --help and the docs' table
  bool is_signed = true;     // maps can be negative (a diverging colour map)
  bool uses_baseline = false;
  bool has_delta = false;    // completeness delta Σ A − (F(x) − F(x′)) is defined
  bool takes_token_ids = false;
  bool contrast = false;     // shown beside IG in the axiom matrix only, not in explain's pictures
  // The map is relevance for an output relevance of 1 (Zennit's one-hot seed), not of F(x): the
  // conservation check then compares Σ A with 1 — the same as Σ A·F(x) with F(x).
  bool unit_seed = false;
  // Σ A = F(x) (conservation) by theory on a bias-free ReLU network from the zero baseline, where
  // F(0) = 0 (the axiom matrix then holds the row to it: attribution/evaluation/homogeneous.h).
  bool conserves_without_bias = false;
  std::vector<std::string> guarantees;  // axioms it satisfies by theory (kAxiomNames)
  std::vector<OptionSpec> options;
  // Settings for the axiom matrix and the report, where every method runs on the same inputs:
  // several rows (IG's quadrature rules), or one row with cheaper presets. Empty: one row, defaults.
  std::vector<MatrixRowSpec> matrix_rows;
  // Whether the tables that run every method (axiom matrix, report) include it for this model, e.g.
  // exact IG only where walking every kink is quick. Empty: always. explain runs it regardless.
  std::function<bool(const nn::Model<T>&)> in_tables;
  std::function<Attribution<T>(const MethodCall<T>&)> run;   // values at least; the rest where defined
};

// Every registered method, built-ins first (attribution/methods/builtin.cpp), in order.
template <ad::Scalar T>
Registry<Method<T>>& registry();
template <ad::Scalar T>
void register_method(Method<T> method) {  // refuses a name already taken
  registry<T>().add(std::move(method));
}
// The method called `name`; the error lists the known names.
template <ad::Scalar T>
const Method<T>& find_method(const std::string& name) {
  return registry<T>().find(name);
}
inline std::vector<std::string> method_names() { return registry<float>().names(); }

// Runs the method as explain does, on chunks of --batch-size examples (options.integer("batch-size")):
// per chunk it resolves the target (predicted = argmax F(x)), and fills in the targets, F(x) and,
// for a method with a delta, F(x′) and the deltas when run() left them out; the chunks' results are
// joined in order. `inputs` are examples [first, first + N) of a set of `total` (0: N), as --shard
// gives them; a per-example baseline or target list covers the whole set ([total, ...]) or just
// these inputs. `progress(d)` says how many of the N examples are done (a fraction within a chunk,
// where the method reports one), after each chunk and, for IG, each pass.
template <ad::Scalar T>
Attribution<T> explain(const Method<T>& method, const nn::Model<T>& model, const ad::Tensor<T>& inputs, const Baseline<T>& baseline,
                       const Target<T>& target, const Options& options, int64_t first = 0, int64_t total = 0,
                       const std::function<void(double)>& progress = {});

// An attribution method as the checks see it: attributions of x [N, ...] for the target, with
// respect to the baseline [N, ...] (methods without a baseline ignore it).
template <ad::Scalar T>
using ExplainFn = std::function<ad::Tensor<T>(const nn::Model<T>&, const ad::Tensor<T>& x, const ad::Tensor<T>& baseline, const Target<T>&)>;

// Thrown by a matrix method (matrix_methods) handed a model it does not apply to: a check's derived
// model, such as the dummy check's flattened twin of an image model, for blur IG. The axiom matrix
// shows that cell as not applicable, with this reason, instead of failing the whole table.
struct MethodNotApplicable : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

template <ad::Scalar T>
struct NamedMethod {
  std::string name;
  ExplainFn<T> fn;
  std::vector<std::string> guarantees;
  std::string left_out;  // non-empty: not run on this model (fn empty), and why
  bool unit_seed = false;  // Method::unit_seed
  bool conserves_without_bias = false;  // MatrixRowSpec::conserves_without_bias
};

// The rows of the axiom matrix for this model: every registered method that is in_tables for it, each
// matrix row with its presets, then `overrides` (e.g. {"steps", "50"}) where the method declares them.
// A perturbation method whose table row cannot take this many features (every scalar its own
// group, e.g. 784 pixels) comes as a row with `left_out` saying so, not silently dropped.
template <ad::Scalar T>
std::vector<NamedMethod<T>> matrix_methods(const nn::Model<T>& model, const std::map<std::string, std::string>& overrides = {});

}  // namespace integrad::attr
