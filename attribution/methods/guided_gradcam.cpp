// The registry entry of Guided Grad-CAM (`--method guided-gradcam`; Selvaraju et al. 2017,
// Captum's GuidedGradCam): guided backpropagation (contrast_methods.h) times the Grad-CAM map at
// --layer (clipped at 0) upsampled to the input by nearest interpolation, every input channel
// multiplied by the same map. Adebayo et al. (2018) show it survives randomising the weights
// above the layer almost unchanged: the guided backprop factor hardly depends on them. Dummy
// holds: a feature whose weights are all zero has guided gradient 0.
#include "attribution/methods/contrast_methods.h"
#include "attribution/methods/gradcam.h"

#include <fmt/format.h>
#include <stdexcept>

namespace integrad::attr {

template <ad::Scalar T>
Method<T> guided_gradcam_method() {
  Method<T> m{.name = "guided-gradcam",
              .display_name = "Guided Grad-CAM",
              .summary = "guided backprop × Grad-CAM at --layer upsampled by nearest (Captum's GuidedGradCam; survives weight randomisation)",
              .guarantees = {"dummy"},
              .options = {{.name = "layer", .kind = OptionSpec::Kind::text,
                           .help = "Grad-CAM's layer: its name (module path), or in a chain its 0-based index (default: the last layer whose output is an image larger than 1x1)"}}};
  m.in_tables = [](const nn::Model<T>& model) {
    if (model.input_shape.rank() != 3 || model.input_dtype == nn::InputDtype::int64) return false;
    for (const ad::Shape& s : model.output_shapes())
      if (s.rank() == 3) return true;
    return false;
  };
  m.run = [](const MethodCall<T>& c) {
    if (c.model.input_shape.rank() != 3 || c.model.input_dtype == nn::InputDtype::int64)
      throw std::invalid_argument(fmt::format("Guided Grad-CAM needs image inputs [C, H, W], not {}", c.model.input_shape.str()));
    const ad::Tensor<T> cam = interpolate(grad_cam(c.model, gradcam_layer(c.model, c.options), c.inputs, c.target, false), c.inputs.size(2),
                                          c.inputs.size(3), Interpolation::nearest);
    ad::Tensor<T> values = guided_backprop(c.model, c.inputs, c.target);
    const int64_t n = values.size(0), channels = values.size(1), hw = values.size(2) * values.size(3);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t ch = 0; ch < channels; ++ch)
        for (int64_t p = 0; p < hw; ++p) values[(i * channels + ch) * hw + p] *= cam[i * hw + p];
    return Attribution<T>{.values = std::move(values)};
  };
  return m;
}

template Method<float> guided_gradcam_method<float>();
template Method<double> guided_gradcam_method<double>();

}  // namespace integrad::attr
