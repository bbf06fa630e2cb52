# %% [markdown]
# # Lab 4 — Is the map faithful?
#
# **Goals.** Put gradient, perturbation and attention-free maps of one CNN side by side ("different
# methods give different maps"), score them with deletion and insertion, and run the randomisation
# sanity check of Adebayo et al. (2018): a map that does not change when the weights are scrambled
# explains the image, not the model.

# %%
import os, sys
build = os.environ.get("INTEGRAD_BUILD_DIR", os.path.join("..", "..", "build"))
if os.path.isdir(os.path.join(build, "python", "integrad")):
    sys.path.insert(0, os.path.join(build, "python"))
import numpy as np
import matplotlib.pyplot as plt
import integrad
import integrad.plot as iplot

x, y, _ = integrad.dataset("synthetic-patches", split="train", limit=1000)
cnn = integrad.train("cnn", x, y, epochs=1, seed=0)
x_test, y_test, masks = integrad.dataset("synthetic-patches", limit=8)

# %% [markdown]
# ## Different methods, different maps

# %%
options = {"ig": {"steps": 32}, "occlusion": {"window": (1, 4, 4), "stride": (1, 4, 4)}, "smoothgrad": {"samples": 16, "stdev": 0.1}}
fig, maps = iplot.comparison(cnn, x_test[:4], ["ig", "saliency", "gradxinput", "smoothgrad", "guided_backprop", "occlusion"], options=options)
plt.show()

# %% [markdown]
# ## Deletion and insertion
# Remove (deletion) or restore (insertion) the most relevant pixels first; a faithful map makes the
# probability fall (rise) fast. Lower deletion and higher insertion areas are better.

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 3))
scores = {}
for m, a in maps.items():
    d = integrad.evaluate(cnn, x_test[:4], a, metric="deletion", steps=16)
    i = integrad.evaluate(cnn, x_test[:4], a, metric="insertion", steps=16)
    scores[m] = (d["mean"], i["mean"])
    axes[0].plot(np.linspace(0, 1, 17), d["curves"].mean(axis=0), label=m)
    axes[1].plot(np.linspace(0, 1, 17), i["curves"].mean(axis=0), label=m)
axes[0].set_title("deletion"); axes[1].set_title("insertion"); axes[1].legend(fontsize=7)
plt.show()
for m, (d, i) in scores.items():
    print(f"{m:>16}: deletion {d:.3f}  insertion {i:.3f}")

# %% [markdown]
# ## The randomisation sanity check
# Spearman rank correlation between the map of the trained model and the map of the same
# architecture with every layer re-initialised. Lower is better: the map depends on the weights.
# Compare the signed maps (`signed=True`) and their magnitudes: |IG| = |x ⊙ mean gradient| keeps
# the image's own pattern whatever the weights, which is the input, not the model, showing through.

# %%
for m in ["ig", "saliency", "gradxinput", "guided_backprop"]:
    signed = integrad.evaluate(cnn, x_test[:4], maps[m], metric="randomisation", method=m, signed=True)["mean"]
    magnitude = integrad.evaluate(cnn, x_test[:4], maps[m], metric="randomisation", method=m)["mean"]
    print(f"{m:>16}: rank correlation with the scrambled model's map, signed {signed:.2f}, |map| {magnitude:.2f}")

# %% [markdown]
# ## Exercises
# **4.1** Store the method with the lowest deletion area as `best_deletion`, and the relevance mass
# of its maps on the ground-truth patch (`mask=masks[:4]`) as `best_mass`.
#
# **4.2** Guided Backprop's signed maps survive randomisation better than IG's. Store both signed
# rank correlations as `rho_gbp` and `rho_ig`.

# %%
best_deletion = None  # your answer
best_mass = None      # your answer
rho_gbp = None        # your answer
rho_ig = None         # your answer
