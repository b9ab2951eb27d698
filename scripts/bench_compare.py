#!/usr/bin/env python3
"""Runs Neurone's benchmarks and the same work in NumPy (and PyTorch when installed) side by
side, in one run, and prints ratios. Build first: swift build -c release

    python3 scripts/bench_compare.py [--sizes 256 1024 2048] [--threads 1 2] [--repeats 7]

Each library runs in its own subprocess with its thread count fixed through the environment
(NEURONE_NUM_THREADS, OPENBLAS_NUM_THREADS/OMP_NUM_THREADS, torch.set_num_threads), and the
configurations are interleaved so that machine noise hits all of them alike. Times are medians.
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NEURONE = os.path.join(ROOT, ".build", "release", "neurone")

PY_GEMM = r"""
import os, sys, time, json
import numpy as np
n, reps, lib = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(0)
a = rng.standard_normal((n, n), dtype=np.float32); b = rng.standard_normal((n, n), dtype=np.float32)
if lib == "torch":
    import torch
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    a = torch.from_numpy(a); b = torch.from_numpy(b)
    f = lambda: torch.matmul(a, b)
else:
    f = lambda: a @ b
for _ in range(2): f()
ts = []
for _ in range(max(reps, 50 if n <= 256 else reps)):
    t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
ts.sort(); med = ts[len(ts) // 2]
print(json.dumps({"gflops": 2 * n ** 3 / med / 1e9}))
"""

PY_OPS = r"""
import os, sys, time, json
import numpy as np
count, reps, lib = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(1)
x = rng.standard_normal(count, dtype=np.float32); y = rng.standard_normal(count, dtype=np.float32)
def med(f, reps=reps, warm=2):
    for _ in range(warm): f()
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    ts.sort(); return ts[len(ts) // 2]
B = count * 4
out = {}
if lib == "torch":
    import torch
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    with torch.no_grad():
        out["copy"] = 2 * B / med(lambda: tx.clone()) / 1e9
        out["add"] = 3 * B / med(lambda: tx + ty) / 1e9
        out["relu"] = 2 * B / med(lambda: torch.relu(tx)) / 1e9
        out["sigmoid"] = 2 * B / med(lambda: torch.sigmoid(tx)) / 1e9
        out["sum"] = B / med(lambda: tx.sum()) / 1e9
    g = torch.Generator().manual_seed(0)
    w = torch.randn(16, generator=g, requires_grad=True); b = torch.randn(16, generator=g, requires_grad=True)
    xs = torch.randn(16, generator=g)
    def step():
        o = (torch.sigmoid(torch.relu(xs * w + b)) * 2.0).sum()
        o.backward(); w.grad = None; b.grad = None
    out["small_chain_us_per_op"] = med(step, reps=2000, warm=200) / 6 * 1e6
else:
    dst = np.empty_like(x)
    np.copyto(dst, x)
    # The machine's copy bandwidth: memcpy into memory that is already mapped (no page faults).
    out["machine_copy"] = 2 * B / med(lambda: np.copyto(dst, x)) / 1e9
    out["copy"] = 2 * B / med(lambda: x.copy()) / 1e9
    out["add"] = 3 * B / med(lambda: x + y) / 1e9
    out["relu"] = 2 * B / med(lambda: np.maximum(x, 0)) / 1e9
    out["sigmoid"] = 2 * B / med(lambda: 1 / (1 + np.exp(-x))) / 1e9
    out["sum"] = B / med(lambda: x.sum()) / 1e9
print(json.dumps(out))
"""


PY_LAYERS = r"""
import os, sys, time, json
import torch
torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
torch.manual_seed(0)
n, reps = int(sys.argv[1]), int(sys.argv[2])
# The same layers and shapes as `neurone bench layers`; the first layer's input needs no gradient.
cases = [("conv1 1→32 3×3 on 28×28", torch.nn.Conv2d(1, 32, 3), (n, 1, 28, 28), False),
         ("conv2 32→64 3×3 on 26×26", torch.nn.Conv2d(32, 64, 3), (n, 32, 26, 26), True),
         ("maxpool 2×2 on 64×24×24", torch.nn.MaxPool2d(2), (n, 64, 24, 24), True),
         ("fc1 9216→128", torch.nn.Linear(9216, 128), (n, 9216), True),
         ("fc2 128→10", torch.nn.Linear(128, 10), (n, 128), True)]
out = {}
for name, m, shape, ig in cases:
    x = torch.randn(*shape, requires_grad=ig)
    g = torch.randn_like(m(x))
    def step():
        y = m(x); y.backward(g); x.grad = None; m.zero_grad()
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 0.1:
        step()
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); step(); ts.append(time.perf_counter() - t)
    ts.sort(); out[name] = ts[len(ts) // 2] * 1e3
print(json.dumps(out))
"""


def env_for(threads):
    e = dict(os.environ)
    for k in ("NEURONE_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        e[k] = str(threads)
    e["NEURONE_QUIET"] = "1"
    return e


def run_json_lines(cmd, env):
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def have_torch():
    return subprocess.run([sys.executable, "-c", "import torch"], capture_output=True).returncode == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 1024, 2048])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds per configuration; the table shows the median round")
    ap.add_argument("--count", type=int, default=10_000_000, help="elements for the elementwise tests")
    ap.add_argument("--skip-ops", action="store_true")
    ap.add_argument("--skip-gemm", action="store_true")
    ap.add_argument("--layers", action="store_true", help="also time the mnist-cnn layers (forward + backward, batch 64) against PyTorch")
    ap.add_argument("--only-layers", action="store_true", help="time only the layers")
    args = ap.parse_args()
    if not os.path.exists(NEURONE):
        sys.exit(f"{NEURONE} not found: run `swift build -c release` first")
    torch = have_torch()
    libs = ["numpy"] + (["torch"] if torch else [])
    print(f"# NumPy {subprocess.run([sys.executable, '-c', 'import numpy; print(numpy.__version__)'], capture_output=True, text=True).stdout.strip()}"
          + (", PyTorch installed" if torch else ", PyTorch not installed"))
    if args.only_layers:
        args.skip_gemm = args.skip_ops = True
        args.layers = True
    if args.layers:
        layers(args, torch)
    if args.skip_gemm:
        if not args.skip_ops:
            ops(args, libs, torch)
        return
    print("\n## GEMM float32 N×N×N, GFLOP/s (median), ratio = Neurone / NumPy")
    print("| N | threads | NumPy | " + ("PyTorch | " if torch else "") + "Neurone BLAS | Neurone built-in | BLAS ratio | built-in ratio |")
    print("|---|---|---|" + ("---|" if torch else "") + "---|---|---|---|")
    for n in args.sizes:
        for t in args.threads:
            env = env_for(t)
            samples = {k: [] for k in libs + ["blas", "builtin"]}
            for _ in range(args.rounds):
                for lib in libs:
                    samples[lib].append(json.loads(subprocess.run([sys.executable, "-c", PY_GEMM, str(n), str(args.repeats), lib], env=env,
                                                                  check=True, capture_output=True, text=True).stdout)["gflops"])
                for backend in ("blas", "builtin"):
                    try:
                        r = run_json_lines([NEURONE, "bench", "gemm", "--size", str(n), "--threads", str(t), "--backend", backend,
                                            "--repeats", str(args.repeats), "--json"], env)
                        samples[backend].append(r[0]["gflops"])
                    except subprocess.CalledProcessError:
                        samples[backend].append(float("nan"))
            med = {k: sorted(v)[len(v) // 2] for k, v in samples.items()}
            ref = {lib: med[lib] for lib in libs}
            res = {"blas": med["blas"], "builtin": med["builtin"]}
            row = f"| {n} | {t} | {ref['numpy']:.1f} | " + (f"{ref['torch']:.1f} | " if torch else "")
            row += f"{res['blas']:.1f} | {res['builtin']:.1f} | {res['blas'] / ref['numpy']:.2f} | {res['builtin'] / ref['numpy']:.2f} |"
            print(row, flush=True)
    if args.skip_ops:
        return
    ops(args, libs, torch)


def layers(args, torch):
    if not torch:
        print("\n(layers: PyTorch is not installed; pip install torch)")
        return
    print("\n## mnist-cnn layers, forward + backward, batch 64, ms (median of rounds); ratio = PyTorch time / Neurone time")
    for t in args.threads:
        env = env_for(t)
        samples_ours, samples_torch = {}, {}
        for _ in range(args.rounds):
            ref = json.loads(subprocess.run([sys.executable, "-c", PY_LAYERS, "64", "20"], env=env, check=True, capture_output=True, text=True).stdout)
            for k, v in ref.items():
                samples_torch.setdefault(k, []).append(v)
            for r in run_json_lines([NEURONE, "bench", "layers", "--threads", str(t), "--json"], env):
                samples_ours.setdefault(r["layer"], []).append(r["ms"])
        print(f"\n### {t} thread(s)")
        print("| layer | Neurone ms | PyTorch ms | speed vs PyTorch |")
        print("|---|---|---|---|")
        for name in samples_ours:
            a = sorted(samples_ours[name])[len(samples_ours[name]) // 2]
            b = sorted(samples_torch[name])[len(samples_torch[name]) // 2]
            print(f"| {name} | {a:.2f} | {b:.2f} | {b / a:.2f}× |", flush=True)


def ops(args, libs, torch):
    print(f"\n## Elementwise and reductions over {args.count:,} float32, GB/s (median); small-tensor chain µs/op")
    for t in args.threads:
        env = env_for(t)
        ref = {lib: json.loads(subprocess.run([sys.executable, "-c", PY_OPS, str(args.count), "15", lib], env=env,
                                              check=True, capture_output=True, text=True).stdout) for lib in libs}
        ours = {r["op"]: r for r in run_json_lines([NEURONE, "bench", "ops", "--count", str(args.count), "--threads", str(t), "--json"], env)}
        machine = ref["numpy"]["machine_copy"]
        print(f"\n### {t} thread(s); machine copy bandwidth (NumPy copyto into a mapped array): {machine:.1f} GB/s")
        print("| op | Neurone GB/s | × Neurone copy | × NumPy copyto | NumPy GB/s | " + ("PyTorch GB/s | " if torch else "") + "Neurone / NumPy |")
        print("|---|---|---|---|---|" + ("---|" if torch else "") + "---|")
        for op in ("copy", "add", "relu", "sigmoid", "sum"):
            row = f"| {op} | {ours[op]['gbps']:.1f} | {ours[op]['vs_copy']:.2f} | {ours[op]['gbps'] / machine:.2f} | {ref['numpy'][op]:.1f} | "
            if torch:
                row += f"{ref['torch'][op]:.1f} | "
            row += f"{ours[op]['gbps'] / ref['numpy'][op]:.2f} |"
            print(row)
        chain = ours["small_chain"]["us_per_op"]
        line = f"\nsmall-tensor chain (6 ops on [16], forward + backward): Neurone {chain:.2f} µs/op"
        if torch:
            tc = ref["torch"]["small_chain_us_per_op"]
            line += f", PyTorch {tc:.2f} µs/op (Neurone/PyTorch time ratio {chain / tc:.2f})"
        print(line)


if __name__ == "__main__":
    main()
