"""Checks that safetensors and plain NumPy read a larch state checkpoint exactly.

    npx tsx scripts/write_sample_checkpoint.ts out/sample.safetensors
    /work/venv-st/bin/python scripts/check_safetensors.py out/sample.safetensors

Compares every tensor (dtype, shape, every value's IEEE-754 bits) against out/sample.expected.json,
read three ways: safetensors.numpy.load_file, safetensors.safe_open (plus the metadata), and NumPy
alone from the documented layout. Prints one line per check and exits non-zero on any mismatch.
"""
import json
import struct
import sys
import zlib

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file

path = sys.argv[1] if len(sys.argv) > 1 else "out/sample.safetensors"
expected = json.load(open(path[: -len(".safetensors")] + ".expected.json"))
failures = []


def bits(array):
    """Row-major IEEE-754 bit patterns of an array, as hex strings."""
    unsigned = np.uint32 if array.dtype == np.float32 else np.uint64
    width = 8 if array.dtype == np.float32 else 16
    return [format(int(b), "0%dx" % width) for b in np.ascontiguousarray(array).view(unsigned).reshape(-1)]


def compare(how, tensors):
    if sorted(tensors) != sorted(expected):
        failures.append("%s: tensor names %s != %s" % (how, sorted(tensors), sorted(expected)))
        return
    for name, want in expected.items():
        got = tensors[name]
        if str(got.dtype) != want["dtype"] or list(got.shape) != want["shape"] or bits(got) != want["bits"]:
            failures.append("%s: %s differs (%s %s)" % (how, name, got.dtype, list(got.shape)))
    print("%-28s %d tensors, dtypes/shapes/bits %s" % (how, len(tensors), "ok" if not failures else "MISMATCH"))


compare("safetensors load_file", load_file(path))

with safe_open(path, framework="np") as f:
    compare("safetensors safe_open", {k: f.get_tensor(k) for k in f.keys()})
    meta = f.metadata()
print("metadata keys:", sorted(meta))
print("format:", meta["larch.format"], "| meta:", meta["larch.meta"])
structure = json.loads(meta["larch.structure"])
print("structure parses as JSON:", type(structure).__name__, "of", len(structure))

raw = open(path, "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8 : 8 + n])
start = 8 + n
by_numpy = {}
for name, info in header.items():
    if name == "__metadata__":
        continue
    dtype = {"F32": "<f4", "F64": "<f8"}[info["dtype"]]
    begin, end = info["data_offsets"]
    if info["dtype"] == "F64" and (start + begin) % 8:
        failures.append("numpy: %s is not 8-byte aligned" % name)
    by_numpy[name] = np.frombuffer(raw, dtype=dtype, count=(end - begin) // np.dtype(dtype).itemsize, offset=start + begin).reshape(info["shape"])
compare("numpy from the layout", by_numpy)

# the checksum as documented: CRC-32 of every byte but its own 8 hex digits, at byte 8 + len(opening)
at = 8 + len('{"__metadata__":{"larch.crc32":"')
computed = format(zlib.crc32(raw[:at] + raw[at + 8 :]), "08x")
print("crc32 stored %s, zlib computes %s: %s" % (meta["larch.crc32"], computed, "ok" if computed == meta["larch.crc32"] else "MISMATCH"))
if computed != meta["larch.crc32"]:
    failures.append("checksum differs")

if failures:
    print("\n".join(failures))
    sys.exit(1)
print("all checks passed (safetensors %s, numpy %s)" % (__import__("safetensors").__version__, np.__version__))
