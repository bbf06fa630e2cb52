# %% [markdown]
# # Lab 3 — IG vs SHAP vs LIME
#
# **Goals.** Explain the same predictions with Integrated Gradients, exact Shapley values,
# KernelSHAP and LIME, on a real data set (`breast-cancer`, scikit-learn's copy from Debian) and on
# one whose ground truth is known (`synthetic-tabular`): where they agree (a linear model) and where
# they part (interactions).

# %%
import os, sys
build = os.environ.get("INTEGRAD_BUILD_DIR", os.path.join("..", "..", "build"))
if os.path.isdir(os.path.join(build, "python", "integrad")):
    sys.path.insert(0, os.path.join(build, "python"))
import numpy as np
import matplotlib.pyplot as plt
import integrad
import integrad.plot as iplot

METHODS = {"ig": {}, "shapley-sampling": {"samples": 50}, "kernelshap": {"samples": 2048}, "lime": {"samples": 2048}}

def attributions(model, x, target):
    return {m: integrad.explain(model, x, method=m, target=target, **o).attributions for m, o in METHODS.items()}

def agreement(maps):
    """Mean Pearson correlation of each method's map with IG's, per example."""
    ref = maps["ig"]
    return {m: float(np.mean([np.corrcoef(ref[i], a[i])[0, 1] for i in range(len(a))])) for m, a in maps.items() if m != "ig"}

# %% [markdown]
# ## synthetic-tabular: a linear model first
# For F(x) = w·x + b, IG and Shapley values from a zero baseline are both w_i·x_i: the methods
# must agree up to their sampling noise.

# %%
names = next(d["feature_names"] for d in integrad.datasets() if d["name"] == "synthetic-tabular")
x, y, _ = integrad.dataset("synthetic-tabular", split="train", limit=2000)
x_test = integrad.dataset("synthetic-tabular", limit=50)[0]
linear = integrad.train("Linear(7, 2)", x, y, epochs=5, lr=1e-2, seed=0)
print("linear model, agreement with IG:", agreement(attributions(linear, x_test, 1)))

# %% [markdown]
# ## ... then an MLP
# The label has an interaction, 1.5·d·e. IG and Shapley values share it between d and e in
# different ways, and LIME's local linear fit only sees its slope.

# %%
mlp = integrad.train("tabular", x, y, epochs=30, seed=0)
maps = attributions(mlp, x_test, 1)
print("MLP, agreement with IG:", agreement(maps))
fig, axes = plt.subplots(1, 4, figsize=(16, 3))
for ax, (m, a) in zip(axes, maps.items()):
    iplot.beeswarm(a, x_test, names, ax=ax, title=m)
plt.tight_layout(); plt.show()

# %% [markdown]
# ## breast-cancer: a real data set
# 30 features of very different scales (`mean_area` ~650, `mean_smoothness` ~0.1): standardise
# with the training statistics first, so the zero baseline is the average patient.

# %%
bc_names = next(d["feature_names"] for d in integrad.datasets() if d["name"] == "breast-cancer")
xb, yb, _ = integrad.dataset("breast-cancer", split="train")
xb_test, yb_test, _ = integrad.dataset("breast-cancer", split="test")
mean, std = xb.mean(axis=0), xb.std(axis=0)
bc = integrad.train("tabular", (xb - mean) / std, yb, epochs=40, seed=0)
zt = (xb_test - mean) / std
print("test accuracy", float((bc.predict(zt).argmax(1) == yb_test).mean()))
bc_maps = {m: integrad.explain(bc, zt[:40], method=m, target=1, **o).attributions
           for m, o in {"ig": {}, "kernelshap": {"samples": 2048}, "lime": {"samples": 2048}}.items()}
top = {m: [bc_names[j] for j in np.argsort(-np.abs(a).mean(axis=0))[:5]] for m, a in bc_maps.items()}
for m, t in top.items():
    print(f"{m:>10}: {', '.join(t)}")

# %% [markdown]
# ## Exercises
# **3.1** On the linear model, store the largest |IG − exact Shapley| over `x_test` as
# `linear_gap` (`method="shapley"` is exact for 7 features). Why is it (nearly) zero?
#
# **3.2** On the MLP, which method gives the `dummy` feature the largest mean |attribution|?
# Store its name as `noisiest_on_dummy`.

# %%
linear_gap = None         # your answer
noisiest_on_dummy = None  # your answer
