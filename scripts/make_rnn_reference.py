#!/usr/bin/env python3
"""Reference vectors for the recurrent layers (issue 22): PyTorch's RNN, LSTM, GRU and their cells
with seeded weights in float64, on seeded inputs and initial states. For each case: the parameters
(PyTorch's state-dict names), inputs, outputs, final states, and the gradients of the input, the
initial states and every parameter of L = Σ output·w_out + Σ h_n·w_h (+ Σ c_n·w_c), with w_* seeded
too. Written to Tests/NeuroneTests/Reference/rnn_torch.safetensors; the cases' settings are in
its metadata ("cases", JSON).

    pip install torch safetensors
    python3 scripts/make_rnn_reference.py
"""
import json
import os

import torch
from safetensors.torch import save_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
torch.manual_seed(22)
torch.set_default_dtype(torch.float64)

# name: (layer, constructor kwargs, input shape, with initial state)
CASES = {
    "rnn_tanh_2layer_bidir": ("RNN", dict(input_size=5, hidden_size=7, num_layers=2, bidirectional=True), [6, 3, 5], True),
    "rnn_relu_batch_first": ("RNN", dict(input_size=4, hidden_size=6, nonlinearity="relu", batch_first=True), [3, 5, 4], False),
    "lstm_2layer_bidir": ("LSTM", dict(input_size=5, hidden_size=8, num_layers=2, bidirectional=True), [6, 3, 5], True),
    "lstm_batch_first_nobias": ("LSTM", dict(input_size=3, hidden_size=4, batch_first=True, bias=False), [2, 7, 3], False),
    "lstm_long": ("LSTM", dict(input_size=3, hidden_size=5), [60, 2, 3], True),
    "gru_2layer_bidir": ("GRU", dict(input_size=5, hidden_size=6, num_layers=2, bidirectional=True), [6, 3, 5], True),
    "gru_unbatched": ("GRU", dict(input_size=4, hidden_size=5), [8, 4], True),
    "gru_long_reverse": ("GRU", dict(input_size=2, hidden_size=3, bidirectional=True), [55, 2, 2], False),
    "rnncell": ("RNNCell", dict(input_size=4, hidden_size=6), [3, 4], True),
    "rnncell_relu": ("RNNCell", dict(input_size=4, hidden_size=6, nonlinearity="relu"), [3, 4], True),
    "lstmcell": ("LSTMCell", dict(input_size=4, hidden_size=5), [3, 4], True),
    "grucell": ("GRUCell", dict(input_size=4, hidden_size=5, bias=False), [4], True),
}

tensors, meta = {}, {}
for name, (kind, kwargs, shape, with_state) in CASES.items():
    layer = getattr(torch.nn, kind)(**kwargs)
    x = torch.randn(*shape, requires_grad=True)
    cell = kind.endswith("Cell")
    hidden = kwargs["hidden_size"]
    unbatched = len(shape) == (1 if cell else 2)
    if cell:
        state_shape = [hidden] if unbatched else [shape[0], hidden]
    else:
        d = 2 if kwargs.get("bidirectional") else 1
        batch = None if unbatched else (shape[0] if kwargs.get("batch_first") else shape[1])
        state_shape = [kwargs.get("num_layers", 1) * d] + ([] if unbatched else [batch]) + [hidden]
    lstm = kind.startswith("LSTM")
    h0 = torch.randn(*state_shape, requires_grad=True) if with_state else None
    c0 = torch.randn(*state_shape, requires_grad=True) if with_state and lstm else None
    if cell:
        out = layer(x, (h0, c0) if lstm and with_state else h0)
        (h, c) = out if lstm else (out, None)
        output, hn, cn = h, None, c
    else:
        output, st = layer(x, ((h0, c0) if lstm else h0) if with_state else None)
        hn, cn = st if lstm else (st, None)
    loss = 0
    for what, t in [("output", output), ("h_n", hn), ("c_n", cn)]:
        if t is None:
            continue
        w = torch.randn(*t.shape)
        tensors[f"{name}.w_{what}"] = w
        tensors[f"{name}.{what}"] = t.detach().clone()
        loss = loss + (t * w).sum()
    loss.backward()
    for pname, p in layer.named_parameters():
        tensors[f"{name}.param.{pname}"] = p.detach().clone()
        tensors[f"{name}.grad.param.{pname}"] = p.grad.detach().clone()
    tensors[f"{name}.input"] = x.detach().clone()
    tensors[f"{name}.grad.input"] = x.grad.detach().clone()
    for sname, s in [("h0", h0), ("c0", c0)]:
        if s is not None:
            tensors[f"{name}.{sname}"] = s.detach().clone()
            tensors[f"{name}.grad.{sname}"] = s.grad.detach().clone()
    meta[name] = dict(kind=kind, **kwargs)

path = os.path.join(ROOT, "Tests", "NeuroneTests", "Reference", "rnn_torch.safetensors")
save_file({k: v.contiguous() for k, v in tensors.items()}, path,
          metadata={"format": "pt", "torch": torch.__version__, "cases": json.dumps(meta, sort_keys=True)})
print(f"{len(tensors)} tensors, {len(meta)} cases -> {path}")
