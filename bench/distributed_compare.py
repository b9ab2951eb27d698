#!/usr/bin/env python3
"""Data-parallel against one process, alternating, medians (docs/DISTRIBUTED.md):

    bench/distributed_compare.py [--bin .build/release/neurone] [--model mnist-cnn] [--batch 128]
                                 [--processes 2] [--rounds 5] [--steps 10] [--bucket-mb 25 ...] [--json]

Each round runs `mpirun -np P neurone bench train --distributed` with 1 thread per process for each
--bucket-mb, then `neurone bench train` in one process with P threads, on the same global batch;
prints each configuration's median samples/s and its ratio to one process (median of the per-round
ratios), with the shares of step time in allreduce and waited for (--json: one object per bucket size).
"""
import argparse
import json
import statistics
import subprocess


def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")][-1]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", default=".build/release/neurone")
    p.add_argument("--model", default="mnist-cnn")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--bucket-mb", type=float, nargs="+", default=[25.0])
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    bench = ["train", "--model", a.model, "--batch-size", str(a.batch), "--steps", str(a.steps), "--repeats", "3", "--json"]
    mpirun = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", str(a.processes)]
    rows = {mb: [] for mb in a.bucket_mb}
    single = []
    for r in range(a.rounds):
        for mb in a.bucket_mb:
            rows[mb].append(run(mpirun + [a.bin, "bench"] + bench + ["--threads", "1", "--distributed", "--bucket-mb", str(mb)]))
        single.append(run([a.bin, "bench"] + bench + ["--threads", str(a.processes)]))
        if not a.json:
            print("round %d: one process %.0f samples/s; %s" % (r + 1, single[-1]["samples_per_s"], ", ".join(
                "%g MiB buckets %.0f" % (mb, rows[mb][-1]["samples_per_s"]) for mb in a.bucket_mb)), flush=True)
    base = statistics.median(s["samples_per_s"] for s in single)
    if a.json:
        for mb in a.bucket_mb:
            print(json.dumps({"model": a.model, "batch": a.batch, "processes": a.processes, "rounds": a.rounds, "bucket_mb": mb,
                              "buckets": rows[mb][0]["buckets"], "samples_per_s": statistics.median(d["samples_per_s"] for d in rows[mb]),
                              "single_samples_per_s": base,
                              "ratio": round(statistics.median(d["samples_per_s"] / s["samples_per_s"] for d, s in zip(rows[mb], single)), 3),
                              "allreduce_share": statistics.median(d["allreduce_share"] for d in rows[mb]),
                              "wait_share": statistics.median(d["wait_share"] for d in rows[mb])}))
        return
    print("\n| configuration | samples/s (median) | ratio to 1 process × %d threads | allreduce share | waited share |" % a.processes)
    print("|---|---|---|---|---|")
    print("| 1 process × %d threads | %.0f | 1.00× | | |" % (a.processes, base))
    for mb in a.bucket_mb:
        ratios = [d["samples_per_s"] / s["samples_per_s"] for d, s in zip(rows[mb], single)]
        print("| %d processes × 1 thread, %g MiB buckets (%d) | %.0f | %.2f× | %.1f %% | %.1f %% |" % (
            a.processes, mb, rows[mb][0]["buckets"], statistics.median(d["samples_per_s"] for d in rows[mb]),
            statistics.median(ratios), 100 * statistics.median(d["allreduce_share"] for d in rows[mb]),
            100 * statistics.median(d["wait_share"] for d in rows[mb])))


if __name__ == "__main__":
    main()
