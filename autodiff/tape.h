// The tape (a Wengert list): every op appends one node holding its output value and, when some
// input needs a gradient, a small backward closure. Nodes are created in topological order, so
// backward is a plain reverse loop over the node vector: no recursion, no graph of shared_ptrs.
//
// Values, gradients and closures all live in the tape's arena. `rewind()` drops them at once and
// keeps the memory, so a training step allocates nothing once the first step has run.
#pragma once

#include <cstdint>
#include <cstring>
#include <new>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "autodiff/arena.h"
#include "autodiff/tensor.h"

namespace integrad::ad {

template <Scalar T>
class Tape;

// A handle to a value recorded on a tape. Cheap to copy; valid until the tape is rewound.
template <Scalar T>
class Var {
 public:
  Var() = default;

  Tape<T>& tape() const { return *tape_; }
  int32_t index() const { return index_; }
  bool valid() const { return tape_ != nullptr; }

  const Shape& shape() const { return node().shape; }
  int rank() const { return shape().rank(); }
  int64_t size(int dim) const { return shape()[shape().axis(dim)]; }
  int64_t numel() const { return shape().numel(); }
  bool requires_grad() const { return node().requires_grad; }

  std::span<const T> value() const { return {node().value, static_cast<size_t>(numel())}; }
  // The accumulated gradient after backward; empty when nothing flowed into this value.
  std::span<const T> grad() const {
    const T* g = node().grad;
    return g ? std::span<const T>(g, static_cast<size_t>(numel())) : std::span<const T>();
  }
  T item() const {
    if (numel() != 1) throw std::invalid_argument("item() on a tensor of shape " + shape().str());
    return node().value[0];
  }
  Tensor<T> tensor() const { return Tensor<T>(shape(), value()); }
  // The gradient as a tensor of this value's shape (zeros when nothing flowed into it).
  Tensor<T> grad_tensor() const {
    std::span<const T> g = grad();
    return g.empty() ? Tensor<T>(shape()) : Tensor<T>(shape(), g);
  }

 private:
  friend class Tape<T>;
  Var(Tape<T>* tape, int32_t index, uint32_t generation) : tape_(tape), index_(index), generation_(generation) {}
  const auto& node() const;

  Tape<T>* tape_ = nullptr;
  int32_t index_ = -1;
  uint32_t generation_ = 0;
};

template <Scalar T>
class Tape {
 public:
  struct Node {
    Shape shape;
    T* value;
    T* grad;                // null until a gradient flows in (or the bound parameter's buffer)
    bool requires_grad;
    bool owns_grad;         // grad lives in the arena (false: a parameter's own buffer)
    void (*backward)(void* closure, Tape& tape);  // null for leaves
    void* closure;
  };

  explicit Tape(size_t arena_bytes = size_t(1) << 20) : arena_(arena_bytes) { nodes_.reserve(256); }
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  // --- leaves -------------------------------------------------------------------------------
  // A copy of `value` on the tape; with requires_grad its gradient is kept for reading after
  // backward (inputs in attribution).
  Var<T> leaf(const Tensor<T>& value, bool requires_grad = false) { return leaf(value.shape(), value.data(), requires_grad); }
  Var<T> leaf(Shape shape, const T* values, bool requires_grad = false) {
    Var<T> v = make(shape, requires_grad);
    if (shape.numel() > 0) std::memcpy(write(v), values, sizeof(T) * static_cast<size_t>(shape.numel()));
    return v;
  }
  // Values used in place (no copy) as a constant: they must outlive the tape's use of them. LRP
  // reads a node's input and a rule's weights so, where copies onto the tape were 3% of its time.
  Var<T> constant(Shape shape, const T* values) {
    nodes_.push_back({shape, const_cast<T*>(values), nullptr, false, false, nullptr, nullptr});
    return handle(nodes_.size() - 1);
  }
  // A parameter used in place (no copy). With `grad` non-null, backward accumulates into it
  // (training); with null it is a constant (attribution needs no parameter gradients).
  Var<T> parameter(const Tensor<T>& value, Tensor<T>* grad) {
    if (grad && grad->shape() != value.shape()) throw std::invalid_argument("parameter: gradient shape differs from value shape");
    nodes_.push_back({value.shape(), const_cast<T*>(value.data()), grad ? grad->data() : nullptr, grad != nullptr, false, nullptr, nullptr});
    return handle(nodes_.size() - 1);
  }

  // --- for ops ------------------------------------------------------------------------------
  // A new node with uninitialised storage for its value.
  Var<T> make(Shape shape, bool requires_grad) {
    T* value = arena_.allocate_array<T>(static_cast<size_t>(shape.numel()));
    nodes_.push_back({shape, value, nullptr, requires_grad, true, nullptr, nullptr});
    return handle(nodes_.size() - 1);
  }
  // A new node that shares `of`'s values under another shape (reshape costs no copy).
  Var<T> alias(Var<T> of, Shape shape, bool requires_grad) {
    T* value = node(of).value;
    nodes_.push_back({shape, value, nullptr, requires_grad, true, nullptr, nullptr});
    return handle(nodes_.size() - 1);
  }
  T* write(Var<T> v) { return node(v).value; }
  // Scratch memory that lives until rewind (e.g. argmax indices kept for a backward).
  template <class U>
  U* scratch(size_t count) { return arena_.allocate_array<U>(count); }

