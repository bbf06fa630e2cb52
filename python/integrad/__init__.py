"""integrad from Python: load, train and explain toy models with NumPy arrays.

    import integrad
    model = integrad.load("cnn.safetensors")           # or integrad.train("cnn", x, y, epochs=1)
    logits = model.predict(x)                           # x: float32/float64 [N, *model.input_shape]
    e = integrad.explain(model, x)                      # Integrated Gradients, 50 Gauss-Legendre steps
    attributions, delta = e                             # Captum's (attributions, delta)

Errors: ValueError for bad arguments (shapes, dtypes, options), FileNotFoundError for a missing
file, RuntimeError for a file that is not a valid model; the messages are the CLI's, naming the
Python keyword (steps=, feature_mask=) where the CLI names a flag. See docs/python.md.
"""
import contextlib
import functools
import os
import re
import tempfile

# OpenMP threads that spin while waiting (libgomp's default) take the cores from the thread that
# calls integrad: measured 20x slower explain calls from Python's main thread on 2 loaded cores.
# Read by libgomp when _integrad loads it, so it must be set first; an explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

from ._integrad import Model, architectures, datasets, interrupt, load, methods, metrics, synthetic_patch_mask, synthetic_patches
from . import _integrad
from .torch_import import from_torch

__all__ = ["Model", "Explanation", "DataSet", "load", "from_torch", "train", "explain", "evaluate", "axioms", "methods", "metrics", "dataset", "datasets",
           "architectures", "interrupt", "synthetic_patches", "synthetic_patch_mask"]
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


# Options the CLI takes as a file (--feature-mask M.npy, --mask GT.npy) and Python as an array too.
_ARRAY_OPTIONS = ("feature_mask", "mask")
# Options the CLI takes as comma-separated lists (--window 1,4,4) and Python as tuples too.
_LIST_OPTIONS = ("window", "stride")


def _python_words(message, temp_paths):
    """A message of the C++ core in Python's words: `--feature-mask` is `feature_mask=`, a temporary
    file holding an array the caller passed is "the array"."""
    for keyword, path in temp_paths.items():
        message = message.replace(f"--{keyword.replace('_', '-')} {path}", f"{keyword}= (the array)").replace(path, f"the array given as {keyword}=")
    # "--feature-mask M.npy" -> "feature_mask=M.npy", "--steps" -> "steps=".
    return re.sub(r"(?<![\w-])--([a-z][a-z0-9]*(?:-[a-z0-9]+)*)(?: ([A-Z][A-Za-z0-9_.]*))?",
                  lambda m: m.group(1).replace("-", "_") + "=" + (m.group(2) or ""), message)


@contextlib.contextmanager
def _options_for_core(options):
    """The keyword options as the core takes them: arrays written to temporary .npy files, tuples
    joined with commas; a ValueError from inside is re-raised naming Python's keywords."""
    import numpy as np
    given = dict(options)
    temp_paths = {}
    with tempfile.TemporaryDirectory(prefix="integrad-") as tmp:
        for key in _ARRAY_OPTIONS:
            value = given.get(key)
            if value is not None and not isinstance(value, (str, os.PathLike)):
                array = np.asarray(value)
                if key == "feature_mask":
                    if array.dtype.kind not in "iu":
                        raise ValueError(f"feature_mask= has dtype {array.dtype}; group ids are integers")
                    array = array.astype(np.int64)
                elif array.dtype.kind == "b":
                    array = array.astype(np.float64)  # a boolean mask: the .npy reader takes numbers
                path = os.path.join(tmp, f"{key}.npy")
                np.save(path, array)
                given[key] = path
                temp_paths[key] = path
            elif isinstance(value, os.PathLike):
                given[key] = os.fspath(value)
        for key in _LIST_OPTIONS:
            value = given.get(key)
            if isinstance(value, (tuple, list)):
                given[key] = ",".join(str(int(v)) for v in value)
        try:
            yield given
        except ValueError as e:
            raise ValueError(_python_words(str(e), temp_paths)) from None


