"""integrad.from_torch(module, example): a PyTorch nn.Module as an integrad model, in one call.

torch.fx traces the module into a graph of calls; each call becomes a node of integrad's graph
named by its module path (``layer1.0.conv1``), which is also the prefix of its parameters in the
state_dict, so ``--layer`` names and Captum's layer arguments agree. A module called twice with no
parameters (torchvision's BasicBlock calls its ``relu`` twice) gives ``relu`` and ``relu_1``.
What cannot be expressed (an unknown module or function, shared weights) is a ValueError that names
it; the result is checked against the module on the example before it is returned.
"""
import operator

import numpy as np

from . import _integrad

# PyTorch's module classes -> the argument text integrad's layer of the same name takes.
def _conv2d(m):
    for name in ("kernel_size", "stride", "padding"):
        v = getattr(m, name)
        if isinstance(v, str) or len(set(v)) != 1:
            raise ValueError(f"Conv2d with {name}={v!r}: integrad takes square kernels, strides and paddings given as numbers")
    if m.groups != 1 or m.dilation != (1, 1) or m.padding_mode != "zeros":
        raise ValueError("Conv2d with groups, dilation or a padding mode other than zeros is not supported")
    return (f"{m.in_channels}, {m.out_channels}, {m.kernel_size[0]}, stride={m.stride[0]}, padding={m.padding[0]}"
            + ("" if m.bias is not None else ", bias=False"))


def _pool(m):
    k = m.kernel_size if isinstance(m.kernel_size, int) else m.kernel_size[0]
    s = m.stride if isinstance(m.stride, int) else m.stride[0]
    if getattr(m, "padding", 0) not in (0, (0, 0)) or getattr(m, "ceil_mode", False):
        raise ValueError(f"{type(m).__name__} with padding or ceil_mode is not supported")
    return f"{k}, stride={s}"


def _batch_norm(m):
    if not m.affine or not m.track_running_stats:
        raise ValueError(f"{type(m).__name__} needs affine=True and track_running_stats=True")
    return f"{m.num_features}, eps={m.eps!r}, momentum={'None' if m.momentum is None else repr(m.momentum)}"


def _adaptive(m):
    size = m.output_size if isinstance(m.output_size, int) else tuple(m.output_size)
    if size not in (1, (1, 1)):
        raise ValueError("AdaptiveAvgPool2d: only output_size=1 (global average pooling) is supported")
    return "1"


def _flatten(m):
    if m.start_dim != 1 or m.end_dim != -1:
        raise ValueError("Flatten: only start_dim=1, end_dim=-1 is supported")
    return ""


MODULES = {
    "Linear": lambda m: f"{m.in_features}, {m.out_features}" + ("" if m.bias is not None else ", bias=False"),
    "Conv2d": _conv2d,
    "MaxPool2d": _pool,
    "AvgPool2d": _pool,
    "AdaptiveAvgPool2d": _adaptive,
    "BatchNorm1d": _batch_norm,
    "BatchNorm2d": _batch_norm,
    "Flatten": _flatten,
    "ReLU": lambda m: "",
    "Sigmoid": lambda m: "",
    "Tanh": lambda m: "",
    "GELU": lambda m: "",
    "Identity": lambda m: "",
    "Dropout": lambda m: f"p={m.p!r}",
    "Softmax": lambda m: f"dim={m.dim}",
    "Embedding": lambda m: f"{m.num_embeddings}, {m.embedding_dim}",
    "LayerNorm": lambda m: f"{m.normalized_shape[0]}, eps={m.eps!r}",
}


def _function_layer(node):
    """torch functions and tensor methods that are layers of their own in integrad."""
    import torch
    f = node.target
    if f in (operator.add, torch.add) or node.op == "call_method" and f == "add":
        if len(node.args) != 2 or node.kwargs:
            raise ValueError(f"{node.name}: only the sum of two tensors is supported")
        return "Add()", list(node.args)
    if f in (torch.relu, torch.nn.functional.relu) or node.op == "call_method" and f == "relu":
        return "ReLU()", [node.args[0]]
    if f is torch.cat:
        dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else 0)
        return f"Concat(dim={dim})", list(node.args[0])
    if f is torch.flatten or node.op == "call_method" and f == "flatten":
        start = node.kwargs.get("start_dim", node.args[1] if len(node.args) > 1 else 0)
        if start != 1:
            raise ValueError(f"{node.name}: flatten from dimension {start}; integrad flattens from 1 (the batch kept)")
        return "Flatten()", [node.args[0]]
    name = getattr(f, "__name__", str(f))
    raise ValueError(f"{node.name}: the function {name} has no integrad layer (supported: +, torch.add, relu, torch.cat, flatten)")


