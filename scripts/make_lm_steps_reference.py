#!/usr/bin/env python3
"""Reference training trajectories of small character-level language models (issue 22):
PyTorch's twins of Neurone's specs
    lstm:        embedding(12,8) lstm(16) linear(12)
    transformer: embedding(12,16) posenc encoder(2,ff=32,layers=2,dropout=0,norm_first=true,causal=true) layernorm linear(12)
trained in float32 with Adam (lr 0.01) for 25 steps on seeded batches of 8 sequences of 10 tokens,
the loss being the mean cross-entropy over every position. Written to
Tests/NeuroneTests/Reference/lm_steps_torch.safetensors: for each model M, its initial parameters
(`M.init.NAME`, Neurone's names), the batches (`M.x`, `M.y`: [steps, 8, 10] int64), the loss of
every step (`M.losses`) and the parameters after the last step (`M.final.NAME`).
LanguageModelStepTests replays the same steps in Neurone.

    pip install torch safetensors
    python3 scripts/make_lm_steps_reference.py
"""
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
V, T, N, STEPS, LR = 12, 10, 8, 25, 0.01


class LSTMModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(V, 8)
        self.lstm = nn.LSTM(8, 16, batch_first=True)
        self.fc = nn.Linear(16, V)

    def forward(self, x):
        return self.fc(self.lstm(self.emb(x))[0])

    def neurone_names(self):
        names = {"emb.weight": "0.weight", "fc.weight": "2.weight", "fc.bias": "2.bias"}
        for n, _ in self.lstm.named_parameters():
            names["lstm." + n] = "1." + n
        return names


class TransformerModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(V, 16)
        position = torch.arange(T).unsqueeze(1)
        div = torch.exp(torch.arange(0, 16, 2) * (-math.log(10000.0) / 16))
        pe = torch.zeros(T, 16)
        pe[:, 0::2] = torch.sin(position * div)
        pe[:, 1::2] = torch.cos(position * div)
        self.register_buffer("pe", pe)
        layer = nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.0, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(16)
        self.fc = nn.Linear(16, V)

    def forward(self, x):
        mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1])
        return self.fc(self.norm(self.encoder(self.emb(x) + self.pe, mask=mask, is_causal=True)))

    def neurone_names(self):
        names = {"emb.weight": "0.weight", "norm.weight": "3.weight", "norm.bias": "3.bias", "fc.weight": "4.weight", "fc.bias": "4.bias"}
        for n, _ in self.encoder.named_parameters():
            names["encoder." + n] = "2." + n
        return names


tensors = {}
for key, cls in [("lstm", LSTMModel), ("transformer", TransformerModel)]:
    torch.manual_seed(7)
    model = cls()
    names = model.neurone_names()
    assert set(names) == {n for n, _ in model.named_parameters()}
    for n, p in model.named_parameters():
        tensors[f"{key}.init.{names[n]}"] = p.detach().clone().contiguous()
    # batches drawn from a tiny "language": mostly the next token after the previous one
    g = torch.Generator().manual_seed(11)
    start = torch.randint(0, V, (STEPS, N, 1), generator=g)
    jumps = (torch.rand(STEPS, N, T + 1, generator=g) < 0.2).long() * torch.randint(0, V, (STEPS, N, T + 1), generator=g)
    seq = (start + torch.arange(T + 1) + jumps.cumsum(-1)) % V
    x, y = seq[..., :T].contiguous(), seq[..., 1:].contiguous()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    losses = []
    for s in range(STEPS):
        out = model(x[s])
        loss = F.cross_entropy(out.reshape(-1, V), y[s].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    tensors[f"{key}.x"], tensors[f"{key}.y"] = x, y
    tensors[f"{key}.losses"] = torch.tensor(losses, dtype=torch.float64)
    for n, p in model.named_parameters():
        tensors[f"{key}.final.{names[n]}"] = p.detach().clone().contiguous()
    print(key, "loss", f"{losses[0]:.4f} -> {losses[-1]:.4f}")

path = os.path.join(ROOT, "Tests/NeuroneTests/Reference/lm_steps_torch.safetensors")
save_file(tensors, path, metadata={"steps": str(STEPS), "lr": str(LR), "torch": torch.__version__})
print("wrote", path)
