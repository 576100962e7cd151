# safetensors.torch stand-in: a small reader of the safetensors format (8-byte little-endian header length, JSON
# header, raw little-endian tensors) with numpy; enough for the fixture's float32 weight files.
import json

import numpy as np
import torch

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}


def load_file(path, device="cpu"):
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        arr = np.frombuffer(data[start:end], dtype=_DTYPES[info["dtype"]]).reshape(info["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out


def save_file(tensors, path, metadata=None):
    header, chunks, offset = {}, [], 0
    names = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}
    for name, t in tensors.items():
        a = np.ascontiguousarray(t.detach().cpu().numpy())
        b = a.tobytes()
        header[name] = {"dtype": names[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for c in chunks:
            f.write(c)


def safe_open(*a, **k):
    raise NotImplementedError("safetensors shim: safe_open is not implemented")
