# %% [markdown]
# # Lab 5 — Clever Hans
#
# **Goals.** Train on `synthetic-watermark` ([docs/datasets.md](../../datasets.md)) — the object (a
# square or a plus) decides the class, and a corner watermark agrees with the label in the training
# split only — and watch the accuracy fall on the test split. Find the watermark with IG and
# relevance mass. Retrain without the shortcut and verify it with the same measurements.

# %%
import os, sys
build = os.environ.get("INTEGRAD_BUILD_DIR", os.path.join("..", "..", "build"))
if os.path.isdir(os.path.join(build, "python", "integrad")):
    sys.path.insert(0, os.path.join(build, "python"))
import numpy as np
import matplotlib.pyplot as plt
import integrad
import integrad.plot as iplot

x, y, objects = integrad.dataset("synthetic-watermark", split="train", limit=1500)
x_test, y_test, objects_test = integrad.dataset("synthetic-watermark", split="test", limit=300)
fig, axes = plt.subplots(1, 4, figsize=(8, 2))
for i, ax in enumerate(axes):
    ax.imshow(x[i, 0], cmap="gray"); ax.set_title(f"label {y[i]}"); ax.axis("off")
plt.show()

# %% [markdown]
# ## A model that learned the shortcut

# %%
model = integrad.train("mlp", x, y, epochs=3, seed=0)
accuracy = lambda m, xs, ys: float((m.predict(xs).argmax(1) == ys).mean())
print(f"train accuracy {accuracy(model, x, y):.3f}, test accuracy {accuracy(model, x_test, y_test):.3f}")

# %% [markdown]
# ## Where does it look?
# The watermark's mask is the pixels of value 1 (`dataset --shortcut-masks-out` writes it); the
# object's is the ground truth `dataset` returns. Relevance mass: the share of positive IG inside a
# mask.

# %%
watermark = (x_test == 1.0).astype(np.float32)
e = integrad.explain(model, x_test[:100], steps=32)
mass_watermark = integrad.evaluate(model, x_test[:100], e, metric="relevance-mass", mask=watermark[:100])["mean"]
mass_object = integrad.evaluate(model, x_test[:100], e, metric="relevance-mass", mask=objects_test[:100])["mean"]
print(f"relevance mass on the watermark {mass_watermark:.2f} (it covers {watermark[:100].mean():.1%} of the pixels), on the object {mass_object:.2f}")
fig, axes = plt.subplots(1, 3, figsize=(7, 2.4))
for i, ax in enumerate(axes):
    iplot.overlay(x_test[i], e.attributions[i], ax=ax, title=f"label {y_test[i]}")
plt.show()

# %% [markdown]
# ## Retrain without the shortcut
# Images whose watermark is random carry no shortcut: the test distribution. Train on its first
# 1,500 and evaluate on the next 300.

# %%
x_fair, y_fair, _ = integrad.dataset("synthetic-watermark", split="test", limit=1800)
fair = integrad.train("mlp", x_fair[:1500], y_fair[:1500], epochs=6, seed=0)
print(f"held-out accuracy {accuracy(fair, x_fair[1500:], y_fair[1500:]):.3f}")
e_fair = integrad.explain(fair, x_test[:100], steps=32)
fair_watermark = integrad.evaluate(fair, x_test[:100], e_fair, metric="relevance-mass", mask=watermark[:100])["mean"]
print(f"relevance mass on the watermark now {fair_watermark:.2f}")

# %% [markdown]
# ## Exercises
# **5.1** Store the first model's test accuracy as `shortcut_test_accuracy` and its relevance mass
# on the watermark as `shortcut_mass`. Is the mass larger than the watermark's share of the pixels
# (`watermark.mean()`) would give a map spread evenly? Store the ratio as `mass_ratio`.
#
# **5.2** The pointing game asks whether the largest attribution lies in a mask. Compute it on the
# watermark mask for both models (`metric="pointing-game"`) and store the two means as
# `pointing_shortcut` and `pointing_fair`.

# %%
shortcut_test_accuracy = None  # your answer
shortcut_mass = None           # your answer
mass_ratio = None              # your answer
pointing_shortcut = None       # your answer
pointing_fair = None           # your answer
