#!/usr/bin/env python3
"""Frames per second the playground streams, with 1 and with 10 tabs at once (issue 21's benchmark).

Starts `neurone-serve --port 0`, opens N WebSocket clients at once, each playing the benchmark's
network (2-8-8-1 tanh, 500 points, circles, batch 10, SGD) and acknowledging every frame as soon as
it arrives (a page that draws instantly, so the server, not a browser, is what is measured). Counts
frames per second per tab over --seconds after a one-second warm-up, and reports where a frame's
time goes: waiting for the engine (other tabs), training the epoch, computing the maps (the server's
numbers, sent in each frame), and delivery (from the server handing it to the socket to the client
reading it) — the server's added latency is wait + maps + delivery.

    python3 bench/playground_bench.py .build/release/neurone-serve [--tabs 1 10] [--seconds 5] [--json]

Needs `pip install websockets`.
"""
import argparse, asyncio, json, re, statistics, subprocess, sys, time

import websockets

SETTINGS = {"dataset": "circles", "points": 500, "hidden": [8, 8], "activation": "tanh", "features": ["x1", "x2"],
            "batchSize": 10, "learningRate": 0.03, "optimizer": "sgd", "seed": 1}


async def tab(url, index, seconds, results):
    async with websockets.connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"type": "config", "settings": dict(SETTINGS, seed=1 + index)}))
        await ws.send(json.dumps({"type": "play"}))
        start = time.time()
        frames, timings = 0, []
        while True:
            text = await ws.recv()
            now = time.time()
            m = json.loads(text)
            if m["type"] == "error":
                raise SystemExit(f"tab {index}: {m['message']}")
            if m["type"] != "frame":
                continue
            await ws.send(json.dumps({"type": "ack", "epoch": m["epoch"]}))
            if now - start < 1:
                continue
            if now - start > 1 + seconds:
                break
            frames += 1
            t = m.get("timing")
            if t:
                timings.append((t["waitMs"], t["trainMs"], t["mapsMs"], now * 1000 - t["sentAtMs"]))
        results.append((frames / seconds, timings))


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def p95(xs):
    return sorted(xs)[int(0.95 * (len(xs) - 1))] if xs else float("nan")


async def run(url, tabs, seconds):
    results = []
    await asyncio.gather(*(tab(url, i, seconds, results) for i in range(tabs)))
    rates = [r for r, _ in results]
    timings = [t for _, ts in results for t in ts]
    cols = list(zip(*timings)) if timings else [[], [], [], []]
    return {
        "tabs": tabs,
        "frames_per_second_per_tab_min": min(rates), "frames_per_second_per_tab_median": median(rates),
        "frames_per_second_total": sum(rates),
        "wait_ms_median": median(cols[0]), "train_ms_median": median(cols[1]), "maps_ms_median": median(cols[2]),
        "delivery_ms_median": median(cols[3]), "delivery_ms_p95": p95(cols[3]),
        "added_latency_ms_median": median([w + m + d for w, _, m, d in timings]),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("server", help="the neurone-serve executable (a release build)")
    ap.add_argument("--tabs", type=int, nargs="+", default=[1, 10])
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    server = subprocess.Popen([args.server, "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        port = re.search(r":(\d+)/", line).group(1)
        url = f"ws://127.0.0.1:{port}/ws"
        rows = [asyncio.run(run(url, n, args.seconds)) for n in args.tabs]
    finally:
        server.terminate()
        server.wait()
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print("| tabs | frames/s per tab (min / median) | total frames/s | engine wait ms | train ms | maps ms | delivery ms (median / p95) | added latency ms |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['tabs']} | {r['frames_per_second_per_tab_min']:.1f} / {r['frames_per_second_per_tab_median']:.1f} | {r['frames_per_second_total']:.0f} | "
              f"{r['wait_ms_median']:.2f} | {r['train_ms_median']:.2f} | {r['maps_ms_median']:.2f} | "
              f"{r['delivery_ms_median']:.2f} / {r['delivery_ms_p95']:.2f} | {r['added_latency_ms_median']:.2f} |")


if __name__ == "__main__":
    main()
