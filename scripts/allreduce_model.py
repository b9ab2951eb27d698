#!/usr/bin/env python3
"""The cost model of ring allreduce, checked against the simulated cluster and used to predict
scaling (docs/DISTRIBUTED.md):

    scripts/allreduce_model.py [JSONL ...] [--svg docs/distributed/scaling.svg]

    t(N, bytes) = 2(N-1)/N * bytes / B  +  2(N-1) * alpha

B is the link's rate (bytes/s; for a bare veth link, the largest message's measured bus bandwidth),
alpha the per-message latency, fitted per link from the smallest message. Reads the JSON lines of
scripts/simulate_cluster (default docs/distributed/simulated*.jsonl); prints, as Markdown:
1. each measured allreduce against the model;
2. each measured training step against the model's bounds — T_c + t (no overlap) and max(T_c, t)
   (all of t hidden behind compute) — with T_c the one-process step on the same per-host batch;
3. predictions for mnist-cnn and a 100 M-parameter model at 8, 64 and 512 ranks on 10 and 100 Gb/s
   links (the assumptions are printed with them); and writes the scaling plot as SVG.
"""
import glob
import json
import math
import sys

RATES = {"gbit": 1e9, "mbit": 1e6, "kbit": 1e3}


def link_rate(link):
    rate = link.split(" ")[0].split("/")[0]
    for unit, scale in RATES.items():
        if rate.endswith(unit):
            return float(rate[: -len(unit)]) * scale / 8
    return None


def median(values):
    v = sorted(values)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def ring(n, nbytes, bandwidth, alpha):
    return 2 * (n - 1) / n * nbytes / bandwidth + 2 * (n - 1) * alpha


