#!/usr/bin/env python3
"""PyTorch's side of `neurone bench train|infer`: the same named models, batch sizes, thread
counts, optimisers and measurement (synthetic data seeded the same way in spirit, two warm-up steps,
then the median of REPEATS timings of STEPS steps), one JSON object per line in the same format.

    pip install torch
    python3 bench/torch_reference.py train --model mnist-cnn --batch-size 64 --threads 2 --optimizer adadelta
"""
import argparse
import json
import math
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class MnistCNN(nn.Module):  # PyTorch's examples/mnist/main.py
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(self.dropout1(x), 1)
        x = self.dropout2(F.relu(self.fc1(x)))
        return F.log_softmax(self.fc2(x), dim=1)


class AttentionClassifier(nn.Module):  # Neurone's named model "attention"
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(28, 64)
        self.attn = nn.MultiheadAttention(64, 4, batch_first=True)
        self.fc1 = nn.Linear(64, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        t = self.embed(x.reshape(x.shape[0], 28, 28))
        a, _ = self.attn(t, t, t, need_weights=False)
        return self.fc2(F.relu(self.fc1(a.mean(1))))


class LSTMClassifier(nn.Module):  # Neurone's named model "lstm": rows lstm(128) last linear(10)
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(28, 128, batch_first=True)
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        out, _ = self.lstm(x.reshape(x.shape[0], 28, 28))
        return self.fc(out[:, -1])


class TransformerClassifier(nn.Module):  # Neurone's named model "transformer"
    # rows linear(64) posenc encoder(4,ff=128,layers=2) mean linear(10)
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(28, 64)
        position = torch.arange(28).unsqueeze(1)
        div = torch.exp(torch.arange(0, 64, 2) * (-math.log(10000.0) / 64))
        pe = torch.zeros(28, 64)
        pe[:, 0::2] = torch.sin(position * div)
        pe[:, 1::2] = torch.cos(position * div)
        self.register_buffer("pe", pe)
        layer = nn.TransformerEncoderLayer(64, 4, dim_feedforward=128, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        t = self.embed(x.reshape(x.shape[0], 28, 28)) + self.pe
        return self.fc(self.encoder(t).mean(1))


class CharLSTM(nn.Module):
    """Neurone's "char-lstm", embedding(V,32) lstm(256) linear(V) (the defaults; V = 64 here, as
    Neurone's without data); other sizes for scripts/make_lm_steps_reference.py."""
    def __init__(self, v=64, emb=32, hidden=256):
        super().__init__()
        self.emb = nn.Embedding(v, emb)
        self.lstm = nn.LSTM(emb, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, v)

    def forward(self, x):
        return self.fc(self.lstm(self.emb(x))[0])


class CharTransformer(nn.Module):
    """Neurone's "char-transformer", embedding(V,128) posenc encoder(4,ff=512,layers=2,dropout=0,
    norm_first=true,causal=true) layernorm linear(V) for sequences of up to T = 32 steps (the
    defaults; V = 64 here); other sizes for scripts/make_lm_steps_reference.py."""
    def __init__(self, v=64, t=32, d=128, heads=4, ff=512):
        super().__init__()
        self.emb = nn.Embedding(v, d)
        position = torch.arange(t).unsqueeze(1)
        div = torch.exp(torch.arange(0, d, 2) * (-math.log(10000.0) / d))
        pe = torch.zeros(t, d)
        pe[:, 0::2] = torch.sin(position * div)
        pe[:, 1::2] = torch.cos(position * div)
        self.register_buffer("pe", pe)
        layer = nn.TransformerEncoderLayer(d, heads, dim_feedforward=ff, dropout=0.0, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d)
        self.fc = nn.Linear(d, v)

    def forward(self, x):
        t = x.shape[1]
        mask = nn.Transformer.generate_square_subsequent_mask(t)
        return self.fc(self.norm(self.encoder(self.emb(x) + self.pe[:t], mask=mask, is_causal=True)))


def sequence_cross_entropy(out, y):  # a language model's loss: every position
    return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))


def make(name):
    """(model, input shape, loss) for each model `neurone models` lists under that name."""
    if name == "mnist-cnn":
        return MnistCNN(), (1, 28, 28), F.nll_loss
    if name == "attention":
        return AttentionClassifier(), (1, 28, 28), F.cross_entropy
    if name == "transformer":
        return TransformerClassifier(), (1, 28, 28), F.cross_entropy
    if name == "lstm":
        return LSTMClassifier(), (1, 28, 28), F.cross_entropy
    if name == "char-lstm":
        return CharLSTM(), (32,), sequence_cross_entropy
    if name == "char-transformer":
        return CharTransformer(), (32,), sequence_cross_entropy
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 1000), nn.ReLU(), nn.Linear(1000, 10)), (1, 28, 28), F.cross_entropy
    if name == "lenet5":
        return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), nn.Tanh(),
                             nn.AvgPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(),
                             nn.Linear(84, 10)), (1, 28, 28), F.cross_entropy
    raise SystemExit(f"unknown model {name}")


def name_is_text(name):
    return name.startswith("char-")


def optimizer(name, params, lr):
    table = {"sgd": (torch.optim.SGD, 0.01), "adam": (torch.optim.Adam, 0.001), "adamw": (torch.optim.AdamW, 0.001),
             "rmsprop": (torch.optim.RMSprop, 0.001), "adagrad": (torch.optim.Adagrad, 0.01), "adadelta": (torch.optim.Adadelta, 1.0)}
    cls, default = table[name]
    return cls(params, lr=lr if lr is not None else default)


def peak_rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["train", "infer"])
    ap.add_argument("--model", default="mnist-cnn")
    ap.add_argument("--batch-size", type=int, action="append")
    ap.add_argument("--threads", type=int, action="append")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--optimizer", default="sgd")
    ap.add_argument("--lr", type=float)
    a = ap.parse_args()
    for t in a.threads or [torch.get_num_threads()]:
        torch.set_num_threads(t)
        for b in a.batch_size or [64]:
            torch.manual_seed(0)
            net, shape, loss_fn = make(a.model)
            if name_is_text(a.model):  # token indices in, the next token at every position out
                x = torch.randint(0, 64, (b, *shape))
                out = net.eval()(x[:1])
                y = torch.randint(0, out.shape[-1], (b, out.shape[1]))
            else:
                x = torch.randn(b, *shape)
                out = net.eval()(x[:1])
                y = torch.randint(0, out.shape[1], (b,))
            if a.kind == "train":
                net.train()
                opt = optimizer(a.optimizer, net.parameters(), a.lr)

                def step():
                    opt.zero_grad()
                    loss_fn(net(x), y).backward()
                    opt.step()
            else:
                net.eval()

                def step():
                    with torch.no_grad():
                        net(x)
            step(); step()
            times = []
            start = time.perf_counter()
            while time.perf_counter() - start < 0.1:  # warm-up, as neurone bench does
                step()
            for _ in range(a.repeats):
                t0 = time.perf_counter()
                for _ in range(a.steps):
                    step()
                times.append(time.perf_counter() - t0)
            secs = statistics.median(times)
            row = {"kind": a.kind, "model": a.model, "batch": b, "threads": t}
            if a.kind == "train":
                row["optimizer"] = a.optimizer
            row.update({"samples_per_s": round(b * a.steps / secs, 1), "ms_per_step": round(secs / a.steps * 1e3, 3),
                        "peak_rss_mb": round(peak_rss_mb(), 1), "framework": f"torch {torch.__version__}"})
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
