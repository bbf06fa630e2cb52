#include "target_expression.h"

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace integrad::py_bind {
namespace {

struct Op {
  std::string name;
  size_t a = 0, b = 0;  // operands: earlier values (0: the outputs)
  double scalar = 0;    // for the ops with a number: "adds", "muls", "rsubs", "rdivs"; "col": the column
};

template <ad::Scalar T>
ad::Var<T> apply_op(const Op& op, const std::vector<ad::Var<T>>& v) {
  const ad::Var<T> a = v[op.a];
  const std::string& n = op.name;
  if (n == "col") {
    if (a.rank() != 2) throw std::invalid_argument("target: out[:, k] needs outputs [N, C]");
    const int64_t c = a.shape()[1], k = static_cast<int64_t>(op.scalar) < 0 ? static_cast<int64_t>(op.scalar) + c : static_cast<int64_t>(op.scalar);
    if (k < 0 || k >= c) throw std::invalid_argument(fmt::format("target: column {} outside the model's {} outputs", static_cast<int64_t>(op.scalar), c));
    return ad::reshape(ad::slice(a, 1, k, k + 1), ad::Shape{a.shape()[0]});
  }
  if (n == "add") return ad::add(a, v[op.b]);
  if (n == "sub") return ad::sub(a, v[op.b]);
  if (n == "mul") return ad::mul(a, v[op.b]);
  if (n == "div") return ad::div(a, v[op.b]);
  if (n == "adds") return ad::add_scalar(a, static_cast<T>(op.scalar));
  if (n == "muls") return ad::mul_scalar(a, static_cast<T>(op.scalar));
  if (n == "rsubs") return ad::add_scalar(ad::neg(a), static_cast<T>(op.scalar));
  if (n == "rdivs") return ad::mul_scalar(ad::pow(a, T(-1)), static_cast<T>(op.scalar));
  if (n == "pow") return ad::pow(a, static_cast<T>(op.scalar));
  if (n == "neg") return ad::neg(a);
  if (n == "exp") return ad::exp(a);
  if (n == "log") return ad::log(a);
  if (n == "sigmoid") return ad::sigmoid(a);
  if (n == "tanh") return ad::tanh(a);
  if (n == "softmax") return ad::softmax(a, a.rank() - 1);
  if (n == "log_softmax") return ad::log_softmax(a, a.rank() - 1);
  if (n == "sum") return a.rank() == 2 ? ad::sum(a, 1) : a;
  throw std::invalid_argument("target: unknown operation '" + n + "'");
}

}  // namespace

bool is_target_expression(py::handle target) {
  if (!py::isinstance<py::list>(target)) return false;
  const py::list l = py::reinterpret_borrow<py::list>(target);
  return l.size() > 0 && py::isinstance<py::tuple>(l[0]);
}

template <ad::Scalar T>
attr::Target<T> target_expression(py::handle ops_list) {
  std::vector<Op> ops;
  for (py::handle item : py::reinterpret_borrow<py::list>(ops_list)) {
    const py::tuple t = py::reinterpret_borrow<py::tuple>(item);
    if (t.size() != 3) throw py::value_error("target: a traced operation is (name, operand, operand)");
    Op op{t[0].cast<std::string>(), t[1].cast<size_t>(), 0, 0};
    if (op.a > ops.size()) throw py::value_error("target: an operation reads a value not yet computed");
    if (op.name == "add" || op.name == "sub" || op.name == "mul" || op.name == "div") {
      op.b = t[2].cast<size_t>();
      if (op.b > ops.size()) throw py::value_error("target: an operation reads a value not yet computed");
    } else if (!t[2].is_none()) {
      op.scalar = t[2].cast<double>();
    }
    ops.push_back(std::move(op));
  }
  return attr::Target<T>::scalar([ops](ad::Var<T> outputs) {
    std::vector<ad::Var<T>> values{outputs};
    for (const Op& op : ops) values.push_back(apply_op<T>(op, values));
    ad::Var<T> result = values.back();
    if (result.rank() == 2 && result.shape()[1] == 1) result = ad::reshape(result, ad::Shape{result.shape()[0]});
    if (result.rank() != 1) throw std::invalid_argument(fmt::format("target: the callable gives {} per batch; it must give one value per example", result.shape().str()));
    return result;
  });
}

template attr::Target<float> target_expression<float>(py::handle);
template attr::Target<double> target_expression<double>(py::handle);

}  // namespace integrad::py_bind
