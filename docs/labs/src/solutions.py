# %% [markdown]
# # Solutions to the labs' exercises
#
# Each section recomputes what its lab's exercise needs, gives an answer, and checks it the way a
# grader would. CI runs this notebook top to bottom, so an answer that stops being right fails the
# build.

# %%
import os, sys
build = os.environ.get("INTEGRAD_BUILD_DIR", os.path.join("..", "..", "build"))
if os.path.isdir(os.path.join(build, "python", "integrad")):
    sys.path.insert(0, os.path.join(build, "python"))
import numpy as np
import integrad

# %% [markdown]
# ## Lab 1
# **1.1** dF/dW2 = hᵀ (the hidden activations), dF/db1 = W2 ⊙ relu'(z1).

# %%
rng = np.random.default_rng(3)
W1, b1 = rng.normal(size=(3, 2)), rng.normal(size=3)
W2, b2 = rng.normal(size=(1, 3)), rng.normal(size=1)
x = np.array([[0.5, -1.0]])
z1 = x @ W1.T + b1
h = np.maximum(z1, 0)
dW2 = h                                  # (1, 3)
db1 = (W2 * (z1 > 0)).ravel()            # (3,)

def F(W1_, b1_, W2_, b2_, x_=x):
    m = integrad.Model.from_torch({"0.weight": W1_, "0.bias": b1_, "2.weight": W2_, "2.bias": b2_},
                                  "Linear(2, 3); ReLU(); Linear(3, 1)", [2], input_dtype="float64", dtype="float64")
    return float(m.predict(x_).ravel()[0])

eps = 1e-6
for k in range(3):
    up, down = W2.copy(), W2.copy(); up[0, k] += eps; down[0, k] -= eps
    assert abs((F(W1, b1, up, b2) - F(W1, b1, down, b2)) / (2 * eps) - dW2[0, k]) < 1e-6
    up, down = b1.copy(), b1.copy(); up[k] += eps; down[k] -= eps
    assert abs((F(W1, up, W2, b2) - F(W1, down, W2, b2)) / (2 * eps) - db1[k]) < 1e-6
print("1.1 checked:", dW2.ravel(), db1)

# %% [markdown]
# **1.2** Every hidden unit off: W1 x + b1 < 0 for all three rows. Then F(x) = b2, whatever x is
# in that region: the gradient is 0 because the function is flat there.

# %%
model = integrad.Model.from_torch({"0.weight": W1, "0.bias": b1, "2.weight": W2, "2.bias": b2},
                                  "Linear(2, 3); ReLU(); Linear(3, 1)", [2], input_dtype="float64", dtype="float64")
grid = np.array([[a, b] for a in np.linspace(-10, 10, 81) for b in np.linspace(-10, 10, 81)])
off = np.all(grid @ W1.T + b1 < 0, axis=1)
assert off.any(), "no x on the grid switches every unit off"
x_flat = grid[off][:1]
g = integrad.explain(model, x_flat, method="gradient", target=0).attributions
assert np.all(g == 0) and np.allclose(model.predict(x_flat).ravel(), b2)
print("1.2: gradient zero at", x_flat.ravel(), "where F =", model.predict(x_flat).ravel(), "= b2: every ReLU is off")

# %% [markdown]
# ## Lab 2
# **2.1** The midpoint rule's error falls as 1/steps²; on the CNN of the lab it needs tens of steps.

# %%
x_img, y_img, _ = integrad.dataset("synthetic-patches", split="train", limit=600)
cnn = integrad.train("cnn", x_img, y_img, epochs=1, seed=0)
probe = integrad.dataset("synthetic-patches", limit=2)[0]
steps_needed = next(s for s in [2 ** k for k in range(1, 12)]
                    if np.abs(integrad.explain(cnn, probe, steps=s, quadrature="riemann_middle").delta).max() < 1e-3)
print("2.1 steps needed:", steps_needed)
assert 4 <= steps_needed <= 1024

# %% [markdown]
# **2.2** The paper's f and its twin g compute the same function; DeepLift tells them apart.

# %%
f = integrad.Model.from_torch({"0.weight": np.eye(2), "0.bias": np.zeros(2), "2.weight": np.array([[1.0, -1.0]]), "2.bias": np.array([-1.0])},
                              "Linear(2, 2); ReLU(); Linear(2, 1); ReLU()", [2], input_dtype="float64", dtype="float64")
g = integrad.Model.from_torch({"0.weight": np.eye(2), "0.bias": np.array([-1.0, 0.0]), "2.weight": np.array([[1.0, -1.0]]), "2.bias": np.zeros(1)},
                              "Linear(2, 2); ReLU(); Linear(2, 1); ReLU()", [2], input_dtype="float64", dtype="float64")
matrix = integrad.axioms(f, np.array([[3.0, 1.0]]), twins={"g": g})
not_invariant = {m for m, checks in matrix.items() if checks["implementation_invariance"]["applicable"] and not checks["implementation_invariance"]["passed"]}
print("2.2 not invariant:", not_invariant)
assert "deeplift" in not_invariant and not any(m.startswith("ig_") for m in not_invariant)

