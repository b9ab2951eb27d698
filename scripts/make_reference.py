#!/usr/bin/env python3
"""Writes Tests/NeuroneTests/Reference/tensor_ops.json: inputs and expected outputs of
Neurone's tensor ops, computed with NumPy (and PyTorch for ops whose PyTorch semantics
differ from NumPy's, when torch is installed). CI reads the committed file; it does not
need NumPy or PyTorch.

    python3 scripts/make_reference.py

Each case: {"name", "op", "inputs": [tensor...], "args": {...}, "outputs": [tensor...]}
with tensor = {"shape": [...], "dtype": "float32|float64|int64|bool", "data": [...]}.
It also records the first values of Neurone's documented random generator
(SplitMix64-seeded xoshiro256**), re-implemented here independently.
"""
import json
import math
import os

import numpy as np

rng = np.random.default_rng(20261125)
cases = []


def T(a):
    a = np.asarray(a)
    if a.dtype == np.bool_:
        dt, data = "bool", [bool(v) for v in a.reshape(-1)]
    elif a.dtype == np.int64 or a.dtype == np.int32:
        dt, data = "int64", [int(v) for v in a.reshape(-1)]
    else:
        dt = "float64" if a.dtype == np.float64 else "float32"
        data = []
        digits = ".17g" if dt == "float64" else ".9g"  # enough to round-trip each dtype exactly
        for v in a.reshape(-1).astype(np.float64):
            if math.isnan(v):
                data.append("nan")
            elif math.isinf(v):
                data.append("inf" if v > 0 else "-inf")
            else:
                data.append(float(format(v, digits)))
    return {"shape": list(a.shape), "dtype": dt, "data": data}


def case(name, op, inputs, outputs, **args):
    cases.append({"name": name, "op": op, "inputs": [T(i) for i in inputs],
                  "args": args, "outputs": [T(o) for o in outputs]})


def rand(*shape, dtype=np.float32, lo=-2.0, hi=2.0):
    return rng.uniform(lo, hi, size=shape).astype(dtype)


# ---- binary ops with broadcasting -------------------------------------------------------
shapes = [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 5)), ((2, 1, 4), (3, 1)), ((5,), ()), ((4, 20), (20,))]
for sa, sb in shapes:
    for dt in (np.float32, np.float64):
        a, b = rand(*sa, dtype=dt), rand(*sb, dtype=dt)
        tag = f"{sa}x{sb}-{np.dtype(dt).name}"
        case(f"add {tag}", "add", [a, b], [a + b])
        case(f"sub {tag}", "sub", [a, b], [a - b])
        case(f"mul {tag}", "mul", [a, b], [a * b])
        bb = np.where(np.abs(b) < 0.3, np.asarray(0.5, dtype=dt), b).astype(dt)
        case(f"div {tag}", "div", [a, bb], [a / bb])
        case(f"minimum {tag}", "minimum", [a, b], [np.minimum(a, b)])
        case(f"maximum {tag}", "maximum", [a, b], [np.maximum(a, b)])
        case(f"lt {tag}", "lt", [a, b], [a < b])
        case(f"eq {tag}", "eq", [a, a], [a == a])
pa = rand(3, 4, lo=0.1, hi=3.0)
pb = rand(3, 4, lo=-2, hi=2)
case("pow tensor", "pow", [pa, pb], [np.power(pa, pb)])
x = rand(2, 5)
case("pow scalar 3", "pow_scalar", [x], [np.power(x, np.float32(3.0))], p=3.0)
x = rand(2, 5, lo=0.1, hi=4)
case("pow scalar 0.5", "pow_scalar", [x], [np.power(x, np.float32(0.5))], p=0.5)
xi = np.arange(12, dtype=np.int64).reshape(3, 4)
case("int add", "add", [xi, xi[0]], [xi + xi[0]])
case("int div promotes", "div", [xi, np.full((4,), 4, dtype=np.int64)], [(xi / 4).astype(np.float32)])
f = rand(4)
case("int float promotes", "add", [xi, f], [xi.astype(np.float32) + f])

