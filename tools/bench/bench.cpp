// Benchmarks. Without arguments: kernel micro-benchmarks, GEMM (float32, float64) at square and MLP
// shapes and the CNN's conv2d forward + backward, with time, GFLOP/s and peak memory; `peak`
// prints the best float32 GEMM rate alone (this machine's peak for tools/bench/compare.py).
// `job NAME ...`: one workload of tools/bench/compare.py, timed in-process: the model and the data
// are loaded (and anything the workload takes as given, like the attributions a metric scores)
// before the clock starts, and the output is not written. Prints "compute_s SECONDS".
//   job ig|saliency|occlusion|blur-ig|kernelshap|gradcam|lrp|predict1 MODEL INPUTS [MASK] (gradcam, lrp: MODEL an --arch resnet)
//   job deletion|sensitivity MODEL INPUTS ATTRIBUTIONS
//   job ig-resnet MODEL INPUTS (MODEL an --arch resnet, or its ONNX export)
//   job forward MODEL INPUTS (predict in integrad's default batches of 256)
//   job train-mlp|train-cnn|train-resnet DATA_DIR (train-resnet: the first 20,000 training images)
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <functional>
#include <string>

#include "attribution/metric.h"
#include "attribution/method.h"
#include "autodiff/gemm.h"
#include "autodiff/ops.h"
#include "nn/architecture.h"
#include "nn/fashion_mnist.h"
#include "nn/model_file.h"
#include "nn/named_datasets.h"
#include "nn/npy.h"
#include "nn/train.h"

using namespace integrad::ad;
using Clock = std::chrono::steady_clock;

