# %% [markdown]
# # Lab 7 — Attention is not explanation
#
# **Goals.** On a transformer trained on `synthetic-order` (is the A marker before the B marker?),
# compare raw attention, attention rollout and attention × gradient with layer IG on the
# embedding, measured on the decisive tokens: the two markers.

# %%
import os, sys
build = os.environ.get("INTEGRAD_BUILD_DIR", os.path.join("..", "..", "build"))
if os.path.isdir(os.path.join(build, "python", "integrad")):
    sys.path.insert(0, os.path.join(build, "python"))
import numpy as np
import matplotlib.pyplot as plt
import integrad
import integrad.plot as iplot

x, y, _ = integrad.dataset("synthetic-order", split="train", limit=3000)
model = integrad.train("transformer", x, y, epochs=3, lr=3e-3, seed=0)
seqs, labels, markers = integrad.dataset("synthetic-order", limit=50)
print("test accuracy", float((model.predict(seqs).argmax(1) == labels).mean()))

# %% [markdown]
# ## Per-token scores of four methods
# Attention methods read the weights of the last encoder layer; IG attributes to the embedding's output
# (`layer=0`) from padding tokens and sums over the embedding dimension.

# %%
scores = {
    "attention": integrad.explain(model, seqs, method="attention").attributions,
    "rollout": integrad.explain(model, seqs, method="rollout").attributions,
    "attention-x-gradient": integrad.explain(model, seqs, method="attention-x-gradient").attributions,
    "ig": integrad.explain(model, seqs, layer=0, baseline=0).token_values,
}
fig, axes = plt.subplots(4, 1, figsize=(9, 3.5))
for ax, (m, s) in zip(axes, scores.items()):
    iplot.tokens(seqs[0], s[0], ax=ax)
    ax.set_title(m, fontsize=8, loc="left")
plt.tight_layout(); plt.show()

# %% [markdown]
# ## Measured on the decisive tokens
# Relevance mass: the share of positive score on the two markers; pointing game: whether the top
# token is one of them.

# %%
for m, s in scores.items():
    s = np.asarray(s, dtype=np.float64)
    positive = np.clip(s, 0, None)
    mass = (positive * markers).sum(axis=1) / np.maximum(positive.sum(axis=1), 1e-12)
    pointing = markers[np.arange(len(s)), s.argmax(axis=1)]
    print(f"{m:>22}: relevance mass {mass.mean():.2f}  pointing game {pointing.mean():.2f}")

# %% [markdown]
# ## Exercises
# **7.1** Store the pointing-game score of raw attention and of IG as `pointing_attention` and
# `pointing_ig`.
#
# **7.2** Which token does raw attention point at most often, over the 50 sequences? (Hint: look at
# position 0.) Store its position as `attention_favourite`.

# %%
pointing_attention = None   # your answer
pointing_ig = None          # your answer
attention_favourite = None  # your answer