def _in_python_words(function):
    """Re-raises the core's ValueError with Python's keywords for the CLI's flags."""
    @functools.wraps(function)
    def wrapped(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except ValueError as e:
            raise ValueError(_python_words(str(e), {})) from None
    return wrapped


axioms = _in_python_words(_integrad.axioms)
train = _in_python_words(_integrad.train)


class DataSet(tuple):
    """What integrad.dataset returns: unpacks as ``x, y, masks = ...`` and has the same three as
    attributes, plus ``shortcut_masks``: the inputs' shape, 1 on the shortcut a model may learn
    instead of the evidence (synthetic-watermark: the watermark; synthetic-loan: zip_code, the
    proxy), as the CLI's ``dataset --shortcut-masks-out`` writes them; None for the other sets."""

    def __new__(cls, x, y, masks, shortcut_masks):
        self = super().__new__(cls, (x, y, masks))
        self.shortcut_masks = shortcut_masks
        return self

    x = property(lambda self: self[0])
    y = property(lambda self: self[1])
    masks = property(lambda self: self[2])

    def __repr__(self):
        def shape(a):
            return None if a is None else tuple(a.shape)
        return (f"DataSet(x={shape(self.x)}, y={shape(self.y)}, masks={shape(self.masks)}, "
                f"shortcut_masks={shape(self.shortcut_masks)})")


def dataset(name, split="test", limit=None, data_dir=None, dtype="float32"):
    """(x, y, masks): a named data set as the CLI's --data reads it, as a DataSet, which also has
    .shortcut_masks. Token ids come back as int64, a regression's targets (diabetes) as float64,
    class labels as int64; masks (the inputs' shape, 1 where the evidence for the label lies) or
    None; shortcut_masks (1 on the shortcut: the watermark, the zip code) or None. split is
    "train", "test" or "all" (the sets read from files). docs/datasets.md."""
    import numpy as np
    kwargs = {} if data_dir is None else {"data_dir": data_dir}
    x, y, masks, shortcut = _in_python_words(_integrad.dataset)(name, split=split, limit=limit, dtype=dtype, **kwargs)
    info = next((d for d in datasets() if d["name"] == name), None)
    if info is not None and info.get("input_dtype") == "int64":
        x = x.astype(np.int64)
    return DataSet(x, y, masks, shortcut)


def explain(model, x, method="ig", target=None, baseline=None, **options):
    """Attributions of model's outputs to x [N, *input_shape].

    method    a registered method: "ig" (Integrated Gradients), "gradient", "saliency", ... —
              integrad.methods() lists them with their options, which are keyword arguments
              here (the CLI's --batch-size is batch_size=); the registry checks them
    target    None (the predicted class), a class index, or one class per example
    baseline  None (zero), a number, or an array of one example's shape or of x's shape
    feature_mask  (perturbation methods) integer group ids, an array of one example's shape or of
              x's, or a .npy path; window=, stride= (occlusion) tuples such as (1, 4, 4)
    Returns an Explanation; ``attributions, delta = explain(...)`` unpacks it.
    """
    with _options_for_core(options) as given:
        return Explanation(_integrad._explain(model, x, method=method, target=target, baseline=baseline, **given))


def evaluate(model, x, attributions, metric="sparseness", target=None, baseline=None, **options):
    """Scores of attribution maps by a metric of the registry (integrad.metrics() lists them).

    attributions  an array [N, ...] or an Explanation (its targets are used unless target is given)
    mask          (relevance-mass, pointing-game) an array of x's shape, or a .npy path
    Returns {"metric", "higher_is_better", "scores": NumPy [N], "mean"}, and for deletion and
    insertion "curves": NumPy [N, steps + 1], the score p_k after k of the steps.
    """
    if isinstance(attributions, Explanation):
        if target is None:
            target = attributions.targets
        attributions = attributions.attributions
    with _options_for_core(options) as given:
        return _integrad._evaluate(model, x, attributions, metric=metric, target=target, baseline=baseline, **given)
