#!/usr/bin/env python3
"""Draws the library's targets and their dependencies, as Package.swift declares them, into
docs/architecture.svg: one row per layer (a target sits one row above the highest target it
imports), an arrow from each target to each target it may import.

    python3 scripts/architecture_svg.py            # rewrites docs/architecture.svg
"""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Column (0…2) of each box, chosen so that no arrow runs behind another box; others are centred.
SLOTS = {"NeuroneData": 0, "NeuronePlots": 1, "NeuroneIO": 0.45, "NeuroneOptim": 2,
         "CNeuroneData": 0, "CNeuroneKernels": 1, "NeuroneDevice": 2, "NeuroneCPU": 1, "NeuroneReference": 2}


def targets():
    text = open(os.path.join(ROOT, "Package.swift")).read()
    found = {}
    for m in re.finditer(r'\.target\(name: "(\w+)"(?:, dependencies: \[([^\]]*)\])?', text, re.S):
        deps = re.findall(r'"(\w+)"', m.group(2) or "")
        found[m.group(1)] = deps
    return found


def main():
    deps = targets()
    level = {}

    def lv(t):
        if t not in level:
            level[t] = 0 if not deps.get(t) else 1 + max(lv(d) for d in deps[t] if d in deps)
        return level[t]
    for t in deps:
        lv(t)
    rows = {}
    for t in sorted(deps, key=lambda t: (level[t], t)):
        rows.setdefault(level[t], []).append(t)
    bw, bh, gx, gy = 150, 34, 24, 46
    width = 3 * (bw + gx) + gx + 60
    height = len(rows) * (bh + gy) + gy
    pos = {}
    for lvl, names in rows.items():
        y = height - gy - (lvl + 1) * (bh + gy) + gy
        for t in names:
            pos[t] = (gx + SLOTS.get(t, 1) * (bw + gx), y)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           'font-family="Helvetica, Arial, sans-serif" font-size="12">',
           '<defs><marker id="a" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
           '<path d="M 0 0 L 10 5 L 0 10 z" fill="#777"/></marker></defs>',
           f'<rect width="{width}" height="{height}" fill="white"/>']
    for t, ds in deps.items():
        x, y = pos[t]
        if t == "Neurone":  # the umbrella re-exports every target: one dashed arrow stands for all
            below = max((d for d in ds if d in pos), key=lambda d: level[d])
            dx, dy = pos[below]
            out.append(f'<line x1="{x + bw / 2:.0f}" y1="{y + bh:.0f}" x2="{dx + bw / 2:.0f}" y2="{dy:.0f}" stroke="#777" '
                       'stroke-dasharray="4 3" marker-end="url(#a)"/>')
            out.append(f'<text x="{x + bw / 2 + 8:.0f}" y="{(y + bh + dy) / 2 + 4:.0f}" fill="#555">re-exports every target</text>')
            continue
        for d in ds:
            if d not in pos:
                continue
            dx, dy = pos[d]
            out.append(f'<line x1="{x + bw / 2:.0f}" y1="{y + bh:.0f}" x2="{dx + bw / 2:.0f}" y2="{dy:.0f}" stroke="#777" '
                       'stroke-width="1" marker-end="url(#a)"/>')
    for t, (x, y) in pos.items():
        fill = "#fde9c9" if t.startswith("C") else ("#d9e8fb" if t != "Neurone" else "#e3f4dc")
        out.append(f'<rect x="{x:.0f}" y="{y:.0f}" width="{bw}" height="{bh}" rx="5" fill="{fill}" stroke="#555"/>')
        out.append(f'<text x="{x + bw / 2:.0f}" y="{y + bh / 2 + 4:.0f}" text-anchor="middle">{t}</text>')
    out.append("</svg>")
    path = os.path.join(ROOT, "docs", "architecture.svg")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(out) + "\n")
    os.replace(tmp, path)
    print("wrote", path)


if __name__ == "__main__":
    main()
