#!/usr/bin/env python3
"""PyTorch twins of Neurone's character-level language models, trained with the same recipe.

Neurone's `neurone train --dataset words --model char-lstm|char-transformer` cuts Debian's word list
(/usr/share/dict/words, package wamerican) into sequences of 32 characters labelled with the next
characters, splits them 90/10 (test), holds 10 % of the rest out for validation, and trains with
Adam at batch 64, the loss being the mean cross-entropy over every position. This script does the
same in PyTorch — same vocabulary (the text's characters in code-point order), same sequences, same
split sizes (its own seeded permutation), same layers and initialisation rules — for several seeds,
and writes the losses to bench/lm_reference.json, which scripts/check_lm_loss compares with
Neurone's (within 2 %) without PyTorch.

    pip install torch     # (CPU wheel)
    python3 scripts/make_lm_reference.py [--seeds 0 1 2] [--out bench/lm_reference.json]
"""
import argparse, hashlib, json, os, platform, sys, time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
from torch_reference import CharLSTM, CharTransformer  # the twins of Neurone's named models

WORDS = "/usr/share/dict/words"

# The recipes: Neurone's named model, epochs, learning rate (Adam), batch size, sequence length.
RECIPES = {
    "char-lstm": dict(epochs=3, lr=0.003, batch=64, seq=32),
    "char-transformer": dict(epochs=2, lr=0.001, batch=64, seq=32),
}


def sequences(text, t):
    vocab = sorted(set(text))
    index = {c: i for i, c in enumerate(vocab)}
    tokens = torch.tensor([index[c] for c in text], dtype=torch.long)
    n = (len(tokens) - 1) // t
    return vocab, tokens[: n * t].view(n, t), tokens[1: n * t + 1].view(n, t)


def split(n, fraction, g):
    """Neurone's split sizes: round(n·fraction) held out."""
    order = torch.randperm(n, generator=g)
    k = int(round(n * fraction))
    return order[k:], order[:k]


def mean_loss(model, x, y, batch=256):
    model.eval()
    total = 0.0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out = model(x[i: i + batch])
            total += F.cross_entropy(out.reshape(-1, out.shape[-1]), y[i: i + batch].reshape(-1)).item() * len(x[i: i + batch])
    model.train()
    return total / len(x)


def train(name, recipe, text, seed):
    torch.manual_seed(seed)
    vocab, x, y = sequences(text, recipe["seq"])
    g = torch.Generator().manual_seed(seed)
    rest, test = split(len(x), 0.1, g)
    tr, val = split(len(rest), 0.1, g)
    train_idx, val_idx = rest[tr], rest[val]
    model = CharLSTM(len(vocab)) if name == "char-lstm" else CharTransformer(len(vocab), recipe["seq"])
    opt = torch.optim.Adam(model.parameters(), lr=recipe["lr"])
    history = []
    steps = 0
    for epoch in range(recipe["epochs"]):
        order = train_idx[torch.randperm(len(train_idx), generator=g)]
        loss_sum, seen, t0 = 0.0, 0, time.time()
        for i in range(0, len(order), recipe["batch"]):
            b = order[i: i + recipe["batch"]]
            out = model(x[b])
            loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), y[b].reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            steps += 1
            loss_sum += loss.item() * len(b)
            seen += len(b)
        history.append(dict(epoch=epoch + 1, train_loss=loss_sum / seen, val_loss=mean_loss(model, x[val_idx], y[val_idx]),
                            seconds=time.time() - t0))
        print(f"  {name} seed {seed} epoch {epoch + 1}: train {history[-1]['train_loss']:.4f} val {history[-1]['val_loss']:.4f} ({history[-1]['seconds']:.1f}s)", flush=True)
    return dict(seed=seed, steps=steps, test_loss=mean_loss(model, x[test], y[test]), history=history,
                parameters=sum(p.numel() for p in model.parameters()), vocabulary=len(vocab))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--models", nargs="+", default=list(RECIPES))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="bench/lm_reference.json")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    raw = open(WORDS, "rb").read()
    text = raw.decode("utf-8")
    result = dict(file=WORDS, md5=hashlib.md5(raw).hexdigest(), characters=len(text), torch=torch.__version__,
                  machine=platform.processor() or platform.machine(), models={})
    for name in a.models:
        runs = [train(name, RECIPES[name], text, s) for s in a.seeds]
        losses = [r["test_loss"] for r in runs]
        result["models"][name] = dict(recipe=RECIPES[name], runs=runs, test_loss_mean=sum(losses) / len(losses),
                                      test_loss_min=min(losses), test_loss_max=max(losses))
        print(f"{name}: test loss {result['models'][name]['test_loss_mean']:.4f} (min {min(losses):.4f}, max {max(losses):.4f})", flush=True)
    with open(a.out + ".tmp", "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    os.replace(a.out + ".tmp", a.out)
    print("wrote", a.out)


if __name__ == "__main__":
    main()
