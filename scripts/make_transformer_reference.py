#!/usr/bin/env python3
"""Reference vectors for the Transformer layers (issue 22): PyTorch's TransformerEncoderLayer,
TransformerEncoder and TransformerDecoderLayer with seeded weights in float64 and dropout 0, on
seeded inputs and masks: outputs, and the gradients of the inputs and of every parameter of
L = Σ output·w. Written to Tests/NeuroneTests/Reference/transformer_torch.safetensors; the cases'
settings are in its metadata ("cases", JSON).

    pip install torch safetensors
    python3 scripts/make_transformer_reference.py
"""
import json
import os

import torch
import torch.nn as nn
from safetensors.torch import save_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
torch.manual_seed(23)
torch.set_default_dtype(torch.float64)


def causal(n):
    return torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1)


def randomize(module):  # non-trivial norms and biases, so that every term is exercised
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("bias") or "norm" in name:
                p.add_(torch.randn_like(p) * 0.1)


CASES = {
    "encoder_post_relu_masks": dict(kind="encoder_layer", d_model=8, nhead=2, dim_feedforward=16, activation="relu",
                                    batch_first=False, norm_first=False, src=[5, 3, 8], causal=True, padding=[[0, 0, 0, 0, 1], [0] * 5, [0, 0, 0, 1, 1]]),
    "encoder_pre_gelu_batch_first": dict(kind="encoder_layer", d_model=8, nhead=4, dim_feedforward=12, activation="gelu",
                                         batch_first=True, norm_first=True, src=[3, 6, 8], causal=False, padding=None),
    "encoder_stack_norm_causal": dict(kind="encoder", d_model=8, nhead=2, dim_feedforward=10, activation="relu", layers=2,
                                      batch_first=True, norm_first=True, src=[2, 4, 8], causal=True, padding=None),
    "decoder_post_batch_first": dict(kind="decoder_layer", d_model=8, nhead=2, dim_feedforward=16, activation="relu",
                                     batch_first=True, norm_first=False, tgt=[2, 4, 8], memory=[2, 5, 8], causal=True,
                                     memory_padding=[[0, 0, 0, 1, 1], [0] * 5]),
    "decoder_pre_gelu": dict(kind="decoder_layer", d_model=8, nhead=4, dim_feedforward=12, activation="gelu",
                             batch_first=False, norm_first=True, tgt=[3, 2, 8], memory=[4, 2, 8], causal=False, memory_padding=None),
}

tensors = {}
for name, c in CASES.items():
    common = dict(d_model=c["d_model"], nhead=c["nhead"], dim_feedforward=c["dim_feedforward"], dropout=0.0,
                  activation=c["activation"], batch_first=c["batch_first"], norm_first=c["norm_first"])
    if c["kind"] == "decoder_layer":
        layer = nn.TransformerDecoderLayer(**common)
    elif c["kind"] == "encoder_layer":
        layer = nn.TransformerEncoderLayer(**common)
    else:
        layer = nn.TransformerEncoder(nn.TransformerEncoderLayer(**common), num_layers=c["layers"], norm=nn.LayerNorm(c["d_model"]),
                                      enable_nested_tensor=False)
    randomize(layer)
    layer.eval()
    if c["kind"] == "decoder_layer":
        tgt = torch.randn(*c["tgt"], requires_grad=True)
        memory = torch.randn(*c["memory"], requires_grad=True)
        t = c["tgt"][1 if c["batch_first"] else 0]
        mask = causal(t) if c["causal"] else None
        mkpm = torch.tensor(c["memory_padding"], dtype=torch.bool) if c["memory_padding"] else None
        out = layer(tgt, memory, tgt_mask=mask, memory_key_padding_mask=mkpm)
        inputs = {"tgt": tgt, "memory": memory}
        if mkpm is not None:
            tensors[f"{name}.memory_key_padding_mask"] = mkpm
    else:
        src = torch.randn(*c["src"], requires_grad=True)
        t = c["src"][1 if c["batch_first"] else 0]
        mask = causal(t) if c["causal"] else None
        kpm = torch.tensor(c["padding"], dtype=torch.bool) if c["padding"] else None
        out = layer(src, mask=mask, src_key_padding_mask=kpm) if c["kind"] == "encoder" else layer(src, src_mask=mask, src_key_padding_mask=kpm)
        inputs = {"src": src}
        if kpm is not None:
            tensors[f"{name}.key_padding_mask"] = kpm
    w = torch.randn(*out.shape)
    (out * w).sum().backward()
    tensors[f"{name}.w_output"] = w
    tensors[f"{name}.output"] = out.detach().clone()
    for k, v in inputs.items():
        tensors[f"{name}.{k}"] = v.detach().clone()
        tensors[f"{name}.grad.{k}"] = v.grad.detach().clone()
    for pname, p in layer.named_parameters():
        tensors[f"{name}.param.{pname}"] = p.detach().clone()
        tensors[f"{name}.grad.param.{pname}"] = p.grad.detach().clone()

path = os.path.join(ROOT, "Tests", "NeuroneTests", "Reference", "transformer_torch.safetensors")
save_file({k: v.contiguous() for k, v in tensors.items()}, path,
          metadata={"format": "pt", "torch": torch.__version__, "cases": json.dumps(CASES, sort_keys=True)})
print(f"{len(tensors)} tensors, {len(CASES)} cases -> {path}")