def main():
    args = sys.argv[1:]
    svg = "docs/distributed/scaling.svg"
    if "--svg" in args:
        i = args.index("--svg")
        svg = args[i + 1]
        del args[i:i + 2]
    files = args or sorted(glob.glob("docs/distributed/simulated*.jsonl"))
    rows = [dict(json.loads(line), _file=f) for f in files for line in open(f) if line.strip()]
    for r in rows:  # the label shown: the link, and Open MPI's algorithm when it was forced
        if r.get("allreduce"):
            r["link"] += " (%s forced)" % r["allreduce"]
    reduces = [r for r in rows if r["bench"] == "allreduce"]
    links = {}
    for r in reduces:
        links.setdefault((r["link"], r["hosts"]), []).append(r)
    for rs in links.values():
        # one row per size (a size measured in several files: the median)
        by = {}
        for r in rs:
            by.setdefault(r["bytes"], []).append(r)
        rs[:] = [dict(v[0], ms=median([x["ms"] for x in v]), busbw_gbs=median([x["busbw_gbs"] for x in v])) for v in by.values()]
    fits = {}
    print("## Allreduce: measured against the model\n")
    print("| hosts | link | B (GB/s) | alpha (us) | bytes | measured ms | model ms | measured / model |")
    print("|---|---|---|---|---|---|---|---|")
    for (link, n), rs in sorted(links.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        rs.sort(key=lambda r: r["bytes"])
        bandwidth = link_rate(link) or max(r["busbw_gbs"] for r in rs) * 1e9
        small = rs[0]
        alpha = max(0.0, small["ms"] / 1e3 - 2 * (n - 1) / n * small["bytes"] / bandwidth) / (2 * (n - 1))
        fits[(link, n)] = (bandwidth, alpha)
        for r in rs:
            model = ring(n, r["bytes"], bandwidth, alpha) * 1e3
            print("| %d | %s | %.3f%s | %.0f | %d | %.3f | %.3f | %.2f |" % (
                n, link, bandwidth / 1e9, "" if link_rate(link) else " (measured)", alpha * 1e6, r["bytes"], r["ms"], model, r["ms"] / model))
    # one process alone, per (file, link, hosts, round): T_c; the distributed steps of the same round
    singles = {(r["_file"], r["link"], r["hosts"], r.get("round")): r["ms_per_step"] for r in rows if r["bench"] == "single"}
    trains = [r for r in rows if r["bench"] == "train"]
    groups = {}
    for r in trains:
        groups.setdefault((r["_file"], r["link"], r["hosts"], r["bucket_mb"]), []).append(r)
    print("\n## Training steps (mnist-cnn, SGD, global batch 128, one process per host, 1 thread each): measured against the model\n")
    print("Medians over the rounds; T_c is one process alone on the per-host batch in the same round, the scaling efficiency "
          "the median of the rounds' T_c / measured step (1.0: perfect scaling).\n")
    print("| hosts | link | buckets | measured ms/step | T_c ms | t ms (model) | no overlap T_c + t | full overlap max(T_c, t) | waited share | scaling efficiency |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    efficiencies = {}
    for key in sorted(groups, key=lambda k: (k[2], k[1], -k[3])):
        f, link, n, mb = key
        rs = groups[key]
        pairs = [(r, singles.get((f, link, n, r.get("round")))) for r in rs]
        pairs = [(r, tc) for r, tc in pairs if tc]
        if not pairs or (link, n) not in fits:
            continue
        bandwidth, alpha = fits[(link, n)]
        step = median([r["ms_per_step"] for r, _ in pairs])
        tc = median([tc for _, tc in pairs])
        t = ring(n, rs[0]["gradient_mb"] * 1048576, bandwidth, alpha) * 1e3
        efficiency = median([tc / r["ms_per_step"] for r, tc in pairs])
        efficiencies[(link, n, mb)] = efficiency
        print("| %d | %s | %d (%g MiB) | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f %% | %.2f |" % (
            n, link, rs[0]["buckets"], mb, step, tc, t, tc + t, max(tc, t), 100 * median([r["wait_share"] for r, _ in pairs]), efficiency))

    # predictions
    mnist_bytes = next((r["gradient_mb"] * 1048576 for r in trains), 4.577 * 1048576)
    mnist_tc = median([v for k, v in singles.items() if k[2] == 2] or [70.0]) / 1e3
    big_params, tokens, flops = 100e6, 16 * 512, 100e12
    big_tc = 6 * big_params * tokens / flops
    models = [("mnist-cnn", mnist_bytes, mnist_tc), ("100M", big_params * 4, big_tc)]
    networks = [("10 Gb/s", 10e9 / 8, 20e-6), ("100 Gb/s", 100e9 / 8, 5e-6)]
    print("\n## Predictions (weak scaling: the per-rank batch is fixed)\n")
    print("Assumptions: mnist-cnn — %.2f MB of float32 gradients, T_c = %.1f ms (one core of this host, 64 samples per rank, measured above); "
          "100M — 400 MB of float32 gradients, T_c = 6 · 1e8 parameters · %d tokens / 100 TFLOP/s = %.1f ms (an accelerator "
          "sustaining 100 TFLOP/s, 16 sequences of 512 tokens per rank); alpha = 20 us on 10 Gb/s Ethernet, 5 us on 100 Gb/s "
          "(RDMA class); with overlap, the backward pass (2/3 of T_c) hides as much of t as it lasts.\n" % (mnist_bytes / 1e6, mnist_tc * 1e3, tokens, big_tc * 1e3))
    print("| model | link | ranks | t allreduce ms | step ms, no overlap | step ms, overlap | efficiency, no overlap | efficiency, overlap |")
    print("|---|---|---|---|---|---|---|---|")
    curves = []
    for name, nbytes, tc in models:
        for label, bandwidth, alpha in networks:
            points = []
            for n in [2 ** k for k in range(1, 11)]:
                t = ring(n, nbytes, bandwidth, alpha)
                plain, hidden = tc + t, tc + max(0.0, t - 2 / 3 * tc)
                points.append((n, tc / plain, tc / hidden))
                if n in (8, 64, 512):
                    print("| %s | %s | %d | %.1f | %.1f | %.1f | %.2f | %.2f |" % (name, label, n, t * 1e3, plain * 1e3, hidden * 1e3, tc / plain, tc / hidden))
            curves.append(("%s, %s" % (name, label), points))
    # mnist-cnn on 1 Gb/s too, beside the simulated 1 Gb/s pair
    curves.insert(0, ("mnist-cnn, 1 Gb/s", [(n, mnist_tc / (mnist_tc + ring(n, mnist_bytes, 1e9 / 8, 20e-6)),
                                             mnist_tc / (mnist_tc + max(0.0, ring(n, mnist_bytes, 1e9 / 8, 20e-6) - 2 / 3 * mnist_tc)))
                                            for n in [2 ** k for k in range(1, 11)]]))
    measured = [(n, e, "%d hosts, %s, %g MiB buckets (measured)" % (n, link, mb)) for (link, n, mb), e in sorted(efficiencies.items()) if mb < 25 and n == 2]
    write_svg(svg, curves, measured)
    print("wrote %s" % svg, file=sys.stderr)


def write_svg(path, curves, measured):
    w, h, left, right, top, bottom = 900, 420, 60, 400, 30, 50
    pw, ph = w - left - right, h - top - bottom
    x = lambda n: left + (math.log2(n) - 1) / 9 * pw
    y = lambda e: top + (1 - e) * ph
    colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"]
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">' % (w, h),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="18" font-size="14">Scaling efficiency of data-parallel training, ring allreduce model</text>' % left]
    for e in [0, 0.25, 0.5, 0.75, 1.0]:
        out.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>' % (left, left + pw, y(e), y(e)))
        out.append('<text x="%d" y="%.1f" text-anchor="end">%.2f</text>' % (left - 6, y(e) + 4, e))
    for k in range(1, 11):
        n = 2 ** k
        out.append('<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#eee"/>' % (x(n), x(n), top, top + ph))
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%d</text>' % (x(n), top + ph + 16, n))
    out.append('<text x="%d" y="%d" text-anchor="middle">ranks</text>' % (left + pw / 2, h - 10))
    out.append('<text x="14" y="%d" transform="rotate(-90 14 %d)" text-anchor="middle">T_compute / T_step</text>' % (top + ph / 2, top + ph / 2))
    for i, (label, points) in enumerate(curves):
        c = colors[i % len(colors)]
        for j, dash in [(2, ""), (1, ' stroke-dasharray="5,4"')]:
            d = " ".join("%s%.1f,%.1f" % ("M" if k == 0 else "L", x(p[0]), y(p[j])) for k, p in enumerate(points))
            out.append('<path d="%s" fill="none" stroke="%s" stroke-width="2"%s/>' % (d, c, dash))
        ly = top + 14 + i * 18
        out.append('<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2"/>' % (left + pw + 12, left + pw + 36, ly - 4, ly - 4, c))
        out.append('<text x="%d" y="%d">%s</text>' % (left + pw + 42, ly, label))
    ly = top + 14 + len(curves) * 18
    out.append('<text x="%d" y="%d">solid: overlap, dashed: none</text>' % (left + pw + 12, ly))
    for k, (n, e, label) in enumerate(measured):
        out.append('<circle cx="%.1f" cy="%.1f" r="4" fill="black"/>' % (x(n), y(e)))
        out.append('<text x="%d" y="%d">&#9679; %s: %.2f</text>' % (left + pw + 12, ly + 18 * (k + 1), label, e))
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
