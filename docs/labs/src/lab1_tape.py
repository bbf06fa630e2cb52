# %% [markdown]
# # Lab 1 — The tape
#
# **Goals.** Run reverse-mode automatic differentiation by hand on a two-layer network: record the
# forward pass, walk it backwards, and check the result three ways — against integrad's gradient,
# against finite differences (the gradcheck integrad's own tests run on every op), and against
# what a ReLU that is switched off must give.
#
# integrad's engine (`autodiff/tape.h`) does what you do here: each op pushes a small backward
# closure onto a tape, and `backward()` runs them in reverse order ([docs/engine.md](../engine.md)).

# %%
import os, sys
build = os.environ.get("INTEGRAD_BUILD_DIR", os.path.join("..", "..", "build"))
if os.path.isdir(os.path.join(build, "python", "integrad")):
    sys.path.insert(0, os.path.join(build, "python"))  # not needed after `pip install .`
import numpy as np
import matplotlib.pyplot as plt
import integrad

# %% [markdown]
# ## A two-layer network, F(x) = W2 · relu(W1 x + b1) + b2

# %%
rng = np.random.default_rng(3)
W1, b1 = rng.normal(size=(3, 2)), rng.normal(size=3)
W2, b2 = rng.normal(size=(1, 3)), rng.normal(size=1)
x = np.array([[0.5, -1.0]])

# The forward pass, keeping what the backward needs (the tape).
z1 = x @ W1.T + b1
h = np.maximum(z1, 0)
y = h @ W2.T + b2

# The backward pass: the same ops in reverse, each turning dF/d(output) into dF/d(inputs).
dy = np.ones_like(y)        # dF/dy = 1
dh = dy @ W2                # y = h W2ᵀ + b2
dz1 = dh * (z1 > 0)         # relu'(z) = 1 where z > 0 (PyTorch's convention: 0 at 0)
dx = dz1 @ W1               # z1 = x W1ᵀ + b1
print("F(x) =", y.ravel(), " dF/dx by hand =", dx.ravel())

# %% [markdown]
# ## The same network in integrad
# `Model.from_torch` takes a PyTorch-style state dict (`"0.weight"` is layer 0's weight).

# %%
model = integrad.Model.from_torch({"0.weight": W1, "0.bias": b1, "2.weight": W2, "2.bias": b2},
                                  "Linear(2, 3); ReLU(); Linear(3, 1)", [2], input_dtype="float64", dtype="float64")
grad = integrad.explain(model, x, method="gradient", target=0).attributions
print("integrad:", grad.ravel())
np.testing.assert_allclose(grad, dx, rtol=1e-12)

# %% [markdown]
# ## Gradcheck: central differences in float64
# PyTorch's `gradcheck` rule, which integrad's tests apply to every op: |analytic − numeric| ≤
# 1e-5 + 1e-3·|numeric|, with numeric = (F(x + ε) − F(x − ε)) / 2ε, ε = 1e-6.

# %%
def numeric_gradient(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        g[i] = (f(up) - f(down)).sum() / (2 * eps)
    return g

numeric = numeric_gradient(lambda v: model.predict(v), x)
print("numeric:", numeric.ravel())
assert np.all(np.abs(grad - numeric) <= 1e-5 + 1e-3 * np.abs(numeric))

# %% [markdown]
# ## Where the gradient says nothing
# Move x so that every hidden unit is off: the gradient is 0, although F still depends on x a
# step away. Integrated Gradients (lab 2) exists because of this.

# %%
xs = np.linspace(-3, 3, 121)
values = model.predict(np.stack([xs, np.full_like(xs, -1.0)], axis=1)).ravel()
slopes = integrad.explain(model, np.stack([xs, np.full_like(xs, -1.0)], axis=1), method="gradient", target=0).attributions[:, 0]
fig, ax = plt.subplots(figsize=(5, 2.5))
ax.plot(xs, values, label="F(x₀, −1)")
ax.plot(xs, slopes, label="dF/dx₀")
ax.legend(); ax.set_xlabel("x₀")
plt.show()

# %% [markdown]
# ## Exercises
# **1.1** Compute dF/dW2 and dF/db1 by hand from the tape above (shapes (1, 3) and (3,)), and store
# them as `dW2` and `db1`. The solutions notebook checks them against finite differences of
# `model.predict` with perturbed weights.
#
# **1.2** Find an input x (shape (1, 2)) at which integrad's gradient is exactly zero, and store it
# as `x_flat`. What is F there, and why?

# %%
dW2 = None   # your answer
db1 = None   # your answer
x_flat = None  # your answer
