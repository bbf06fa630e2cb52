// The built-in methods, registered in the order that --help, the axiom matrix and the report
// show them. Adding a method: define `NAME_method<T>()` in its own file (see method.h), declare it
// here and add it to the list.
#include "attribution/method.h"

namespace integrad::attr {

template <ad::Scalar T> Method<T> gradient_method();
template <ad::Scalar T> Method<T> saliency_method();
template <ad::Scalar T> Method<T> gradxinput_method();
template <ad::Scalar T> Method<T> smoothgrad_method();
template <ad::Scalar T> Method<T> ig_method();
template <ad::Scalar T> Method<T> exact_ig_method();
template <ad::Scalar T> Method<T> deeplift_method();
template <ad::Scalar T> Method<T> guided_backprop_method();
template <ad::Scalar T> Method<T> deconvolution_method();
template <ad::Scalar T> Method<T> gradcam_method();
template <ad::Scalar T> Method<T> guided_gradcam_method();
template <ad::Scalar T> Method<T> lrp_method();
template <ad::Scalar T> Method<T> blur_ig_method();
template <ad::Scalar T> Method<T> guided_ig_method();
template <ad::Scalar T> Method<T> occlusion_method();
template <ad::Scalar T> Method<T> ablation_method();
template <ad::Scalar T> Method<T> shapley_method();
template <ad::Scalar T> Method<T> kernelshap_method();
template <ad::Scalar T> Method<T> shapley_sampling_method();
template <ad::Scalar T> Method<T> lime_method();
template <ad::Scalar T> Method<T> gradientshap_method();
template <ad::Scalar T> Method<T> attention_method();
template <ad::Scalar T> Method<T> rollout_method();
template <ad::Scalar T> Method<T> attention_x_gradient_method();

template <ad::Scalar T>
std::vector<Method<T>> builtin_methods() {
  return {gradient_method<T>(), saliency_method<T>(), gradxinput_method<T>(), smoothgrad_method<T>(),
          ig_method<T>(),       exact_ig_method<T>(), blur_ig_method<T>(), guided_ig_method<T>(),
          deeplift_method<T>(), guided_backprop_method<T>(), deconvolution_method<T>(),
          gradcam_method<T>(), guided_gradcam_method<T>(), lrp_method<T>(),
          occlusion_method<T>(), ablation_method<T>(), shapley_method<T>(), kernelshap_method<T>(),
          shapley_sampling_method<T>(), lime_method<T>(), gradientshap_method<T>(),
          attention_method<T>(), rollout_method<T>(), attention_x_gradient_method<T>()};
}

template std::vector<Method<float>> builtin_methods<float>();
template std::vector<Method<double>> builtin_methods<double>();

}  // namespace integrad::attr