  // Attach the backward closure of `out`. The closure is stored in the arena, so it must be
  // trivially destructible: capture Vars, shapes and numbers, never owning containers.
  template <class F>
  void on_backward(Var<T> out, F&& fn) {
    using Fn = std::decay_t<F>;
    static_assert(std::is_trivially_destructible_v<Fn>, "backward closures live in the arena: capture no owning types");
    void* memory = arena_.allocate(sizeof(Fn));
    Node& n = node(out);
    n.closure = new (memory) Fn(std::forward<F>(fn));
    n.backward = [](void* closure, Tape& tape) { (*static_cast<Fn*>(closure))(tape); };
  }

  // In a backward closure: the gradient flowing into `v` (null if none reached it).
  const T* grad(Var<T> v) { return node(v).grad; }
  // In a backward closure: where to accumulate the gradient of input `v`, or null when `v` needs
  // none (the op then skips that computation, like PyTorch's should_compute_output).
  T* grad_to(Var<T> v) {
    GradSlot slot = grad_slot(v);
    if (slot.fresh) std::memset(slot.data, 0, sizeof(T) * static_cast<size_t>(v.numel()));
    return slot.data;
  }
  // For ops that can write a whole gradient outright: when this is the first contribution to
  // `v`'s gradient (`fresh`), the memory is uninitialised and the op writes every element (=);
  // otherwise it adds (+=). Saves zeroing a buffer only to add to it once, which for the large
  // activations of a CNN costs as much as the op itself.
  struct GradSlot {
    T* data;  // null when `v` needs no gradient
    bool fresh;
  };
  GradSlot grad_slot(Var<T> v) {
    Node& n = node(v);
    if (!n.requires_grad) return {nullptr, false};
    if (n.grad) return {n.grad, false};
    n.grad = arena_.allocate_array<T>(static_cast<size_t>(n.shape.numel()));
    return {n.grad, true};
  }

  // --- backward -----------------------------------------------------------------------------
  // Reverse-mode sweep from a scalar root (seed 1).
  void backward(Var<T> root) {
    if (root.numel() != 1) throw std::invalid_argument("backward(root) needs a scalar root; got shape " + root.shape().str() + " (pass a seed)");
    T one = T(1);
    backward(root, std::span<const T>(&one, 1));
  }
  // Reverse-mode sweep seeded with d(something)/d(root) = seed, for a root of any shape.
  void backward(Var<T> root, std::span<const T> seed) {
    check(root);
    if (static_cast<int64_t>(seed.size()) != root.numel()) throw std::invalid_argument("backward: seed size does not match root shape " + root.shape().str());
    if (!root.requires_grad()) throw std::logic_error("backward: the root does not depend on anything that requires a gradient");
    // Gradients of intermediate values from an earlier sweep would be propagated twice; leaves
    // keep accumulating, as in PyTorch.
    for (Node& n : nodes_)
      if (n.backward && n.owns_grad) n.grad = nullptr;
    T* g = grad_to(root);
    for (size_t i = 0; i < seed.size(); ++i) g[i] += seed[i];
    for (auto i = static_cast<int64_t>(root.index()); i >= 0; --i) {
      Node& n = nodes_[static_cast<size_t>(i)];
      if (n.backward && n.grad) n.backward(n.closure, *this);
    }
  }

  // Drop every node, value and gradient; keep the memory for the next pass.
  void rewind() {
    nodes_.clear();
    arena_.rewind();
    ++generation_;
  }

  size_t size() const { return nodes_.size(); }
  const Arena& arena() const { return arena_; }

 private:
  friend class Var<T>;
  Var<T> handle(size_t index) { return Var<T>(this, static_cast<int32_t>(index), generation_); }
  void check(Var<T> v) const {
    if (v.tape_ != this) throw std::logic_error("Var belongs to another tape");
    if (v.generation_ != generation_) throw std::logic_error("Var used after its tape was rewound");
  }
  Node& node(Var<T> v) {
    check(v);
    return nodes_[static_cast<size_t>(v.index_)];
  }
  const Node& node(Var<T> v) const {
    check(v);
    return nodes_[static_cast<size_t>(v.index_)];
  }

  Arena arena_;
  std::vector<Node> nodes_;
  uint32_t generation_ = 0;
};

template <Scalar T>
const auto& Var<T>::node() const {
  if (!tape_) throw std::logic_error("use of an empty Var");
  return tape_->node(*this);
}

}  // namespace integrad::ad