# %% [markdown]
# ## Lab 5

# %%
x, y, objects = integrad.dataset("synthetic-watermark", split="train", limit=1500)
x_test, y_test, objects_test = integrad.dataset("synthetic-watermark", split="test", limit=300)
model = integrad.train("mlp", x, y, epochs=3, seed=0)
accuracy = lambda m, xs, ys: float((m.predict(xs).argmax(1) == ys).mean())
watermark = (x_test[:100] == 1.0).astype(np.float32)
e = integrad.explain(model, x_test[:100], steps=32)
shortcut_test_accuracy = accuracy(model, x_test, y_test)
shortcut_mass = integrad.evaluate(model, x_test[:100], e, metric="relevance-mass", mask=watermark)["mean"]
mass_ratio = shortcut_mass / watermark.mean()
print(f"5.1 test accuracy {shortcut_test_accuracy:.3f}, mass on the watermark {shortcut_mass:.2f}, {mass_ratio:.1f}x its share of pixels")
assert accuracy(model, x, y) > 0.95 and shortcut_test_accuracy < 0.75 and mass_ratio > 3

x_fair, y_fair, _ = integrad.dataset("synthetic-watermark", split="test", limit=1800)
fair = integrad.train("mlp", x_fair[:1500], y_fair[:1500], epochs=6, seed=0)
e_fair = integrad.explain(fair, x_test[:100], steps=32)
pointing_shortcut = integrad.evaluate(model, x_test[:100], e, metric="pointing-game", mask=watermark)["mean"]
pointing_fair = integrad.evaluate(fair, x_test[:100], e_fair, metric="pointing-game", mask=watermark)["mean"]
print(f"5.2 pointing game on the watermark: shortcut model {pointing_shortcut:.2f}, fair model {pointing_fair:.2f}")
assert pointing_shortcut > pointing_fair

# %% [markdown]
# ## Lab 3
# **3.1** For a linear model from a zero baseline, IG_i = Shapley_i = w_i·x_i: both are exact
# (IG's path integral of a constant gradient; Shapley's marginal contributions are all w_i·x_i).

# %%
x, y, _ = integrad.dataset("synthetic-tabular", split="train", limit=2000)
x_test = integrad.dataset("synthetic-tabular", limit=50)[0]
linear = integrad.train("Linear(7, 2)", x, y, epochs=5, lr=1e-2, seed=0)
ig = integrad.explain(linear, x_test, method="ig", target=1).attributions
exact = integrad.explain(linear, x_test, method="shapley", target=1).attributions
linear_gap = float(np.abs(ig - exact).max())
print("3.1 largest |IG - Shapley| on the linear model:", linear_gap)
assert linear_gap < 1e-4

# %% [markdown]
# **3.2** The sampling methods put noise on the dummy; IG gives it what the model's weights give it.

# %%
names = next(d["feature_names"] for d in integrad.datasets() if d["name"] == "synthetic-tabular")
mlp = integrad.train("tabular", x, y, epochs=30, seed=0)
on_dummy = {m: float(np.abs(integrad.explain(mlp, x_test, method=m, target=1, **o).attributions[:, names.index("dummy")]).mean())
            for m, o in {"ig": {}, "shapley-sampling": {"samples": 50}, "kernelshap": {"samples": 2048}, "lime": {"samples": 2048}}.items()}
noisiest_on_dummy = max(on_dummy, key=on_dummy.get)
print("3.2 mean |attribution| of the dummy:", on_dummy, "->", noisiest_on_dummy)
assert noisiest_on_dummy in on_dummy

# %% [markdown]
# ## Lab 4

# %%
x, y, _ = integrad.dataset("synthetic-patches", split="train", limit=1000)
cnn = integrad.train("cnn", x, y, epochs=1, seed=0)
x_test, y_test, masks = integrad.dataset("synthetic-patches", limit=8)
options = {"ig": {"steps": 32}, "occlusion": {"window": (1, 4, 4), "stride": (1, 4, 4)}, "smoothgrad": {"samples": 16, "stdev": 0.1}}
maps = {m: integrad.explain(cnn, x_test[:4], method=m, **options.get(m, {})).attributions
        for m in ["ig", "saliency", "gradxinput", "smoothgrad", "guided_backprop", "occlusion"]}