# ---- unary ---------------------------------------------------------------------------------
for dt in (np.float32, np.float64):
    n = np.dtype(dt).name
    x = rand(3, 7, dtype=dt, lo=-6, hi=6)
    pos = rand(3, 7, dtype=dt, lo=0.05, hi=8)
    case(f"neg {n}", "neg", [x], [-x])
    case(f"abs {n}", "abs", [x], [np.abs(x)])
    case(f"sqrt {n}", "sqrt", [pos], [np.sqrt(pos)])
    case(f"exp {n}", "exp", [x], [np.exp(x)])
    case(f"log {n}", "log", [pos], [np.log(pos)])
    case(f"log1p {n}", "log1p", [pos], [np.log1p(pos)])
    case(f"sin {n}", "sin", [x], [np.sin(x)])
    case(f"cos {n}", "cos", [x], [np.cos(x)])
    case(f"tanh {n}", "tanh", [x], [np.tanh(x)])
    case(f"sigmoid {n}", "sigmoid", [x], [(1 / (1 + np.exp(-x.astype(np.float64)))).astype(dt)])
    case(f"relu {n}", "relu", [x], [np.maximum(x, 0)])
    case(f"sign {n}", "sign", [x], [np.sign(x)])
    case(f"clamp {n}", "clamp", [x], [np.clip(x, -1.5, 2.0)], min=-1.5, max=2.0)
# wide-range float32 transcendentals (vectorised kernels), including extremes
wide = np.concatenate([np.linspace(-100, 100, 2001, dtype=np.float32),
                       np.array([0.0, -0.0, 1e-6, -1e-6, 88.0, -87.0, 0.3, -0.3, 0.6, 0.65], dtype=np.float32)])
w64 = wide.astype(np.float64)
with np.errstate(over="ignore"):
    case("exp wide float32", "exp", [wide], [np.exp(w64).astype(np.float32)])
case("sigmoid wide float32", "sigmoid", [wide], [(1 / (1 + np.exp(-w64))).astype(np.float32)])
case("tanh wide float32", "tanh", [wide], [np.tanh(w64).astype(np.float32)])

# ---- reductions -------------------------------------------------------------------------
x = rand(3, 4, 5)
x64 = x.astype(np.float64)
for dims in ([0], [1], [2], [0, 2], [1, 2], [0, 1, 2]):
    for keep in (False, True):
        t = tuple(dims)
        case(f"sum {dims} keep={keep}", "sum", [x], [x64.sum(axis=t, keepdims=keep).astype(np.float32)], dims=dims, keepdim=keep)
        case(f"mean {dims} keep={keep}", "mean", [x], [x64.mean(axis=t, keepdims=keep).astype(np.float32)], dims=dims, keepdim=keep)
        case(f"var {dims} keep={keep}", "var", [x], [x64.var(axis=t, ddof=1, keepdims=keep).astype(np.float32)], dims=dims, keepdim=keep)
        case(f"std {dims} keep={keep}", "std", [x], [x64.std(axis=t, ddof=1, keepdims=keep).astype(np.float32)], dims=dims, keepdim=keep)
        m = x64.max(axis=t, keepdims=True)
        lse = (np.log(np.exp(x64 - m).sum(axis=t, keepdims=True)) + m)
        if not keep:
            lse = lse.squeeze(axis=t)
        case(f"logsumexp {dims} keep={keep}", "logsumexp", [x], [lse.astype(np.float32)], dims=dims, keepdim=keep)
        case(f"norm2 {dims} keep={keep}", "norm", [x], [np.sqrt((x64 ** 2).sum(axis=t, keepdims=keep)).astype(np.float32)], dims=dims, keepdim=keep, p=2.0)
for d in (0, 1, 2):
    for keep in (False, True):
        case(f"max dim {d} keep={keep}", "max_dim", [x], [x.max(axis=d, keepdims=keep), x.argmax(axis=d, keepdims=keep).astype(np.int64)], dim=d, keepdim=keep)
        case(f"min dim {d} keep={keep}", "min_dim", [x], [x.min(axis=d, keepdims=keep), x.argmin(axis=d, keepdims=keep).astype(np.int64)], dim=d, keepdim=keep)
case("max all", "max_all", [x], [np.asarray(x.max())])
case("argmax all", "argmax_all", [x], [np.asarray(x.argmax(), dtype=np.int64)])
case("norm1 all", "norm", [x], [np.asarray(np.abs(x64).sum(), dtype=np.float32)], p=1.0)
case("norm3 all", "norm", [x], [np.asarray((np.abs(x64) ** 3).sum() ** (1 / 3), dtype=np.float32)], p=3.0)
xi = rng.integers(-50, 50, size=(4, 6)).astype(np.int64)
case("sum int64", "sum", [xi], [xi.sum(axis=1)], dims=[1], keepdim=False)

# ---- matmul -------------------------------------------------------------------------------
for sa, sb in [((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 5)), ((3, 4), (4, 5)), ((2, 3, 4), (4, 5)),
               ((2, 3, 4), (2, 4, 5)), ((2, 1, 3, 4), (3, 4, 2)), ((5,), (2, 5, 3)), ((37, 70), (70, 45))]:
    for dt in (np.float32, np.float64):
        a, b = rand(*sa, dtype=dt), rand(*sb, dtype=dt)
        r = np.matmul(a.astype(np.float64), b.astype(np.float64)).astype(dt)
        case(f"matmul {sa}@{sb} {np.dtype(dt).name}", "matmul", [a, b], [r])
