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

    attributions  NumPy array of the inputs' shape (the layer output's for layer methods); for x a
                  dict of inputs, a dict of arrays, one per explained input
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
        a = self.attributions
        shape = {k: tuple(v.shape) for k, v in a.items()} if isinstance(a, dict) else tuple(a.shape)
        return (f"Explanation(method={self.method!r}, attributions shape {shape}, "
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


class _TracedOutputs:
    """What a callable target receives: the model's outputs [N, C] as a symbol. Each operation
    records itself; integrad differentiates the recorded function of the outputs as it does a
    class logit. Supports out[:, k], + - * / ** with numbers or each other, unary minus, and
    .softmax() .log_softmax() .sigmoid() .exp() .log() .tanh() .sum() (over classes)."""

    __slots__ = ("_ops", "_index")

    def __init__(self, ops, index):
        self._ops, self._index = ops, index

    def _record(self, name, a, b=None):
        self._ops.append((name, a, b))
        return _TracedOutputs(self._ops, len(self._ops))

    def _binary(self, other, name, scalar_name):
        if isinstance(other, _TracedOutputs):
            return self._record(name, self._index, other._index)
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            value = float(other)
            return self._record(scalar_name, self._index, value if name != "sub" else -value)
        return NotImplemented

    def __getitem__(self, key):
        if isinstance(key, tuple) and len(key) == 2 and key[0] == slice(None) and isinstance(key[1], int):
            return self._record("col", self._index, key[1])
        raise TypeError("a target callable selects an output by out[:, k] (k an int)")

    def __add__(self, other):
        return self._binary(other, "add", "adds")

    __radd__ = __add__

    def __sub__(self, other):
        return self._binary(other, "sub", "adds")

    def __rsub__(self, other):
        if isinstance(other, (int, float)):
            return self._record("rsubs", self._index, float(other))
        return NotImplemented

    def __mul__(self, other):
        return self._binary(other, "mul", "muls")

    __rmul__ = __mul__

    def __truediv__(self, other):
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return self._record("muls", self._index, 1.0 / float(other))
        return self._binary(other, "div", "div")

    def __rtruediv__(self, other):
        if isinstance(other, (int, float)):
            return self._record("rdivs", self._index, float(other))
        return NotImplemented

    def __pow__(self, exponent):
        if isinstance(exponent, (int, float)):
            return self._record("pow", self._index, float(exponent))
        return NotImplemented

    def __neg__(self):
        return self._record("neg", self._index)

    def softmax(self):
        return self._record("softmax", self._index)

    def log_softmax(self):
        return self._record("log_softmax", self._index)

    def sigmoid(self):
        return self._record("sigmoid", self._index)

    def exp(self):
        return self._record("exp", self._index)

    def log(self):
        return self._record("log", self._index)

    def tanh(self):
        return self._record("tanh", self._index)

    def sum(self):
        return self._record("sum", self._index)


def _trace_target(fn):
    """A callable target as the list of operations it applies to the outputs."""
    ops = []
    result = fn(_TracedOutputs(ops, 0))
    if not isinstance(result, _TracedOutputs):
        raise TypeError("target: the callable must return a function of its argument built from out[:, k], + - * /, "
                        ".softmax(), .log_softmax(), .sigmoid(), .exp(), .log(), .tanh(), .sum(); got " + type(result).__name__)
    if not ops:
        ops.append(("muls", 0, 1.0))  # lambda out: out (a one-output model)
    elif result._index != len(ops):
        ops.append(("muls", result._index, 1.0))
    return ops


def explain(model, x, method="ig", target=None, baseline=None, attribute_to=None, **options):
    """Attributions of model's outputs to x [N, *input_shape].

    x         an array, or for a model of several inputs a dict of arrays by input name
              ({"num": a, "cat": b}); attributions are then a dict by input name too
    method    a registered method: "ig" (Integrated Gradients), "gradient", "saliency", ... —
              integrad.methods() lists them with their options, which are keyword arguments
              here (the CLI's --batch-size is batch_size=); the registry checks them
    target    None (the predicted class; F itself for one output per example), a class index,
              one class per example, or a callable on the outputs [N, C] giving one value per
              example (alibi's target_fn), e.g. ``lambda out: out[:, 1] + out[:, 2]`` or
              ``lambda out: out.softmax()[:, 3]`` (a probability)
    baseline  None (zero), a number, or an array of one example's shape or of x's shape; for a
              dict x, a dict of those by input name (inputs not in it: zero)
    attribute_to  a dict x: the inputs to explain, a name or a list (default: every
              floating-point input); the others are fed as given and held fixed (alibi's
              forward_kwargs, Captum's additional_forward_args)
    feature_mask  (perturbation methods) integer group ids, an array of one example's shape or of
              x's, or a .npy path; window=, stride= (occlusion) tuples such as (1, 4, 4)
    Returns an Explanation; ``attributions, delta = explain(...)`` unpacks it.
    """
    with _options_for_core(options) as given:
        if callable(target):
            target = _trace_target(target)
        return Explanation(_integrad._explain(model, x, method=method, target=target, baseline=baseline, attribute_to=attribute_to,
                                              **given))


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
