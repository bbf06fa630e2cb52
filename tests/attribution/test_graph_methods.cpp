// Every registered method on graph models: a method added later is run on a ResNet (BatchNorm,
// residual sums, global pooling) without anyone writing a test for it. Each must give finite
// attributions of the right shape — or refuse the model with a message that says why, for the
// methods that are defined only for other models (attention needs a transformer).
#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <string>

#include "attribution/method.h"
#include "nn/model_file.h"
#include "nn/npy.h"

using namespace integrad;

namespace {
const std::string kDir = std::string(INTEGRAD_TEST_DATA) + "/graph/";

// Options a method needs on 2x8x8 images, where its defaults do not fit them (no default window
// or group count suits every input).
std::map<std::string, std::string> needed_options(const attr::Method<double>& m) {
  // Built with emplace of std::strings: assigning string literals here set off GCC 12's false
  // -Wrestrict warning inside std::string.
  std::map<std::string, std::string> given;
  const auto give = [&given](const char* name, const char* value) { given.emplace(std::string(name), std::string(value)); };
  for (const attr::OptionSpec& o : m.options) {
    if (o.name == "window") give("window", "1,4,4");
    if (o.name == "steps" && m.name != "blur-ig") give("steps", "8");
    if (o.name == "samples") give("samples", m.name == "lime" || m.name == "kernelshap" ? "300" : "4");
    if (o.name == "layer" && o.kind == attr::OptionSpec::Kind::text && m.name != "ig") give("layer", "layer2.0.relu2");
    if (o.name == "patch") give("patch", "4");
  }
  return given;
}
}  // namespace

TEST_CASE("every registered method runs on a ResNet, or refuses it saying why") {
  const nn::Model<double> model = nn::load_model<double>(kDir + "resnet.safetensors");
  const ad::Tensor<double> x = nn::npy_read_tensor<double>(kDir + "resnet_input.npy");
  const std::set<std::string> refusing = {"attention", "rollout", "attention-x-gradient"};
  int ran = 0;
  for (const attr::Method<double>& m : attr::registry<double>()) {
    CAPTURE(m.name);
    const attr::Options options = attr::parse_options(m.name, m.options, needed_options(m));
    if (refusing.count(m.name)) {
      CHECK_THROWS_WITH_AS(attr::explain(m, model, x, attr::Baseline<double>::zero(), attr::Target<double>::of(1), options),
                           doctest::Contains("attention"), std::invalid_argument);
      continue;
    }
    attr::Attribution<double> a;
    try {
      a = attr::explain(m, model, x, attr::Baseline<double>::zero(), attr::Target<double>::of(1), options);
    } catch (const std::exception& e) {
      FAIL_CHECK(e.what());
      continue;
    }
    CHECK(a.values.shape()[0] == 3);
    bool finite = true;
    for (double v : a.values.span()) finite = finite && std::isfinite(v);
    CHECK(finite);
    if (m.has_delta && m.name != "blur-ig" && m.name != "guided-ig" && m.name.find("ig") != std::string::npos) {
      for (double d : a.deltas) CHECK(std::abs(d) < 0.05);  // IG-like methods are (near-)complete on the ResNet too
    }
    ++ran;
  }
  CHECK(ran >= 15);
}

TEST_CASE("every registered method on an LSTM text model: token-id methods run at the embedding, the others refuse saying why") {
  const std::string dir = std::string(INTEGRAD_TEST_DATA) + "/torch/";
  for (const std::string cell : {"lstm", "gru"}) {
    CAPTURE(cell);
    const nn::Model<double> model = nn::load_model<double>(dir + "recurrent_model_" + cell + ".safetensors");
    const ad::Tensor<double> x = nn::npy_read_tensor<double>(dir + "recurrent_model_input.npy");
    int ran = 0;
    for (const attr::Method<double>& m : attr::registry<double>()) {
      CAPTURE(m.name);
      std::map<std::string, std::string> given;
      for (const attr::OptionSpec& o : m.options)
        if (o.name == "layer" && o.kind == attr::OptionSpec::Kind::text) given.emplace("layer", std::string("0"));  // the embedding
      attr::Attribution<double> a;
      try {
        a = attr::explain(m, model, x, attr::Baseline<double>::zero(), attr::Target<double>::of(1), attr::parse_options(m.name, m.options, given));
      } catch (const std::invalid_argument& e) {
        // A method made for token ids refuses them only for want of attention layers.
        if (m.takes_token_ids) CHECK(std::string(e.what()).find("attention") != std::string::npos);
        CHECK(std::string(e.what()).size() > 20);
        continue;
      }
      bool finite = true;
      for (double v : a.values.span()) finite = finite && std::isfinite(v);
      CHECK(finite);
      if (m.name == "ig") {
        CHECK(a.values.shape() == ad::Shape{x.size(0), x.size(1), 4});  // the embedding's output
        for (double d : a.deltas) CHECK(std::abs(d) < 0.05);
      }
      ++ran;
    }
    CHECK(ran >= 1);
  }
}