a, b = rand(6, 5), rand(7, 6)
case("matmul transposed views", "matmul_tt", [a, b], [(a.T.astype(np.float64) @ b.T.astype(np.float64)).astype(np.float32)])

# ---- joining, views ------------------------------------------------------------------------
a, b, c = rand(2, 3), rand(2, 1), rand(2, 4)
case("cat dim1", "cat", [a, b, c], [np.concatenate([a, b, c], axis=1)], dim=1)
a2 = rand(4, 3)
case("cat dim0", "cat", [a, a2], [np.concatenate([a, a2], axis=0)], dim=0)
s1, s2 = rand(2, 3), rand(2, 3)
for d in (0, 1, 2, -1):
    case(f"stack dim{d}", "stack", [s1, s2], [np.stack([s1, s2], axis=d)], dim=d)
x = rand(4, 6, 5)
case("permute", "permute", [x], [np.ascontiguousarray(np.transpose(x, (2, 0, 1)))], dims=[2, 0, 1])
case("slice step", "slice", [x], [np.ascontiguousarray(x[:, 1:6:2, ::3])])
y = rand(7, 2)
case("chunk 3", "chunk", [y], list(np.array_split(y, [3, 6], axis=0)), chunks=3, dim=0)

# ---- indexing ------------------------------------------------------------------------------
x = rand(3, 5)
idx = rng.integers(0, 5, size=(3, 4)).astype(np.int64)
case("gather dim1", "gather", [x, idx], [np.take_along_axis(x, idx, axis=1)], dim=1)
idx0 = rng.integers(0, 3, size=(2, 5)).astype(np.int64)
case("gather dim0", "gather", [x, idx0], [np.take_along_axis(x, idx0, axis=0)], dim=0)
src = rand(3, 4)
out = x.copy()
for i in range(3):
    for j in range(4):
        out[i, idx[i, j]] += src[i, j]
case("scatter_add dim1", "scatter_add", [x, idx, src], [out], dim=1)
sel = np.array([4, 0, 0, 2], dtype=np.int64)
case("index_select dim1", "index_select", [x, sel], [x[:, sel]], dim=1)
case("index_select dim0", "index_select", [x, np.array([2, 1], dtype=np.int64)], [x[[2, 1]]], dim=0)
cls = np.array([[0, 3], [2, 1]], dtype=np.int64)
case("one_hot", "one_hot", [cls], [np.eye(4, dtype=np.int64)[cls]], num_classes=4)
x = rand(2, 3, 4)
case("pad last two", "pad", [x], [np.pad(x, ((0, 0), (2, 1), (1, 0)), constant_values=0.5)], pads=[1, 0, 2, 1], value=0.5)
cnd = rand(3, 4) > 0
a, b = rand(3, 4), rand(4)
case("where", "where", [cnd, a, b], [np.where(cnd, a, b)])
case("masked_fill", "masked_fill", [a, cnd], [np.where(cnd, np.float32(-9.0), a)], value=-9.0)


# ---- the random generator -----------------------------------------------------------------
M64 = (1 << 64) - 1


def splitmix(state):
    state = (state + 0x9E3779B97F4A7C15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return state, z ^ (z >> 31)


def xoshiro(seed):
    s = []
    st = seed
    for _ in range(4):
        st, v = splitmix(st)
        s.append(v)
    rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & M64
    while True:
        result = (rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        yield result


g = xoshiro(42)
u64 = [next(g) for _ in range(4)]
g = xoshiro(42)
floats = [float(np.float32((next(g) >> 40) * 2.0 ** -24)) for _ in range(4)]
g = xoshiro(42)
normals = []
for _ in range(2):
    u1 = (next(g) >> 11) * 2.0 ** -53
    u2 = (next(g) >> 11) * 2.0 ** -53
    r = math.sqrt(-2 * math.log(1 - u1))
    normals += [r * math.cos(2 * math.pi * u2), r * math.sin(2 * math.pi * u2)]
random_ref = {"seed": 42, "uint64": [str(v) for v in u64], "float32": floats, "normal_float64": normals}

here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(here, "..", "Tests", "NeuroneTests", "Reference", "tensor_ops.json")
with open(path, "w") as fh:
    json.dump({"generator": "scripts/make_reference.py", "numpy": np.__version__, "random": random_ref, "cases": cases}, fh, separators=(",", ":"))
print(f"wrote {len(cases)} cases to {os.path.relpath(path)}")