deletion = {m: integrad.evaluate(cnn, x_test[:4], a, metric="deletion", steps=16)["mean"] for m, a in maps.items()}
best_deletion = min(deletion, key=deletion.get)
best_mass = integrad.evaluate(cnn, x_test[:4], maps[best_deletion], metric="relevance-mass", mask=masks[:4])["mean"]
print("4.1 lowest deletion:", best_deletion, f"{deletion[best_deletion]:.3f}, relevance mass on the patch {best_mass:.2f}")
assert 0 <= best_mass <= 1
rho_gbp = integrad.evaluate(cnn, x_test[:4], maps["guided_backprop"], metric="randomisation", method="guided_backprop", signed=True)["mean"]
rho_ig = integrad.evaluate(cnn, x_test[:4], maps["ig"], metric="randomisation", method="ig", signed=True)["mean"]
print(f"4.2 rank correlation with the scrambled model: guided backprop {rho_gbp:.2f}, IG {rho_ig:.2f}")
assert rho_gbp > rho_ig + 0.2  # Adebayo et al.'s finding: Guided Backprop barely notices the weights

# %% [markdown]
# ## Lab 6

# %%
names = next(d["feature_names"] for d in integrad.datasets() if d["name"] == "synthetic-loan")
x, y, _ = integrad.dataset("synthetic-loan", split="train", limit=3000)
x_test, y_test, _ = integrad.dataset("synthetic-loan", split="test", limit=300)
mean, std = x.mean(axis=0), x.std(axis=0)
model = integrad.train("tabular", (x - mean) / std, y, epochs=20, lr=3e-3, seed=0)
shap = integrad.explain(model, (x_test[:200] - mean) / std, method="shapley", target=1).attributions
share = np.abs(shap).mean(axis=0) / np.abs(shap).sum(axis=1).mean()
zip_share = float(share[names.index("zip_code")])
noise_share = float(sum(share[names.index(n)] for n in ("age", "years_employed", "open_accounts")))
print(f"6.1 zip_code carries {zip_share:.2f} of the mean |Shapley value|, the three bystanders {noise_share:.2f}")
assert zip_share > 0.1 and zip_share > noise_share  # more than the three bystanders together

keep = [i for i, n in enumerate(names) if n != "zip_code"]
fair = integrad.train("tabular", ((x - mean) / std)[:, keep], y, epochs=20, lr=3e-3, seed=0)
def decisions(m, v, z):
    v = v.copy(); v[:, names.index("zip_code")] = z
    return m.predict(((v - mean) / std)[:, keep]).argmax(1)
flips_without_zip = float((decisions(fair, x_test, 7) != decisions(fair, x_test, 2)).mean())
print("6.2 decisions that flip with the zip code, model without it:", flips_without_zip)
assert flips_without_zip == 0.0

# %% [markdown]
# ## Lab 7

# %%
x, y, _ = integrad.dataset("synthetic-order", split="train", limit=3000)
model = integrad.train("transformer", x, y, epochs=3, lr=3e-3, seed=0)
seqs, labels, markers = integrad.dataset("synthetic-order", limit=50)
attention = integrad.explain(model, seqs, method="attention").attributions
ig = integrad.explain(model, seqs, layer=0, baseline=0).token_values
pointing_attention = float(markers[np.arange(50), attention.argmax(axis=1)].mean())
pointing_ig = float(markers[np.arange(50), ig.argmax(axis=1)].mean())
attention_favourite = int(np.bincount(attention.argmax(axis=1)).argmax())
print(f"7.1 pointing game: attention {pointing_attention:.2f}, IG {pointing_ig:.2f}; 7.2 attention's favourite position {attention_favourite}")
assert 0 <= pointing_attention <= 1 and 0 <= pointing_ig <= 1

# %% [markdown]
# ## Lab 8

# %%
x, y, _ = integrad.dataset("synthetic-patches", split="train", limit=2000)
resnet = integrad.train("resnet", x, y, epochs=1, seed=0)
images, labels, masks = integrad.dataset("synthetic-patches", limit=16)
def relevance_mass(a, m):
    a = np.clip(np.asarray(a, dtype=np.float64).reshape(len(a), -1), 0, None)
    m = np.asarray(m, dtype=np.float64).reshape(len(m), -1)
    return float(((a * m).sum(1) / np.maximum(a.sum(1), 1e-12)).mean())
mass_gradcam = relevance_mass(integrad.explain(resnet, images, method="gradcam", layer="layer2.0.relu2").attributions, masks)
mass_ig = relevance_mass(integrad.explain(resnet, images).attributions, masks)
t, ty, _ = integrad.dataset("synthetic-order", split="train", limit=3000)
lstm = integrad.train("lstm", t, ty, epochs=1, lr=3e-3, seed=0)
seqs, seq_labels, markers = integrad.dataset("synthetic-order", limit=50)
token_scores = integrad.explain(lstm, seqs, layer=0, baseline=0).token_values
pointing_lstm = float(markers[np.arange(50), token_scores.argmax(axis=1)].mean())
print(f"8.1 relevance mass: Grad-CAM {mass_gradcam:.2f}, IG {mass_ig:.2f}; 8.2 the LSTM's pointing game {pointing_lstm:.2f}")
assert 0 <= mass_gradcam <= 1 and 0 <= mass_ig <= 1
assert pointing_lstm >= 0.5  # the markers decide, and layer IG finds them
