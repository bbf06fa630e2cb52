"""integrad from Python: load, train and explain toy models with NumPy arrays.

    import integrad
    model = integrad.load("cnn.safetensors")           # or integrad.train("cnn", x, y, epochs=1)
    logits = model.predict(x)                           # x: float32/float64 [N, *model.input_shape]
    e = integrad.explain(model, x)                      # Integrated Gradients, 50 Gauss-Legendre steps
    attributions, delta = e                             # Captum's (attributions, delta)

Errors: ValueError for bad arguments (shapes, dtypes, options), FileNotFoundError for a missing
file, RuntimeError for a file that is not a valid model; the messages are the CLI's. See
docs/python.md.
"""
import os

# OpenMP threads that spin while waiting (libgomp's default) take the cores from the thread that
# calls integrad: measured 20x slower explain calls from Python's main thread on 2 loaded cores.
# Read by libgomp when _integrad loads it, so it must be set first; an explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

from ._integrad import Model, axioms, dataset, datasets, load, methods, metrics, synthetic_patch_mask, synthetic_patches, train
from . import _integrad
from .torch_import import from_torch

__all__ = ["Model", "Explanation", "load", "from_torch", "train", "explain", "evaluate", "axioms", "methods", "metrics", "dataset", "datasets", "synthetic_patches", "synthetic_patch_mask"]
__version__ = "0.1.0"


class Explanation:
    """What explain returns. Unpacks as Captum's pair: ``attributions, delta = integrad.explain(...)``.

    attributions  NumPy array of the inputs' shape (the layer output's for layer methods)
    delta         convergence delta per example, sum(attributions) - (F(x) - F(baseline)) in
                  Captum's sign convention; None for methods that have none
    token_values  per-token scores [N, T] for token-id inputs (layer IG on the embedding), else None
    targets       the class explained per example (NumPy int64 [N])
    f_input       F(x) per example; f_baseline F(baseline) (None without a baseline)
    steps         path points used per example (None for methods without a path)
    method        the method's name
    """

    __slots__ = ("attributions", "delta", "token_values", "targets", "f_input", "f_baseline", "steps", "method")

    def __init__(self, result):
        for name in self.__slots__:
            setattr(self, name, result.get(name))

    def __iter__(self):
        return iter((self.attributions, self.delta))

    def __repr__(self):
        return (f"Explanation(method={self.method!r}, attributions shape {tuple(self.attributions.shape)}, "
                f"targets {self.targets.tolist()}, delta {None if self.delta is None else self.delta.tolist()})")


def explain(model, x, method="ig", target=None, baseline=None, **options):
    """Attributions of model's outputs to x [N, *input_shape].

    method    a registered method: "ig" (Integrated Gradients), "gradient", "saliency", ... —
              integrad.methods() lists them with their options, which are keyword arguments
              here (the CLI's --batch-size is batch_size=); the registry checks them
    target    None (the predicted class), a class index, or one class per example
    baseline  None (zero), a number, or an array of one example's shape or of x's shape
    Returns an Explanation; ``attributions, delta = explain(...)`` unpacks it.
    """
    return Explanation(_integrad._explain(model, x, method=method, target=target, baseline=baseline, **options))


def evaluate(model, x, attributions, metric="sparseness", target=None, baseline=None, **options):
    """Scores of attribution maps by a metric of the registry (integrad.metrics() lists them).

    attributions  an array [N, ...] or an Explanation (its targets are used unless target is given)
    Returns {"metric", "higher_is_better", "scores": NumPy [N], "mean"}.
    """
    if isinstance(attributions, Explanation):
        if target is None:
            target = attributions.targets
        attributions = attributions.attributions
    return _integrad._evaluate(model, x, attributions, metric=metric, target=target, baseline=baseline, **options)
