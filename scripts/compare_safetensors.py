#!/usr/bin/env python3
"""Compares the tensors of two safetensors files (standard library only).

usage: compare_safetensors.py A B [--max-relative R] [--identical]

For each tensor: max |a - b| / max |b| (the difference relative to the tensor's largest
magnitude). Exits 1 when the names, shapes or dtypes differ, when a difference exceeds R
(default 1e-6), or with --identical when any byte differs.
"""
import json
import struct
import sys

FORMATS = {"F32": ("f", 4), "F64": ("d", 8), "I64": ("q", 8)}


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        code, size = FORMATS[info["dtype"]]
        start, end = info["data_offsets"]
        raw = data[8 + n + start:8 + n + end]
        out[name] = (info["dtype"], tuple(info["shape"]), raw, struct.unpack("<%d%s" % (len(raw) // size, code), raw))
    return out


def main():
    args = sys.argv[1:]
    limit, identical = 1e-6, False
    if "--identical" in args:
        identical = True
        args.remove("--identical")
    if "--max-relative" in args:
        i = args.index("--max-relative")
        limit = float(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    a, b = read(args[0]), read(args[1])
    if sorted(a) != sorted(b):
        sys.exit("the tensor names differ: %s vs %s" % (sorted(a), sorted(b)))
    worst, failed = 0.0, False
    for name in sorted(a):
        (da, sa, ra, va), (db, sb, rb, vb) = a[name], b[name]
        if (da, sa) != (db, sb):
            print("%s: %s %s vs %s %s" % (name, da, sa, db, sb))
            failed = True
            continue
        scale = max((abs(x) for x in vb), default=0.0) or 1.0
        d = max((abs(x - y) for x, y in zip(va, vb)), default=0.0) / scale
        worst = max(worst, d)
        same = ra == rb
        print("%-24s %s %-14s max relative difference %.3g%s" % (name, da, list(sa), d, "  (identical)" if same else ""))
        if identical and not same:
            failed = True
    print("largest: %.3g (limit %s%s)" % (worst, limit, ", identical bytes required" if identical else ""))
    if failed or worst > limit:
        sys.exit(1)


if __name__ == "__main__":
    main()