namespace {
// Best of `repeats` runs, in seconds.
double best_time(int repeats, const std::function<void()>& fn) {
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = Clock::now();
    fn();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

template <Scalar T>
void bench_gemm(const char* name, int64_t m, int64_t n, int64_t k, bool ta, bool tb) {
  Rng rng(1);
  Tensor<T> a = Tensor<T>::uniform(Shape{m * k}, rng), b = Tensor<T>::uniform(Shape{k * n}, rng), c(Shape{m * n});
  const int repeats = m * n * k > 100'000'000 ? 5 : 20;
  const double s = best_time(repeats, [&] { gemm(ta, tb, m, n, k, T(1), a.data(), ta ? m : k, b.data(), tb ? k : n, T(0), c.data(), n); });
  fmt::print("{:<34} {:>10.3f} ms {:>9.1f} GFLOP/s\n", fmt::format("{} {}x{}x{}{}{}", name, m, n, k, ta ? " Aᵀ" : "", tb ? " Bᵀ" : ""), s * 1e3,
             2.0 * double(m * n * k) / s * 1e-9);
}

void bench_conv(int64_t batch, int64_t c, int64_t o, int64_t hw) {
  Rng rng(2);
  Tensor<float> x = Tensor<float>::uniform(Shape{batch, c, hw, hw}, rng), w = Tensor<float>::uniform(Shape{o, c, 3, 3}, rng), gw(w.shape());
  const Tensor<float> seed(Shape{batch, o, hw, hw}, 1.0f);  // dL/dy = 1, as y.sum().backward() seeds it
  Tape<float> tape;
  const double s = best_time(10, [&] {
    Var<float> y = conv2d(tape.leaf(x, true), tape.parameter(w, &gw), Var<float>(), 1, 1);
    tape.backward(y, seed.span());
    tape.rewind();
  });
  const double flops = 3 * 2.0 * double(batch * o * c * 9 * hw * hw);  // forward, and gradients of the input and the weight
  fmt::print("{:<34} {:>10.3f} ms {:>9.1f} GFLOP/s\n", fmt::format("conv2d fwd+bwd {}x{}->{} {}x{}", batch, c, o, hw, hw), s * 1e3, flops / s * 1e-9);
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// One workload, in-process: everything loaded first, then the clock.
int job(int argc, char** argv) {
  using T = float;
  namespace attr = integrad::attr;
  namespace nn = integrad::nn;
  const std::string name = argv[2];
  const bool training = name == "train-mlp" || name == "train-cnn" || name == "train-resnet";
  const bool third_file = name == "kernelshap" || name == "deletion" || name == "sensitivity";
  if (argc < (training ? 4 : third_file ? 6 : 5)) {
    fmt::print(stderr, "job {}: missing arguments (see the usage at the top of tools/bench/bench.cpp)\n", name);
    return 2;
  }
  double seconds = 0;
  if (training) {
    nn::Dataset<T> data = nn::load_fashion_mnist<T>(argv[3], true);
    if (name == "train-resnet") {  // the epoch: 20,000 images
      data.inputs = data.inputs.rows(0, 20000);
      data.labels.resize(20000);
    }
    nn::Model<T> model = nn::parse_architecture<T>(nn::named_architecture(name.substr(6)), Shape{1, 28, 28}, nn::InputDtype::float32, 0);
    nn::TrainOptions o;  // Adam, lr 1e-3, batch 64, as bench_torch.py; no validation pass
    o.shuffle = false;
    o.progress = false;
    const auto t0 = Clock::now();
    nn::train<T>(model, data, nullptr, o);
    seconds = seconds_since(t0);
  } else {
    const nn::Model<T> model = nn::load_model<T>(argv[3]);
    const Tensor<T> x = integrad::nn::npy_read_tensor<T>(argv[4]);
    // Targets: the predicted classes, as the torch side takes them, resolved before the clock.
    const Tensor<T> logits = model.predict(x);
    std::vector<int64_t> targets(size_t(x.size(0)));
    for (int64_t i = 0; i < x.size(0); ++i)
      targets[size_t(i)] = std::max_element(logits.data() + i * logits.size(1), logits.data() + (i + 1) * logits.size(1)) - (logits.data() + i * logits.size(1));
    const attr::Target<T> target = attr::Target<T>::each(targets);
    const attr::Baseline<T> zero = attr::Baseline<T>::zero();
    auto run_method = [&](const std::string& method, const std::map<std::string, std::string>& given) {
      const attr::Method<T>& m = attr::find_method<T>(method);
      const attr::Options options = attr::parse_options(m.name, m.options, given);
      const auto t0 = Clock::now();
      const auto r = attr::explain(m, model, x, zero, target, options);
      seconds = seconds_since(t0);
      return r.values.numel();
    };
    auto run_metric = [&](const std::string& metric, const std::map<std::string, std::string>& given) {
      const Tensor<T> a = integrad::nn::npy_read_tensor<T>(argv[5]);
      const attr::Metric<T>& m = attr::find_metric<T>(metric);
      const attr::Options options = attr::parse_options(m.name, m.options, given);
      const auto t0 = Clock::now();
      const std::vector<double> scores = m.score(attr::MetricCall<T>{model, x, a, zero, target, options});
      seconds = seconds_since(t0);
      return int64_t(scores.size());
    };
    if (name == "ig" || name == "ig-resnet") run_method("ig", {{"steps", "50"}, {"quadrature", "gausslegendre"}});
    else if (name == "saliency") {
      // 1,000 images per call, as bench_torch.py calls Captum's Saliency (one pass over 10,000
      // holds 0.5 GB per activation and runs out of cache on both sides).
      const attr::Method<T>& m = attr::find_method<T>("saliency");
      const attr::Options options = attr::parse_options(m.name, m.options, {});
      const auto t0 = Clock::now();
      for (int64_t s = 0; s < x.size(0); s += 1000) {
        const int64_t e = std::min(x.size(0), s + 1000);
        const attr::Target<T> part = attr::Target<T>::each(std::vector<int64_t>(targets.begin() + s, targets.begin() + e));
        (void)attr::explain(m, model, x.rows(s, e), zero, part, options);
      }
      seconds = seconds_since(t0);
    }
    else if (name == "occlusion") run_method("occlusion", {{"window", "1,4,4"}, {"stride", "1,2,2"}});
    else if (name == "blur-ig") run_method("blur-ig", {{"max-sigma", "50"}, {"steps", "100"}});
    else if (name == "kernelshap") run_method("kernelshap", {{"samples", "200"}, {"feature-mask", argv[5]}});
    else if (name == "gradcam") run_method("gradcam", {{"layer", "layer2.0.relu2"}});  // MODEL: an --arch resnet
    else if (name == "lrp") run_method("lrp", {{"composite", "epsilon-plus-flat"}});
    else if (name == "deletion") run_metric("deletion", {{"steps", "20"}});
    else if (name == "sensitivity") run_metric("sensitivity-max", {{"samples", "10"}, {"method", "ig"}});
    else if (name == "forward") {
      const auto t0 = Clock::now();
      (void)model.predict(x);
      seconds = seconds_since(t0);
    } else if (name == "predict1") {
      const auto t0 = Clock::now();
      for (int64_t i = 0; i < x.size(0); ++i) (void)model.predict(x.rows(i, i + 1), 1);
      seconds = seconds_since(t0);
    } else {
      fmt::print(stderr, "unknown job '{}'\n", name);
      return 2;
    }
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  fmt::print("compute_s {:.4f}\npeak_mib {:.0f}\n", seconds, double(usage.ru_maxrss) / 1024);
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "job") {
    if (argc < 4) {
      fmt::print(stderr, "usage: integrad_bench job NAME MODEL INPUTS [MASK|ATTRIBUTIONS] | job train-mlp|train-cnn DATA_DIR\n");
      return 2;
    }
    return job(argc, argv);
  }
  if (argc >= 2 && std::string(argv[1]) == "peak") {
    // The best rate of a large float32 GEMM: this machine's practical peak for the FLOP fractions.
    double best = 0;
    for (int64_t n : {1024, 2048}) {
      Rng rng(1);
      Tensor<float> a = Tensor<float>::uniform(Shape{n * n}, rng), b = Tensor<float>::uniform(Shape{n * n}, rng), c(Shape{n * n});
      const double s = best_time(5, [&] { gemm(false, false, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n); });
      best = std::max(best, 2.0 * double(n * n * n) / s * 1e-9);
    }
    fmt::print("sgemm_peak_gflops {:.1f}\n", best);
    return 0;
  }
  fmt::print("{:<34} {:>13} {:>17}\n", "workload", "time (best)", "throughput");
  for (int64_t s : {256, 512, 1024}) bench_gemm<float>("sgemm", s, s, s, false, false);
  for (int64_t s : {256, 512}) bench_gemm<double>("dgemm", s, s, s, false, false);
  // The MLP's training GEMMs for a batch of 64: forward, input and weight gradients.
  bench_gemm<float>("sgemm mlp fwd", 64, 256, 784, false, true);
  bench_gemm<float>("sgemm mlp dX", 64, 784, 256, false, false);
  bench_gemm<float>("sgemm mlp dW", 256, 784, 64, true, false);
  bench_conv(64, 1, 16, 28);
  bench_conv(64, 16, 32, 14);
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  fmt::print("peak memory {:.1f} MiB\n", double(usage.ru_maxrss) / 1024);
}
