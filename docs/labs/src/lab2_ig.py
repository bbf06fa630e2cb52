# %% [markdown]
# # Lab 2 — Integrated Gradients from scratch, and the axioms
#
# **Goals.** Write IG in ten lines on top of the gradient, reproduce the paper's examples
# (Sundararajan, Taly and Yan 2017), see what the baseline means (a black image, a blurred image,
# padding tokens), and measure completeness and convergence.

# %%
import os, sys
build = os.environ.get("INTEGRAD_BUILD_DIR", os.path.join("..", "..", "build"))
if os.path.isdir(os.path.join(build, "python", "integrad")):
    sys.path.insert(0, os.path.join(build, "python"))
import numpy as np
import matplotlib.pyplot as plt
import integrad
import integrad.plot as iplot

# %% [markdown]
# ## IG by hand
# IG_i(x) = (x_i − x′_i) · ∫₀¹ ∂F/∂x_i(x′ + α(x − x′)) dα, here with the midpoint rule.

# %%
def my_ig(model, x, baseline, target, steps=64):
    alphas = (np.arange(steps) + 0.5) / steps
    total = np.zeros_like(x)
    for a in alphas:
        total += integrad.explain(model, baseline + a * (x - baseline), method="gradient", target=target).attributions
    return (x - baseline) * total / steps

# The paper's Appendix-B function f(x) = ReLU(ReLU(x1) − 1 − ReLU(x2)) at x = (3, 1).
f = integrad.Model.from_torch({"0.weight": np.eye(2), "0.bias": np.zeros(2), "2.weight": np.array([[1.0, -1.0]]), "2.bias": np.array([-1.0])},
                              "Linear(2, 2); ReLU(); Linear(2, 1); ReLU()", [2], input_dtype="float64", dtype="float64")
x = np.array([[3.0, 1.0]])
mine = my_ig(f, x, np.zeros_like(x), 0)
theirs, delta = integrad.explain(f, x, method="ig", target=0, steps=64)
print("by hand:", mine.ravel(), " integrad:", theirs.ravel(), " delta:", delta)
np.testing.assert_allclose(theirs, [[1.5, -0.5]], atol=1e-2)

# %% [markdown]
# ## Completeness and convergence
# Σ IG = F(x) − F(x′) in the limit. The convergence delta says how far a quadrature rule is from
# it; Gauss–Legendre gets there in far fewer steps than a Riemann sum.

# %%
x_img, y_img, _ = integrad.dataset("synthetic-patches", split="train", limit=600)
cnn = integrad.train("cnn", x_img, y_img, epochs=1, seed=0)
probe = integrad.dataset("synthetic-patches", limit=2)[0]
steps = [4, 8, 16, 32, 64]
fig, ax = plt.subplots(figsize=(5, 3))
for rule in ["gausslegendre", "riemann_left", "riemann_middle"]:
    deltas = [np.abs(integrad.explain(cnn, probe, steps=s, quadrature=rule).delta).max() for s in steps]
    ax.loglog(steps, deltas, marker="o", label=rule)
ax.set_xlabel("steps"); ax.set_ylabel("max |delta|"); ax.legend()
plt.show()

# %% [markdown]
# ## Baselines
# The baseline is the "absence" IG measures against. A black image says "no light"; a blurred copy
# says "no edges"; for a text model the padding token says "no word".

# %%
def box_blur(img, k=5):
    pad = np.pad(img, ((0, 0), (0, 0), (k // 2, k // 2), (k // 2, k // 2)), mode="edge")
    out = np.zeros_like(img)
    for i in range(k):
        for j in range(k):
            out += pad[:, :, i:i + img.shape[2], j:j + img.shape[3]]
    return out / (k * k)

black = integrad.explain(cnn, probe[:1], steps=32).attributions
blurred = integrad.explain(cnn, probe[:1], steps=32, baseline=box_blur(probe[:1])).attributions
fig, axes = plt.subplots(1, 3, figsize=(8, 2.6))
axes[0].imshow(probe[0, 0], cmap="gray"); axes[0].set_title("input")
iplot.heatmap(black[0], ax=axes[1], title="baseline: black", colorbar=False)
iplot.heatmap(blurred[0], ax=axes[2], title="baseline: blurred", colorbar=False)
plt.show()

# %%
tokens, labels, _ = integrad.dataset("synthetic-tokens", split="train", limit=1000)
text = integrad.train("text", tokens, labels, epochs=5, lr=0.01, seed=0)
seq = integrad.dataset("synthetic-tokens", limit=1)[0]
e = integrad.explain(text, seq, layer=0, baseline=0)   # IG on the embedding, from padding tokens
iplot.tokens(seq[0], e.token_values[0], title="per-token IG (ids 1, 2 positive; 3, 4 negative markers)")
plt.show()

# %% [markdown]
# ## Exercises
# **2.1** With the midpoint rule of `my_ig`, how many steps does the CNN need before the largest
# |delta| of `probe` falls below 1e-3? Store the smallest power of two that does as `steps_needed`.
#
# **2.2** The axiom checks: run `integrad.axioms(f, x, twins=...)` with the paper's g(x) =
# ReLU(ReLU(x1 − 1) − ReLU(x2)) as a twin, and store the names of the methods that fail
# implementation invariance as the set `not_invariant`.

# %%
steps_needed = None   # your answer
not_invariant = None  # your answer
