"""Figures for a notebook, with matplotlib: one call each, returning the matplotlib Axes (or
Figure) so a lab can add to it.

    import integrad.plot as iplot
    iplot.heatmap(attributions[0])                       # a map, red positive, blue negative
    iplot.overlay(x[0], attributions[0])                 # the map over the image
    iplot.tokens(ids[0], per_token[0])                   # token ids (or words) coloured by score
    iplot.beeswarm(attributions, x, feature_names)       # SHAP-style summary of a tabular model
    iplot.comparison(model, x[:3], ["ig", "saliency"])   # methods x examples, one call

The colour scale of a signed map is symmetric about 0 (white), so a colour means the same sign
in every panel; an unsigned map (saliency) uses white to red.
"""
import numpy as np


def _plt():
    import matplotlib.pyplot as plt  # imported on first use: `import integrad` does not need matplotlib
    return plt


def _image_2d(a):
    """[C, H, W] or [H, W] as [H, W]: channels summed (a map), or an RGB image kept as [H, W, 3]."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 3 and a.shape[0] == 1:
        return a[0]
    if a.ndim == 3:
        return a.sum(axis=0)
    if a.ndim != 2:
        raise ValueError(f"expected an image map [C, H, W] or [H, W]; got shape {a.shape}")
    return a


def _signed_limits(a):
    m = float(np.max(np.abs(a))) if a.size else 0.0
    return (-m, m) if m > 0 else (-1.0, 1.0)


def heatmap(attribution, ax=None, title=None, signed=None, colorbar=True):
    """An attribution map [C, H, W] or [H, W] (channels summed): bwr about 0 when signed (default:
    signed when any value is negative), white to red otherwise."""
    plt = _plt()
    a = _image_2d(attribution)
    if ax is None:
        _, ax = plt.subplots(figsize=(3, 3))
    if signed is None:
        signed = bool((a < 0).any())
    lo, hi = _signed_limits(a) if signed else (0.0, float(a.max()) or 1.0)
    im = ax.imshow(a, cmap="bwr" if signed else "Reds", vmin=lo, vmax=hi)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return ax


def overlay(image, attribution, ax=None, title=None, alpha=0.6):
    """The image in grey with the map over it (|A| as opacity, red positive, blue negative)."""
    plt = _plt()
    img = _image_2d(image)
    a = _image_2d(attribution)
    if img.shape != a.shape:
        raise ValueError(f"image {img.shape} and attribution {a.shape} differ in shape")
    if ax is None:
        _, ax = plt.subplots(figsize=(3, 3))
    ax.imshow(img, cmap="gray")
    m = float(np.max(np.abs(a))) or 1.0
    rgba = np.zeros(a.shape + (4,))
    rgba[..., 0] = a > 0
    rgba[..., 2] = a < 0
    rgba[..., 3] = alpha * np.abs(a) / m
    ax.imshow(rgba)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def tokens(ids, scores, words=None, ax=None, title=None):
    """A sequence of tokens, each on a background coloured by its score (red supports the target,
    blue opposes it). `words` maps an id to its text (a dict or a list); default: the id."""
    plt = _plt()
    ids = np.asarray(ids).astype(np.int64).ravel()
    scores = np.asarray(scores, dtype=np.float64).ravel()
    if ids.shape != scores.shape:
        raise ValueError(f"ids {ids.shape} and scores {scores.shape} differ in length")
    if ax is None:
        _, ax = plt.subplots(figsize=(max(4, 0.55 * len(ids)), 0.8))
    m = float(np.max(np.abs(scores))) or 1.0
    cmap = plt.get_cmap("bwr")
    for k, (t, s) in enumerate(zip(ids, scores)):
        text = str(words[t]) if words is not None else str(t)
        ax.text(k + 0.5, 0.5, text, ha="center", va="center", fontsize=9,
                bbox=dict(boxstyle="round,pad=0.25", facecolor=cmap(0.5 + 0.5 * s / m), edgecolor="none"))
    ax.set_xlim(0, len(ids))
    ax.set_ylim(0, 1)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def beeswarm(attributions, x, feature_names=None, ax=None, title=None, seed=0):
    """SHAP's summary plot: a row per feature (largest mean |A| on top), a dot per example at its
    attribution, coloured by the feature's value (blue low, red high)."""
    plt = _plt()
    a = np.asarray(attributions, dtype=np.float64)
    v = np.asarray(x, dtype=np.float64)
    if a.ndim != 2 or a.shape != v.shape:
        raise ValueError(f"beeswarm takes attributions and inputs [N, F] of one shape; got {a.shape} and {v.shape}")
    n, f = a.shape
    names = list(feature_names) if feature_names is not None else [f"feature {j}" for j in range(f)]
    if len(names) != f:
        raise ValueError(f"{len(names)} feature names for {f} features")
    order = np.argsort(-np.abs(a).mean(axis=0), kind="stable")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.4 * f + 1))
    rng = np.random.default_rng(seed)
    for row, j in enumerate(order[::-1]):
        lo, hi = v[:, j].min(), v[:, j].max()
        colour = (v[:, j] - lo) / (hi - lo) if hi > lo else np.full(n, 0.5)
        ax.scatter(a[:, j], row + rng.uniform(-0.25, 0.25, n), c=colour, cmap="coolwarm", s=8, vmin=0, vmax=1)
    ax.set_yticks(range(f))
    ax.set_yticklabels([names[j] for j in order[::-1]])
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_xlabel("attribution")
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def comparison(model, x, methods=("ig", "saliency", "gradxinput"), options=None, target=None, baseline=None):
    """Methods x examples in one figure: row 0 the images, then one row per method of its maps
    (each on its own symmetric scale). `options` maps a method to its keyword options. Returns
    (figure, {method: attributions})."""
    from . import explain
    plt = _plt()
    x = np.asarray(x)
    options = options or {}
    maps = {m: explain(model, x, method=m, target=target, baseline=baseline, **options.get(m, {})).attributions for m in methods}
    n = x.shape[0]
    fig, axes = plt.subplots(len(methods) + 1, n, figsize=(1.8 * n, 1.8 * (len(methods) + 1)), squeeze=False)
    for i in range(n):
        axes[0, i].imshow(_image_2d(x[i]), cmap="gray")
        axes[0, i].set_xticks([])
        axes[0, i].set_yticks([])
        for r, m in enumerate(methods, start=1):
            heatmap(maps[m][i], ax=axes[r, i], colorbar=False)
            if i == 0:
                axes[r, i].set_ylabel(m, fontsize=9)
    axes[0, 0].set_ylabel("input", fontsize=9)
    fig.tight_layout()
    return fig, maps
