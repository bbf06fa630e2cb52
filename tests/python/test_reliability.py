"""Issue 29 through the Python API: sizes that overflow, optimizer settings out of range, NaN
baselines, paths as pathlib.Path, library internals and escape sequences in messages, Ctrl-C."""
import json
import os
import pathlib
import signal
import struct
import threading
import time

import numpy as np
import pytest

import integrad


def test_sizes_that_overflow_are_refused_not_corrupting_the_heap():
    # 2^61 images of 784 pixels: the element count overflowed int64 into a small allocation.
    with pytest.raises((ValueError, MemoryError), match="2\\^63 elements|out of memory"):
        integrad.synthetic_patches(2**61)


@pytest.mark.parametrize("option, value, words", [
    ("lr", float("inf"), "learning rate"), ("lr", float("nan"), "learning rate"),
    ("weight_decay", float("nan"), "weight_decay"), ("weight_decay", -0.5, "weight_decay"),
    ("momentum", 2.0, "momentum"), ("momentum", float("nan"), "momentum")])
def test_train_refuses_settings_out_of_range(option, value, words):
    x, y = integrad.synthetic_patches(16)
    with pytest.raises(ValueError, match=words):
        integrad.train("mlp", x, y, **{option: value, "optimizer": "sgd"})


def test_train_refuses_weights_that_diverge():
    x, y = integrad.synthetic_patches(16)
    with pytest.raises(RuntimeError, match="training diverged"):
        integrad.train("mlp", x, y, lr=1e308, optimizer="sgd", batch_size=16)


def test_baseline_nan_is_refused(torch_data):
    model = integrad.load(os.path.join(torch_data, "mlp_f32.safetensors"))
    x = np.load(os.path.join(torch_data, "mlp_f32_input.npy"))
    for bad in (float("nan"), float("inf"), 1e308):
        with pytest.raises(ValueError, match="baseline must be a finite number"):
            integrad.explain(model, x, baseline=bad)


def test_load_and_save_take_a_pathlib_path(torch_data, tmp_path):
    model = integrad.load(pathlib.Path(torch_data) / "mlp_f32.safetensors")
    model.save(tmp_path / "copy.safetensors")
    assert integrad.load(tmp_path / "copy.safetensors").info() == model.info()


def test_a_malformed_training_curve_is_named_not_a_json_internal(tmp_path):
    header = {"__metadata__": {"architecture": "Linear(2, 1)", "input_shape": "2", "training_curve": '[{"epoch": "one"}]'},
              "0.weight": {"dtype": "F32", "shape": [1, 2], "data_offsets": [0, 8]}, "0.bias": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}
    text = json.dumps(header).encode()
    path = tmp_path / "curve.safetensors"
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"\0" * 12)
    with pytest.raises(ValueError) as e:
        integrad.load(path)
    assert "curve.safetensors: metadata training_curve is not a list of epochs" in str(e.value)
    assert "[json.exception" not in str(e.value)


