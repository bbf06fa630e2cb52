// Load-time evaluation of ONNX operations on constants — above all the integer shape arithmetic
// torch.onnx.export writes (Shape → Gather → Unsqueeze → Concat → Reshape), where a value may be
// the batch N. Constants of any type move through the same index maps; integer arithmetic is
// done on n·N + c and refused where it would not stay of that form.
#pragma once

#include "nn/onnx/builder.h"

namespace integrad::nn::onnx_in {

// The elements of `src` at `from` (row-major indices), as a constant of shape `dims`.
Value pick(const Value& src, const std::vector<int64_t>& dims, const std::vector<int64_t>& from);
// Row-major strides of a fixed shape.
std::vector<int64_t> strides_of(const std::vector<int64_t>& dims);
// Integer Add, Sub, Mul, Div (truncating) with broadcasting; throws where N would be multiplied by N
// or divided unevenly.
Value int_arithmetic(const std::string& op, const Value& a, const Value& b);
// The shape of a runtime value as an int64 constant (it may hold N).
Value shape_of(const Value& v, int64_t start, int64_t end);
int64_t normalise_axis(int64_t axis, int64_t rank, const std::string& what);

}  // namespace integrad::nn::onnx_in