def graph_of(module, example):
    """(architecture text, state_dict) of a traceable module."""
    import torch
    import torch.fx
    traced = torch.fx.symbolic_trace(module)
    modules = dict(module.named_modules())
    lines, names, used, params_seen = [], {}, set(), set()
    placeholder = None
    previous = None
    for node in traced.graph.nodes:
        if node.op == "placeholder":
            if placeholder is not None:
                raise ValueError("the module takes several inputs; integrad.from_torch takes modules of one input")
            placeholder = node
            names[node] = "input"
            previous = node
            continue
        if node.op == "output":
            if node.args[0] is not previous:
                raise ValueError("the module's output must be its last call")
            continue
        if node.op == "call_module":
            m = modules[node.target]
            kind = type(m).__name__
            if kind not in MODULES:
                raise ValueError(f"module {node.target} ({kind}) has no integrad layer (supported: {', '.join(sorted(MODULES))})")
            layer = f"{kind}({MODULES[kind](m)})"
            reads = [a for a in node.args if hasattr(a, "op")]
            name = node.target
            if name in used:
                if any(True for _ in m.parameters()) or any(True for _ in m.buffers()):
                    raise ValueError(f"module {node.target} is called twice: shared weights are not supported")
                k = 1
                while f"{name}_{k}" in used:
                    k += 1
                name = f"{name}_{k}"
            params_seen.add(node.target)
        elif node.op in ("call_function", "call_method"):
            layer, reads = _function_layer(node)
            name = node.name
        else:
            raise ValueError(f"{node.name}: fx operation {node.op} is not supported")
        used.add(name)
        names[node] = name
        text = f"{name} = {layer}"
        if len(reads) != 1 or reads[0] is not previous:
            text += "(" + ", ".join(names[r] for r in reads) + ")"
        lines.append(text)
        previous = node
    # BatchNorm's num_batches_tracked is int64 in PyTorch: a float of the module's own precision here.
    floats = [v.dtype for v in module.state_dict().values() if v.is_floating_point()]
    real = np.float64 if floats and floats[0] == torch.float64 else np.float32
    state = {k: v.detach().cpu().numpy() if v.is_floating_point() else v.detach().cpu().numpy().astype(real) for k, v in module.state_dict().items()}
    return "\n".join(lines), state


def from_torch(module, example, dtype=None, check=True):
    """An integrad model computing what ``module`` computes, traced with torch.fx on ``example``
    (one batch of inputs; its shape without the batch dimension becomes the model's input shape).
    The module is put in eval mode for the check and left as it was. dtype None: float64 for a
    float64 module, float32 otherwise."""
    import torch
    arch, state = graph_of(module, example)
    x = example.detach().cpu()
    input_dtype = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64"}.get(x.dtype)
    if input_dtype is None:
        raise ValueError(f"example: dtype {x.dtype}; integrad takes float32, float64 or int64 (token ids)")
    model = _integrad.Model.from_torch(state, arch, tuple(x.shape[1:]), input_dtype, dtype)
    if check:
        was_training = module.training
        module.eval()
        with torch.no_grad():
            expected = module(example).detach().cpu().numpy()
        module.train(was_training)
        ours = model.predict(x.numpy())
        tol = 1e-10 if ours.dtype == np.float64 and expected.dtype == np.float64 else 1e-4
        scale = max(1.0, float(np.abs(expected).max()))
        worst = float(np.abs(ours - expected).max()) if ours.shape == expected.shape else float("inf")
        if not worst <= tol * scale:
            raise ValueError(f"from_torch: the traced model's outputs differ from the module's by {worst:.3g} on the example "
                             "(a call whose semantics integrad does not reproduce)")
    return model
