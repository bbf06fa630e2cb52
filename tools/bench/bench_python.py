#!/usr/bin/env python3
"""What calling integrad through Python costs beyond the C++ work: Model.predict timed from Python
against Sequential::predict timed inside C++ (integrad._integrad._predict_seconds) on the same
input, for a tiny and a mid-sized input. The difference is the binding's overhead per call.

    PYTHONPATH=build/python /usr/bin/python3 tools/bench/bench_python.py
"""
import time

import numpy as np

import integrad
from integrad import _integrad


def per_call(fn, repeats):
    best = float("inf")
    for _ in range(5):  # best of 5 rounds: the least disturbed by other processes
        start = time.perf_counter()
        for _ in range(repeats):
            fn()
        best = min(best, (time.perf_counter() - start) / repeats)
    return best


def measure(label, model, x, repeats):
    python = per_call(lambda: model.predict(x), repeats)
    cpp = min(_integrad._predict_seconds(model, x, repeats) for _ in range(5))
    print(f"{label:<44} python {python * 1e6:9.1f} us   C++ {cpp * 1e6:9.1f} us   overhead {(python - cpp) * 1e6:7.1f} us")
    return python - cpp


rng = np.random.default_rng(0)
x = rng.normal(size=(200, 4))
tiny = integrad.train("Linear(4, 8); ReLU(); Linear(8, 3)", x, (x[:, 0] > 0).astype(np.int64), dtype="float32")
cnn = integrad.train("cnn", *integrad.synthetic_patches(64, seed=1))
worst = max(
    measure("tiny MLP, 1 example [1, 4] float32", tiny, x[:1].astype(np.float32), 20000),
    measure("tiny MLP, 1 example [1, 4] float64 (converted)", tiny, x[:1], 20000),
    measure("CNN, 16 images [16, 1, 28, 28] float32", cnn, integrad.synthetic_patches(16, seed=2)[0], 200),
)
print(f"largest overhead per call: {worst * 1e6:.1f} us ({'under' if worst < 1e-3 else 'OVER'} the 1 ms budget)")
