"""The safetensors format written by hand for the fixture scripts (no safetensors package in
Debian 12): 8-byte little-endian header length, a JSON header, raw data."""
import json
import struct

import torch


def save_safetensors(path, state, metadata, dtype):
    """The safetensors format by hand (8-byte LE header length, JSON header, raw data), as
    safetensors.torch.save_file writes it."""
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, t in state.items():
        data = t.detach().to(dtype).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F64" if dtype == torch.float64 else "F32", "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
