// Limits that keep a small hostile file from asking for unbounded memory or time: activation sizes
// and layer counts an architecture implies, refused when it is parsed.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "nn/architecture.h"
#include "nn/named_datasets.h"

using namespace integrad;

TEST_CASE("architecture: activations one example would need are capped when the text is parsed") {
  // 3 KB of text, >9 GB for one 28x28 image: refused at parse time, naming the layer.
  CHECK_THROWS_WITH(nn::parse_architecture<float>("Conv2d(1, 16, 1, padding=1024); ReLU(); Conv2d(16, 16, 1, padding=1024)", ad::Shape{1, 28, 28},
                                                  nn::InputDtype::float32, 0),
                    doctest::Contains("layer 0 (Conv2d(1, 16, 1, padding=1024)) gives [16, 2076, 2076] per example, more than the limit of 2^22"));
  // The unfolded input of a convolution: 64·31·31 patch values for each of 64×64 pixels.
  CHECK_THROWS_WITH(nn::parse_architecture<float>("Conv2d(64, 1, 31, padding=15)", ad::Shape{64, 64, 64}, nn::InputDtype::float32, 0),
                    doctest::Contains("unfolds into 61504 x 4096 values per example"));
  // The padded input: 64 channels of 256x256 padded by 1024 on each side, though the stride
  // leaves a 3x3 output.
  CHECK_THROWS_WITH(nn::parse_architecture<float>("Conv2d(64, 1, 1, stride=1024, padding=1024)", ad::Shape{64, 256, 256}, nn::InputDtype::float32, 0),
                    doctest::Contains("pads input [64, 256, 256] to 339738624 values per example"));
  // Dimensions whose product overflows int64 are caught too, not wrapped.
  CHECK_THROWS_WITH(nn::parse_architecture<float>("Flatten()", ad::Shape{1 << 24, 1 << 24, 1 << 24, 1 << 24}, nn::InputDtype::float32, 0),
                    doctest::Contains("the input gives"));
  // The built-in CNN is far below the caps.
  CHECK(nn::parse_architecture<float>(nn::named_architecture("cnn"), ad::Shape{1, 28, 28}, nn::InputDtype::float32, 0).layers.size() == 8);
}

TEST_CASE("architecture: at most 4096 layers, and parsing is linear in their number") {
  std::string ok;
  for (int i = 0; i < 4096; ++i) ok += "ReLU();";
  const auto start = std::chrono::steady_clock::now();
  const auto m = nn::parse_architecture<float>(ok, ad::Shape{4}, nn::InputDtype::float32, 0);
  CHECK(m.layers.size() == 4096);
  CHECK(m.output_shapes().size() == 4096);
  CHECK(m.output_shapes().back() == ad::Shape{4});
  // Quadratic parsing took seconds here under ASan; linear takes milliseconds.
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  CHECK_THROWS_WITH(nn::parse_architecture<float>(ok + "ReLU()", ad::Shape{4}, nn::InputDtype::float32, 0), doctest::Contains("more than 4096 layers"));
}

TEST_CASE("model: a forward given inputs of the wrong shape names the model's shape, not an op's") {
  // The class of issue 29 item 20 ("conv2d: input ... and weight ... do not fit" reaching the
  // user): a model's layers are checked when it is built, so a wrong shape can only come in at the
  // forward's boundary, and is refused there in the model's terms, for chains and graphs alike.
  const nn::Model<float> cnn = nn::parse_architecture<float>(nn::named_architecture("cnn"), ad::Shape{1, 28, 28}, nn::InputDtype::float32, 0);
  for (const ad::Shape& wrong : {ad::Shape{2, 3, 28, 28}, ad::Shape{2, 28, 28}, ad::Shape{2, 1, 32, 32}}) {
    std::string message;
    try {
      cnn.predict(ad::Tensor<float>(wrong));
    } catch (const std::invalid_argument& e) {
      message = e.what();
    }
    CHECK(message == "the model takes examples of shape [1, 28, 28] (a batch [N, 1, 28, 28]); it was given " + wrong.str());
  }
  // A forward from an inner layer (layer attribution) is checked against that layer's input.
  ad::Tape<float> tape;
  CHECK_THROWS_WITH(cnn.forward(tape, tape.leaf(ad::Tensor<float>(ad::Shape{1, 1, 28, 28})), nn::Grads::none, 3),
                    doctest::Contains("layer 3 of the model reads values of shape [16, 14, 14] per example; it was given [1, 1, 28, 28]"));
  const nn::Model<float> resnet = nn::parse_architecture<float>(nn::named_architecture("resnet"), ad::Shape{1, 28, 28}, nn::InputDtype::float32, 0);
  CHECK_THROWS_WITH(resnet.predict(ad::Tensor<float>(ad::Shape{1, 3, 28, 28})), doctest::Contains("the model takes examples of shape [1, 28, 28]"));
  CHECK(cnn.predict(ad::Tensor<float>(ad::Shape{2, 1, 28, 28})).shape() == ad::Shape{2, 10});
}
