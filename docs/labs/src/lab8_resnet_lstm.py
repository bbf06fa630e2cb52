# %% [markdown]
# # Lab 8 — ResNets and LSTMs: Grad-CAM and LRP beside IG
#
# **Goals.** Explain the models people actually bring: a residual network with BatchNorm and an
# LSTM text classifier. On the ResNet, put Grad-CAM (a layer's map, upsampled), LRP (relevance
# passed back by rules, BatchNorm merged into the convolution before it) and Guided Grad-CAM beside
# IG; measure where each looks against the ground-truth masks of `synthetic-patches`; and check
# implementation invariance against the same network with its BatchNorms folded away. On the LSTM,
# find the two decisive tokens with layer IG at the embedding.

# %%
import os, sys
build = os.environ.get("INTEGRAD_BUILD_DIR", os.path.join("..", "..", "build"))
if os.path.isdir(os.path.join(build, "python", "integrad")):
    sys.path.insert(0, os.path.join(build, "python"))
import numpy as np
import matplotlib.pyplot as plt
import integrad
import integrad.plot as iplot

x, y, _ = integrad.dataset("synthetic-patches", split="train", limit=2000)
resnet = integrad.train("resnet", x, y, epochs=1, seed=0)
images, labels, masks = integrad.dataset("synthetic-patches", limit=16)
print("test accuracy", float((resnet.predict(images).argmax(1) == labels).mean()))
print([layer["name"] for layer in resnet.info()["layers"]][:8], "...")  # the names `layer=` takes

# %% [markdown]
# ## Four maps of one network
# Grad-CAM reads a layer (here the output of the second residual block, 14x14, upsampled to the
# image); LRP starts from the target's logit and redistributes it layer by layer; IG integrates
# gradients from the black image.

# %%
options = {"gradcam": {"layer": "layer2.0.relu2"}, "guided-gradcam": {"layer": "layer2.0.relu2"},
           "lrp": {"composite": "epsilon-plus-flat"}}
fig, maps = iplot.comparison(resnet, images[:6], methods=("ig", "gradcam", "guided-gradcam", "lrp"), options=options)
plt.show()

# %% [markdown]
# ## Where do they look?
# Relevance mass: the share of a map's positive part that falls on the patch that decides the
# label (the ground-truth mask).

# %%
def relevance_mass(a, m):
    a = np.clip(np.asarray(a, dtype=np.float64).reshape(len(a), -1), 0, None)
    m = np.asarray(m, dtype=np.float64).reshape(len(m), -1)
    return float(((a * m).sum(1) / np.maximum(a.sum(1), 1e-12)).mean())

all_maps = {m: integrad.explain(resnet, images, method=m, **options.get(m, {})).attributions
            for m in ("ig", "gradcam", "guided-gradcam", "lrp")}
for m, a in all_maps.items():
    print(f"{m:>15}: relevance mass {relevance_mass(a, masks):.2f}")
print("share of pixels in the masks:", float(np.asarray(masks).mean()))

# %% [markdown]
# ## Implementation invariance, with a real rewrite
# Folding each BatchNorm into the convolution before it gives the same function with other
# weights. IG depends on the function alone, so it passes. LRP passes too, but for another reason:
# it merges each BatchNorm into its convolution itself before its rules apply (as Zennit's
# canonizer does), so this rewrite changes nothing it sees. Its rules do read the weights: in the
# report's matrix of the CNN, LRP-α2β1 tells that model's twins (a channel scaled by c, the next
# layer by 1/c) apart.

# %%
matrix = integrad.axioms(resnet, images[:1], methods=["ig_gausslegendre", "lrp_epsilon-plus-flat", "lrp_epsilon"], steps=32)
for row, cells in matrix.items():
    c = cells["implementation_invariance"]
    print(f"{row:>28}: {'pass' if c['passed'] else 'FAIL'}  max |A - A_twin| / max |A| = {c['figure']:.2g}")

# %% [markdown]
# ## An LSTM reads the order of two markers
# `synthetic-order`: the label says whether the A marker comes before the B marker, which a bag of
# embeddings cannot tell. Layer IG at the embedding (`layer=0`) from padding tokens gives each
# token a score; the markers should carry it.

# %%
t, ty, _ = integrad.dataset("synthetic-order", split="train", limit=3000)
lstm = integrad.train("lstm", t, ty, epochs=1, lr=3e-3, seed=0)
seqs, seq_labels, markers = integrad.dataset("synthetic-order", limit=50)
print("LSTM test accuracy", float((lstm.predict(seqs).argmax(1) == seq_labels).mean()))
token_scores = integrad.explain(lstm, seqs, layer=0, baseline=0).token_values
fig, ax = plt.subplots(figsize=(9, 1))
iplot.tokens(seqs[0], token_scores[0], ax=ax)
plt.show()

# %% [markdown]
# ## Exercises
# **8.1** Store the relevance mass of Grad-CAM and of IG as `mass_gradcam` and `mass_ig`. Which is
# sharper on these 28x28 images, and why does Grad-CAM's upsampled 14x14 map spill over the patch?
#
# **8.2** Store the LSTM's pointing game (the share of sequences whose top-scoring token is a
# marker) as `pointing_lstm`.

# %%
mass_gradcam = None  # your answer
mass_ig = None       # your answer
pointing_lstm = None # your answer
