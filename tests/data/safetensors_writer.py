"""The safetensors format by hand for the fixture scripts (Debian 12 has no safetensors package):
8-byte little-endian header length, a JSON header padded to 8 bytes, raw little-endian data, as
safetensors.torch.save_file writes it. One copy, imported by every make_*_fixtures.py."""
import json
import struct

import numpy as np
import torch


def save_safetensors(path, state, metadata, dtype=torch.float64):
    """Writes `state` (name -> tensor or NumPy array, in its order) as `dtype` with `metadata` (str -> str)."""
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, t in state.items():
        t = torch.as_tensor(t)
        data = t.detach().to(dtype).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F64" if dtype == torch.float64 else "F32", "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def load_safetensors(path):
    """(state, metadata) of a float32 or float64 file, as integrad or save_safetensors wrote it;
    each tensor keeps the file's dtype."""
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    state = {}
    for name, info in header.items():
        dtype = {"F32": "<f4", "F64": "<f8"}[info["dtype"]]
        a, b = info["data_offsets"]
        state[name] = torch.from_numpy(np.frombuffer(data[8 + n + a:8 + n + b], dtype=dtype).reshape(info["shape"]).copy())
    return state, meta
