#!/usr/bin/env python3
"""integrad from Python, notebook style (docs/python.md): train the CNN on synthetic images whose
ground truth is known, explain a few test images with Integrated Gradients, check where the
attribution went, and save the maps as a figure.

    PYTHONPATH=build/python /usr/bin/python3 docs/python_example.py [OUT_DIR]
"""
import os
import sys

import matplotlib

matplotlib.use("Agg")  # no display needed; in Jupyter leave this out
import matplotlib.pyplot as plt
import numpy as np

import integrad

out = sys.argv[1] if len(sys.argv) > 1 else "out"
os.makedirs(out, exist_ok=True)

# %% Data: noise images, class k puts a bright 4x4 patch at a place of its own.
x, y = integrad.synthetic_patches(2000, seed=1)
x_test, y_test = integrad.synthetic_patches(6, seed=2)
print("train", x.shape, x.dtype, "test", x_test.shape)

# %% Train the built-in CNN for one epoch of Adam (lr 1e-3, batch 64), printing each epoch.
model = integrad.train("cnn", x, y, epochs=1, seed=0, progress=lambda e: print(f"epoch {e['epoch']}: loss {e['loss']:.4f}, "
                                                                                 f"train accuracy {e['train_accuracy']:.3f}"))
print(model)
accuracy = float((model.predict(x_test).argmax(1) == y_test).mean())
print(f"test accuracy {accuracy:.3f}")
model.save(os.path.join(out, "python_example.safetensors"))

# %% Explain: IG from a black baseline, 50 Gauss-Legendre steps, the predicted class.
attributions, delta = integrad.explain(model, x_test)
print("convergence deltas", np.array2string(delta, precision=5))

# %% Where did the attribution go? The share of |IG| that lies on the class's patch.
on_patch = [float((np.abs(a) * integrad.synthetic_patch_mask(k)).sum() / np.abs(a).sum())
            for a, k in zip(attributions, y_test)]
print("share of |IG| on the patch", np.round(on_patch, 3))

# %% The figure: each test image above its IG map (red adds to the class, blue takes away).
fig, axes = plt.subplots(2, len(x_test), figsize=(2 * len(x_test), 4.2))
for i in range(len(x_test)):
    axes[0, i].imshow(x_test[i, 0], cmap="gray", vmin=0, vmax=1)
    axes[0, i].set_title(f"class {y_test[i]}")
    m = np.abs(attributions[i, 0]).max()
    axes[1, i].imshow(attributions[i, 0], cmap="bwr", vmin=-m, vmax=m)
    axes[1, i].set_title(f"delta {delta[i]:.1e}", fontsize=8)
for ax in axes.flat:
    ax.axis("off")
fig.tight_layout()
png = os.path.join(out, "python_example.png")
fig.savefig(png, dpi=80)
print("wrote", png)
