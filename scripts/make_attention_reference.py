#!/usr/bin/env python3
"""The named model "attention" (bench/torch_reference.py's AttentionClassifier) built in PyTorch with
seeded weights, saved with its state dict, an input batch and PyTorch's output (evaluation mode) and
input gradient of sum(output²): Tests/NeuroneTests/Reference/attention_torch.safetensors.

    pip install torch safetensors
    python3 scripts/make_attention_reference.py
"""
import importlib.util
import os

import torch
from safetensors.torch import save_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
spec = importlib.util.spec_from_file_location("ref", os.path.join(ROOT, "bench", "torch_reference.py"))
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)

torch.manual_seed(7)
net = ref.AttentionClassifier().eval()
with torch.no_grad():  # non-zero biases, so that every term is exercised
    for name, p in net.named_parameters():
        if name.endswith("bias"):
            p.normal_(0, 0.1)
x = torch.rand(3, 1, 28, 28, requires_grad=True)
y = net(x)
(y * y).sum().backward()
tensors = {k: v.detach().contiguous() for k, v in net.state_dict().items()}
tensors.update({"input": x.detach(), "output": y.detach(), "input_grad": x.grad.detach()})
save_file(tensors, os.path.join(ROOT, "Tests", "NeuroneTests", "Reference", "attention_torch.safetensors"), metadata={"format": "pt"})
print(sorted(tensors))
