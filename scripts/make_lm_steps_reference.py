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
import os
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
from torch_reference import CharLSTM, CharTransformer  # the twins of Neurone's named models, here smaller

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
V, T, N, STEPS, LR = 12, 10, 8, 25, 0.01


def lstm_model():
    return CharLSTM(V, emb=8, hidden=16)


def transformer_model():
    return CharTransformer(V, T, d=16, heads=2, ff=32)


def neurone_names(model):
    """PyTorch's parameter names → Neurone's (the spec's Sequential numbers its layers)."""
    if isinstance(model, CharLSTM):
        names = {"emb.weight": "0.weight", "fc.weight": "2.weight", "fc.bias": "2.bias"}
        names.update({"lstm." + n: "1." + n for n, _ in model.lstm.named_parameters()})
    else:
        names = {"emb.weight": "0.weight", "norm.weight": "3.weight", "norm.bias": "3.bias", "fc.weight": "4.weight", "fc.bias": "4.bias"}
        names.update({"encoder." + n: "2." + n for n, _ in model.encoder.named_parameters()})
    return names


tensors = {}
for key, make in [("lstm", lstm_model), ("transformer", transformer_model)]:
    torch.manual_seed(7)
    model = make()
    names = neurone_names(model)
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
