# %% [markdown]
# # Lab 6 — A biased loan model
#
# **Goals.** `synthetic-loan` ([docs/datasets.md](../../datasets.md)) is a loan history biased against
# a protected attribute that is not a feature, through `zip_code`, which stands in for it. Train a
# model on the history, find the proxy with Shapley values and IG, and quantify how much of the
# model's decisions it carries.

# %%
import os, sys
build = os.environ.get("INTEGRAD_BUILD_DIR", os.path.join("..", "..", "build"))
if os.path.isdir(os.path.join(build, "python", "integrad")):
    sys.path.insert(0, os.path.join(build, "python"))
import numpy as np
import matplotlib.pyplot as plt
import integrad
import integrad.plot as iplot

names = next(d["feature_names"] for d in integrad.datasets() if d["name"] == "synthetic-loan")
x, y, fair_mask = integrad.dataset("synthetic-loan", split="train", limit=3000)
x_test, y_test, _ = integrad.dataset("synthetic-loan", split="test", limit=300)
# Standardise with the training statistics: raw incomes of ~55 and zip codes of 0..9 differ in scale.
mean, std = x.mean(axis=0), x.std(axis=0)
xs, xs_test = (x - mean) / std, (x_test - mean) / std
model = integrad.train("tabular", xs, y, epochs=20, lr=3e-3, seed=0)
print(names, "test accuracy", float((model.predict(xs_test).argmax(1) == y_test).mean()))

# %% [markdown]
# ## Shapley values and IG, from the average applicant
# The baseline is the training mean (0 after standardising): each value says how much a feature
# moves the approval logit away from the average applicant's.

# %%
shap = integrad.explain(model, xs_test[:200], method="shapley", target=1).attributions
ig = integrad.explain(model, xs_test[:200], method="ig", target=1).attributions
fig, axes = plt.subplots(1, 2, figsize=(11, 3))
iplot.beeswarm(shap, x_test[:200], names, ax=axes[0], title="exact Shapley values")
iplot.beeswarm(ig, x_test[:200], names, ax=axes[1], title="Integrated Gradients")
plt.tight_layout(); plt.show()
share = np.abs(shap).mean(axis=0) / np.abs(shap).sum(axis=1).mean()
print(dict(zip(names, np.round(share, 3))))

# %% [markdown]
# ## Quantify the proxy
# Change only the zip code — region 7 (mostly g = 0) to region 2 (mostly g = 1) — and count the
# decisions that flip.

# %%
moved = x_test.copy()
moved[:, names.index("zip_code")] = 2
stay = x_test.copy()
stay[:, names.index("zip_code")] = 7
approve = lambda v: model.predict((v - mean) / std).argmax(1)
print(f"approved in region 7: {approve(stay).mean():.2f}, in region 2: {approve(moved).mean():.2f}")

# %% [markdown]
# ## Exercises
# **6.1** Store the share of mean |Shapley value| carried by `zip_code` as `zip_share`, and by the
# three features that play no part (age, years_employed, open_accounts) together as `noise_share`.
#
# **6.2** Retrain without the zip code (drop the column) and store the fraction of test applicants
# whose decision changes when only their zip code moves from 7 to 2 — for the new model — as
# `flips_without_zip`.

# %%
zip_share = None          # your answer
noise_share = None        # your answer
flips_without_zip = None  # your answer
