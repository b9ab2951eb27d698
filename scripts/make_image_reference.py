#!/usr/bin/env python3
"""Writes the small image and compressed files the IO tests read, with Pillow, bz2 and gzip:
PNGs of every colour type Neurone decodes (with Pillow's own filter choices) and the pixel values
Pillow reads back from them, a USPS sample in both text forms, and a CSV table.

    pip install pillow
    python3 scripts/make_image_reference.py   # writes Tests/NeuroneTests/Reference/images/
"""
import bz2, gzip, json, os, random

from PIL import Image

out = os.path.join(os.path.dirname(__file__), "..", "Tests", "NeuroneTests", "Reference", "images")
os.makedirs(out, exist_ok=True)
rng = random.Random(0)
W, H = 7, 5
cases = {}

def smooth(c):  # gradients with noise, so the encoder picks several filter types
    return [min(255, max(0, (x * 31 + y * 17 + c * 50 + rng.randint(-9, 9)) % 256)) for y in range(H) for x in range(W)]

grey = Image.new("L", (W, H)); grey.putdata(smooth(0)); grey.save(f"{out}/grey.png")
rgb = Image.merge("RGB", [Image.new("L", (W, H)) for _ in range(3)])
rgb.putdata(list(zip(smooth(0), smooth(1), smooth(2)))); rgb.save(f"{out}/rgb.png")
rgba = rgb.copy(); rgba.putalpha(Image.new("L", (W, H), 200)); rgba.save(f"{out}/rgba.png")
la = Image.merge("LA", [grey, Image.new("L", (W, H), 99)]); la.save(f"{out}/grey_alpha.png")
pal = rgb.convert("P", palette=Image.ADAPTIVE, colors=6); pal.save(f"{out}/palette.png")
pal.save(f"{out}/palette_trns.png", transparency=2)
bits = Image.new("1", (W, H)); bits.putdata([(x + y) % 2 * 255 for y in range(H) for x in range(W)]); bits.save(f"{out}/onebit.png")
g16 = Image.new("I;16", (W, H)); g16.putdata([v * 257 for v in smooth(3)]); g16.save(f"{out}/grey16.png")

# Pillow never picks the Average filter here: a hand-encoded grey image uses each filter type.
def encode_filtered(path, px, filters):
    import struct, zlib
    def paeth(a, b, c):
        p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        return a if pa <= pb and pa <= pc else (b if pb <= pc else c)
    raw = b""
    for y in range(H):
        row, prev, f = px[y * W:(y + 1) * W], px[(y - 1) * W:y * W] if y else [0] * W, filters[y]
        out = [f]
        for x in range(W):
            a = row[x - 1] if x else 0; b = prev[x]; c = prev[x - 1] if x else 0
            pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][f]
            out.append((row[x] - pred) % 256)
        raw += bytes(out)
    def chunk(t, body): return struct.pack(">I", len(body)) + t + body + struct.pack(">I", zlib.crc32(t + body))
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 8, 0, 0, 0, 0))
    data += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    open(path, "wb").write(data)

encode_filtered(f"{out}/filtered.png", smooth(4), [3, 4, 1, 2, 3])

for name in ["filtered", "grey", "rgb", "rgba", "grey_alpha", "palette", "palette_trns", "onebit", "grey16"]:
    im = Image.open(f"{out}/{name}.png")
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif im.mode in ("I;16", "I"):  # 16-bit samples: Neurone keeps the high byte
        high = [v >> 8 for v in im.get_flattened_data()]
        im = Image.new("L", im.size); im.putdata(high)
    elif im.mode == "1":
        im = im.convert("L")
    channels = len(im.getbands())
    flat = []
    for p in im.get_flattened_data():
        flat += list(p) if isinstance(p, tuple) else [p]
    cases[name] = {"width": W, "height": H, "channels": channels, "pixels": flat}

with open(f"{out}/png_pixels.json", "w") as f:
    json.dump(cases, f, separators=(",", ":"))

# USPS: three digits in both text forms (zip.train style gzip-compressed, LIBSVM style bzip2).
rows = [(d, [round(rng.uniform(-1, 1), 4) for _ in range(256)]) for d in (6, 0, 9)]
with gzip.open(f"{out}/zip.train.gz", "wt") as f:
    for d, v in rows:
        f.write(f"{d:.4f} " + " ".join(f"{x:.4f}" for x in v) + " \n")
with bz2.open(f"{out}/usps.bz2", "wt") as f:
    for d, v in rows:
        f.write(f"{d + 1} " + " ".join(f"{i + 1}:{x:g}" for i, x in enumerate(v) if x != 0) + "\n")

with open(f"{out}/table.csv", "w") as f:
    f.write('sepal length,"sepal, width",species\n5.1,3.5,setosa\n7.0,3.2,versicolor\n6.3,3.3,virginica\n4.9,3.0,setosa\n')
print("wrote", out)
