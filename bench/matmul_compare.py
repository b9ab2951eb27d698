#!/usr/bin/env python3
"""Float32 matrix products: `neurone bench gemm` against NumPy's and PyTorch's matmul on the same
shapes and thread counts, alternating the three for several rounds (medians of each), and the
ratio of Neurone to the better of the two. Shapes are MxNxK[:nn|nt|tn|tt] as in `neurone bench
gemm --shape` (nt: B stored [N, K] and used transposed, as a Linear layer's weight).

    swift build -c release && pip install torch numpy
    bench/matmul_compare.py [--shapes 2048x2048x2048 64x1000x784:nt ...] [--threads 1 2] [--rounds 3]
                            [--backend blas|builtin] [--json]

The default shapes are 2048³ and the products of the training benchmarks: the mlp's first layer
(forward at batch 64 and 256, its weight gradient), the mnist-cnn's dense layer (forward, input
and weight gradients at batch 64) and its conv2 as one product over 8 samples, and the attention
model's packed projection over 64·28 tokens. NumPy's threads are set with OPENBLAS_NUM_THREADS
(and OMP/MKL) in a process per thread count; PyTorch's with torch.set_num_threads.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NEURONE = os.path.join(ROOT, ".build", "release", "neurone")

DEFAULT_SHAPES = ["2048x2048x2048",
                  "64x1000x784:nt", "256x1000x784:nt", "1000x784x64:tn", "1000x784x256:tn",
                  "64x128x9216:nt", "64x9216x128:nn", "128x9216x64:tn",
                  "64x4608x288:nn",
                  "1792x192x64:nt"]

# Times one library's matmul on the shapes given as JSON on argv[2], with argv[1] threads.
PY_TIMER = r"""
import json, sys, time, statistics
lib, threads, shapes, repeats = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]), int(sys.argv[4])
if lib == "torch":
    import torch
    torch.set_num_threads(threads)
    def make(shape, g): return torch.randn(*shape, generator=g, dtype=torch.float32)
    g = torch.Generator().manual_seed(42)
    mm = torch.matmul
else:
    import numpy as np
    rng = np.random.default_rng(42)
    def make(shape, g): return rng.standard_normal(shape, dtype=np.float32)
    g = None
    mm = np.matmul
for s in shapes:
    m, n, k, ta, tb = s
    a = make([k, m] if ta else [m, k], g); b = make([n, k] if tb else [k, n], g)
    av = a.T if ta else a; bv = b.T if tb else b
    flops = 2.0 * m * n * k
    reps = max(repeats, 50) if flops <= 2 * 256 ** 3 else repeats
    for _ in range(2): mm(av, bv)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter(); mm(av, bv); times.append(time.perf_counter() - t0)
    print(json.dumps({"shape": s, "gflops": flops / statistics.median(times) / 1e9}))
"""


def parse(shape):
    dims, _, t = shape.partition(":")
    m, n, k = (int(x) for x in dims.split("x"))
    t = t or "nn"
    return [m, n, k, t[0] == "t", t[1] == "t"]


def run_neurone(shapes, threads, repeats, backend):
    cmd = [NEURONE, "bench", "gemm", "--threads", str(threads), "--repeats", str(repeats), "--json"]
    for s in shapes:
        cmd += ["--shape", s]
    if backend:
        cmd += ["--backend", backend]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=dict(os.environ, NEURONE_QUIET="1")).stdout
    rows = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    return [(r["gflops"], r["backend"]) for r in rows]


def run_python(lib, shapes, threads, repeats):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    out = subprocess.run([sys.executable, "-c", PY_TIMER, lib, str(threads), json.dumps([parse(s) for s in shapes]), str(repeats)],
                         check=True, capture_output=True, text=True, env=env).stdout
    return [json.loads(l)["gflops"] for l in out.splitlines() if l.startswith("{")]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shapes", nargs="+", default=DEFAULT_SHAPES)
    ap.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--backend", choices=["blas", "builtin"], help="force Neurone's path (default: the BLAS check's choice per class)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if not os.path.exists(NEURONE):
        sys.exit("build first: swift build -c release")
    for s in a.shapes:
        parse(s)
    if not a.json:
        print(f"{'shape':18} {'thr':>3} {'Neurone':>9} {'path':>8} {'NumPy':>9} {'PyTorch':>9} {'ratio':>6}   (GFLOP/s, medians of {a.rounds} rounds)")
    for t in a.threads:
        ours, paths, np_, th = [[] for _ in a.shapes], [None] * len(a.shapes), [[] for _ in a.shapes], [[] for _ in a.shapes]
        for _ in range(a.rounds):
            for i, (g, p) in enumerate(run_neurone(a.shapes, t, a.repeats, a.backend)):
                ours[i].append(g)
                paths[i] = p
            for i, g in enumerate(run_python("numpy", a.shapes, t, a.repeats)):
                np_[i].append(g)
            for i, g in enumerate(run_python("torch", a.shapes, t, a.repeats)):
                th[i].append(g)
        for i, s in enumerate(a.shapes):
            n, p, q = statistics.median(ours[i]), statistics.median(np_[i]), statistics.median(th[i])
            ratio = n / max(p, q)
            row = {"shape": s, "threads": t, "neurone_gflops": round(n, 1), "neurone_path": paths[i], "numpy_gflops": round(p, 1),
                   "torch_gflops": round(q, 1), "ratio_to_best": round(ratio, 3), "rounds": a.rounds}
            if a.json:
                print(json.dumps(row))
            else:
                print(f"{s:18} {t:>3} {n:>9.1f} {paths[i]:>8} {p:>9.1f} {q:>9.1f} {ratio:>5.2f}×")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
