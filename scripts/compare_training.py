#!/usr/bin/env python3
"""Trains the same recipes in PyTorch and in Neurone on Fashion-MNIST (or MNIST) and prints test
accuracy and training throughput side by side. Needs the IDX files (Debian: dataset-fashion-mnist)
and `swift build -c release`.

    python3 scripts/compare_training.py [--dataset fashion-mnist] [--epochs 3] [--threads 2] [--seeds N] [--recipes mlp-sgd mnist-cnn-adadelta]

Recipes (batch 64, full training set, no validation split):
  mlp-sgd             mlp (784-1000-10, ReLU), SGD lr 0.01 momentum 0.9
  mnist-cnn-adadelta  the PyTorch MNIST example: Adadelta lr 1.0, learning rate ×0.7 after each epoch
Weights are initialised differently in the two frameworks (same distributions), so accuracies are
compared, not bit-identical runs.
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NEURONE = os.path.join(ROOT, ".build", "release", "neurone")


def read_idx(path):
    for p in (path + ".gz", path):
        if os.path.exists(p):
            data = gzip.open(p).read() if p.endswith(".gz") else open(p, "rb").read()
            ndim = data[3]
            shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
            return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)
    sys.exit(f"missing {path}[.gz]")


def _reference_models():
    """bench/torch_reference.py holds the PyTorch versions of Neurone's named models."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("torch_reference", os.path.join(ROOT, "bench", "torch_reference.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MnistNet = _reference_models().MnistCNN  # PyTorch's examples/mnist/main.py network


def torch_run(recipe, data, epochs, threads, seed=0):
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    (xtr, ytr), (xte, yte) = data
    if recipe == "mlp-sgd":
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 1000), nn.ReLU(), nn.Linear(1000, 10))
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        sched = None
        lossf = F.cross_entropy
    else:
        model = MnistNet()
        opt = torch.optim.Adadelta(model.parameters(), lr=1.0)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
        lossf = F.nll_loss
    train_seconds = 0.0
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(len(xtr))
        t0 = time.perf_counter()
        for i in range(0, len(xtr), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            loss = lossf(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
        train_seconds += time.perf_counter() - t0
        if sched:
            sched.step()
    model.eval()
    with torch.no_grad():
        correct = sum(int((model(xte[i:i + 1000]).argmax(1) == yte[i:i + 1000]).sum()) for i in range(0, len(xte), 1000))
    return correct / len(xte), len(xtr) * epochs / train_seconds


def neurone_run(recipe, dataset, epochs, threads, seed=0):
    args = [NEURONE, "train", "--dataset", dataset, "--epochs", str(epochs), "--batch-size", "64", "--val-split", "0", "--seed", str(seed),
            "--threads", str(threads), "--out", "/tmp/neurone-compare-" + recipe, "--json"]
    if recipe == "mlp-sgd":
        args += ["--model", "mlp", "--optimizer", "sgd", "--lr", "0.01", "--momentum", "0.9"]
    else:
        args += ["--model", "mnist-cnn", "--optimizer", "adadelta", "--lr", "1.0", "--scheduler", "step:1:0.7"]
    out = subprocess.run(args, check=True, capture_output=True, text=True, env=dict(os.environ, NEURONE_QUIET="1")).stdout
    r = json.loads(out.strip().splitlines()[-1])
    return r["test_accuracy"], r["samples_per_second"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="fashion-mnist")
    ap.add_argument("--dir", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--recipes", nargs="+", default=["mlp-sgd", "mnist-cnn-adadelta"])
    ap.add_argument("--seeds", type=int, default=1, help="runs per framework with seeds FIRST…FIRST+N−1; accuracies are averaged")
    ap.add_argument("--first-seed", type=int, default=0)
    a = ap.parse_args()
    d = a.dir
    xtr = torch.from_numpy(read_idx(d + "/train-images-idx3-ubyte").astype(np.float32) / 255).unsqueeze(1)
    ytr = torch.from_numpy(read_idx(d + "/train-labels-idx1-ubyte").astype(np.int64))
    xte = torch.from_numpy(read_idx(d + "/t10k-images-idx3-ubyte").astype(np.float32) / 255).unsqueeze(1)
    yte = torch.from_numpy(read_idx(d + "/t10k-labels-idx1-ubyte").astype(np.int64))
    print(f"| recipe | epochs | threads | seeds | PyTorch test acc | Neurone test acc | PyTorch samples/s | Neurone samples/s | throughput ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in a.recipes:
        seeds = range(a.first_seed, a.first_seed + a.seeds)
        t_runs = [torch_run(r, ((xtr, ytr), (xte, yte)), a.epochs, a.threads, s) for s in seeds]
        n_runs = [neurone_run(r, a.dataset, a.epochs, a.threads, s) for s in seeds]
        for s, (ta, _), (na, _) in zip(seeds, t_runs, n_runs):
            print(f"<!-- {r} seed {s}: PyTorch {ta * 100:.2f} %, Neurone {na * 100:.2f} % -->", flush=True)

        def acc(runs):
            v = [x[0] * 100 for x in runs]
            m = sum(v) / len(v)
            sd = (sum((x - m) ** 2 for x in v) / (len(v) - 1)) ** 0.5 if len(v) > 1 else 0
            return f"{m:.2f} %" + (f" ± {sd:.2f}" if len(v) > 1 else "")
        ts = sorted(x[1] for x in t_runs)[len(t_runs) // 2]
        ns = sorted(x[1] for x in n_runs)[len(n_runs) // 2]
        print(f"| {r} | {a.epochs} | {a.threads} | {a.seeds} | {acc(t_runs)} | {acc(n_runs)} | {ts:.0f} | {ns:.0f} | {ns / ts:.2f} |", flush=True)


if __name__ == "__main__":
    main()