def test_exception_texts_are_escaped(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        integrad.load(str(tmp_path / "\x1b]0;owned\x07.safetensors"))
    assert "\x1b" not in str(e.value) and "\\x1b]0;owned\\x07" in str(e.value)


def test_ctrl_c_interrupts_explain_between_passes(torch_data):
    # IG with a million steps in passes of 64 on 200 examples runs for about a minute; Ctrl-C after
    # 0.5 s must stop it within a pass or two, not when the C++ call returns.
    model = integrad.load(os.path.join(torch_data, "mlp_f32.safetensors"))
    x = np.repeat(np.load(os.path.join(torch_data, "mlp_f32_input.npy"))[:1], 200, axis=0)
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        integrad.explain(model, x, method="ig", steps=1000000, batch_size=64)
    elapsed = time.monotonic() - start
    timer.cancel()
    assert elapsed < 5, f"took {elapsed:.1f} s to stop"
    # and the next call runs normally
    assert integrad.explain(model, x[:2], method="saliency").attributions.shape == x[:2].shape


def _long_explain_in_a_thread(torch_data):
    """Starts IG with a million steps (about a minute) in a worker thread; returns the thread and
    a dict that gets the worker's exception (or "returned") and when it ended."""
    model = integrad.load(os.path.join(torch_data, "mlp_f32.safetensors"))
    x = np.repeat(np.load(os.path.join(torch_data, "mlp_f32_input.npy"))[:1], 200, axis=0)
    outcome = {}

    def work():
        try:
            integrad.explain(model, x, method="ig", steps=1000000, batch_size=64)
            outcome["result"] = "returned"
        except BaseException as e:  # KeyboardInterrupt is what is expected
            outcome["result"] = e
        outcome["ended"] = time.monotonic()

    worker = threading.Thread(target=work)
    return worker, outcome, model, x


def test_ctrl_c_stops_a_call_in_a_worker_thread(torch_data):
    """Python runs signal handlers on the main thread only: a call in a worker thread ran to its end
    (a minute) after Ctrl-C. Now the worker's call raises KeyboardInterrupt within a pass or two,
    and the main thread, waiting in join(), gets its KeyboardInterrupt as usual."""
    worker, outcome, model, x = _long_explain_in_a_thread(torch_data)
    worker.start()
    time.sleep(0.5)
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
        worker.join(timeout=30)
        time.sleep(5)  # the main thread's KeyboardInterrupt arrives at its next instruction at the latest
    worker.join(timeout=30)
    assert not worker.is_alive(), "the worker's call did not stop"
    assert isinstance(outcome["result"], KeyboardInterrupt), outcome["result"]
    assert outcome["ended"] - start < 5, f"the worker took {outcome['ended'] - start:.1f} s to stop"
    # Python's handler is back and the next calls run normally
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert integrad.explain(model, x[:2], method="saliency").attributions.shape == x[:2].shape


def test_interrupt_stops_calls_in_other_threads(torch_data):
    """integrad.interrupt() cancels every running call, here one in a worker thread, without a
    KeyboardInterrupt in the caller; with nothing running it returns False and changes nothing."""
    assert integrad.interrupt() is False
    worker, outcome, model, x = _long_explain_in_a_thread(torch_data)
    worker.start()
    time.sleep(0.5)
    start = time.monotonic()
    while not integrad.interrupt():  # the worker's call may not have begun yet on a loaded machine
        time.sleep(0.05)
    worker.join(timeout=30)
    assert not worker.is_alive() and isinstance(outcome["result"], KeyboardInterrupt), outcome.get("result")
    assert outcome["ended"] - start < 5
    assert integrad.explain(model, x[:2], method="saliency").attributions.shape == x[:2].shape


def test_ctrl_c_interrupts_predict_between_layers(tmp_path):
    """Model.predict polls between batches and layers too: 40 convolutions on 2,048 examples in one
    batch take seconds; Ctrl-C after 0.3 s stops it within a layer."""
    layers = 40
    arch = "; ".join(["Conv2d(32, 32, 3, padding=1)"] * layers)
    import json
    import struct
    header, offset = {"__metadata__": {"architecture": arch, "input_shape": "32,8,8"}}, 0
    for i in range(layers):
        for name, dims, n in ((f"{i}.weight", [32, 32, 3, 3], 32 * 32 * 9), (f"{i}.bias", [32], 32)):
            header[name] = {"dtype": "F32", "shape": dims, "data_offsets": [offset, offset + 4 * n]}
            offset += 4 * n
    text = json.dumps(header).encode()
    (tmp_path / "slow.safetensors").write_bytes(struct.pack("<Q", len(text)) + text + b"\0" * offset)
    model = integrad.load(tmp_path / "slow.safetensors")
    x = np.zeros((2048, 32, 8, 8), np.float32)
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        model.predict(x, batch_size=2048)
    elapsed = time.monotonic() - start
    timer.cancel()
    assert elapsed < 2, f"took {elapsed:.1f} s to stop"


def test_python_arguments_are_checked_in_the_users_words(torch_data):
    model = integrad.load(os.path.join(torch_data, "mlp_f32.safetensors"))
    x = np.load(os.path.join(torch_data, "mlp_f32_input.npy"))
    with pytest.raises(TypeError, match="twins\\['g'\\] must be a Model"):
        integrad.axioms(model, x, twins={"g": "not a model"})
    other = integrad.load(os.path.join(torch_data, "ig_model_f32.safetensors"))
    with pytest.raises(ValueError, match="takes or gives other shapes"):
        integrad.axioms(model, x, twins={"g": other})
    xs, ys = integrad.synthetic_patches(8)
    with pytest.raises(ValueError, match="validation must be a pair"):
        integrad.train("mlp", xs, ys, validation="xy")
    # a list pair is as good as a tuple
    integrad.train("mlp", xs, ys, validation=[xs, ys])
