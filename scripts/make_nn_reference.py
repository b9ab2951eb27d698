#!/usr/bin/env python3
"""Writes Tests/NeuroneTests/Reference/nn.json: PyTorch's outputs and gradients for Neurone's
layers, activations and losses on the same inputs and weights. CI reads the committed file and
needs no PyTorch.

    pip install torch && python3 scripts/make_nn_reference.py

Each case: {"name", "kind": "layer"|"loss", "layer"|"loss": type name, "args": constructor or
call arguments, "train": bool, "state": {name: tensor} (PyTorch state_dict, before the forward),
"inputs": [tensor], "gradOutput": tensor, "output": tensor, "inputGrads": [tensor|null],
"paramGrads": {name: tensor}, "stateAfter": {name: tensor}}. The backward pass seeds the output
with `gradOutput` (a random tensor), so the whole vector-Jacobian product is compared.
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(20261125)
cases = []


def T(t):
    if t is None:
        return None
    t = t.detach()
    if t.dtype == torch.bool:
        return {"shape": list(t.shape), "dtype": "bool", "data": [bool(v) for v in t.reshape(-1).tolist()]}
    if t.dtype in (torch.int64, torch.int32):
        return {"shape": list(t.shape), "dtype": "int64", "data": [int(v) for v in t.reshape(-1).tolist()]}
    dt = "float64" if t.dtype == torch.float64 else "float32"
    fmt = ".17g" if dt == "float64" else ".9g"
    data = [float(format(v, fmt)) for v in t.reshape(-1).double().tolist()]
    return {"shape": list(t.shape), "dtype": dt, "data": data}


def layer_case(name, layer_name, args, module, inputs, train=True, prepare=None):
    module.train(train)
    if prepare:
        prepare(module)
    state = {k: T(v) for k, v in module.state_dict().items()}
    inputs = [x.clone().requires_grad_(x.is_floating_point()) for x in inputs]
    out = module(*inputs)
    g = torch.randn_like(out)
    (out * g).sum().backward()
    cases.append({
        "name": name, "kind": "layer", "layer": layer_name, "args": args, "train": train,
        "state": state, "inputs": [T(x) for x in inputs], "gradOutput": T(g), "output": T(out),
        "inputGrads": [T(x.grad) if x.is_floating_point() else None for x in inputs],
        "paramGrads": {k: T(p.grad) for k, p in module.named_parameters() if p.grad is not None},
        "stateAfter": {k: T(v) for k, v in module.state_dict().items()},
    })


def loss_case(name, loss_name, args, fn, inputs, grad_inputs=(0,)):
    inputs = [x.clone().requires_grad_(i in grad_inputs) for i, x in enumerate(inputs)]
    out = fn(*inputs)
    g = torch.randn_like(out)
    (out * g).sum().backward()
    cases.append({
        "name": name, "kind": "loss", "loss": loss_name, "args": args, "train": False, "state": {},
        "inputs": [T(x) for x in inputs], "gradOutput": T(g), "output": T(out),
        "inputGrads": [T(x.grad) if i in grad_inputs else None for i, x in enumerate(inputs)],
        "paramGrads": {}, "stateAfter": {},
    })


r = lambda *s: torch.randn(*s)

# ---- Linear ---------------------------------------------------------------------------------
layer_case("linear 5->3", "Linear", {"in": 5, "out": 3, "bias": True}, nn.Linear(5, 3), [r(2, 5)])
layer_case("linear no bias, 3-D input", "Linear", {"in": 4, "out": 2, "bias": False}, nn.Linear(4, 2, bias=False), [r(2, 3, 4)])
layer_case("linear batch 1", "Linear", {"in": 3, "out": 6, "bias": True}, nn.Linear(3, 6), [r(1, 3)])

# ---- Conv2d ---------------------------------------------------------------------------------
conv_cases = [
    ("3x3 pad 1", dict(i=3, o=4, k=[3, 3], s=[1, 1], p=[1, 1], d=[1, 1], g=1, bias=True), (2, 3, 6, 5)),
    ("stride 2 odd input", dict(i=2, o=3, k=[3, 3], s=[2, 2], p=[0, 0], d=[1, 1], g=1, bias=True), (2, 2, 7, 9)),
    ("stride > kernel", dict(i=2, o=2, k=[2, 2], s=[3, 3], p=[0, 0], d=[1, 1], g=1, bias=True), (1, 2, 8, 7)),
    ("groups 2", dict(i=4, o=6, k=[3, 3], s=[1, 1], p=[1, 1], d=[1, 1], g=2, bias=True), (2, 4, 5, 5)),
    ("depthwise", dict(i=3, o=3, k=[3, 3], s=[1, 1], p=[0, 0], d=[1, 1], g=3, bias=False), (2, 3, 5, 6)),
    ("dilation 2", dict(i=2, o=3, k=[3, 3], s=[1, 1], p=[2, 2], d=[2, 2], g=1, bias=True), (1, 2, 7, 7)),
    ("rect kernel stride pad", dict(i=1, o=2, k=[2, 3], s=[1, 2], p=[1, 0], d=[1, 1], g=1, bias=True), (3, 1, 5, 8)),
    ("exam conv 8 4x4 stride 4 pad 1", dict(i=4, o=8, k=[4, 4], s=[4, 4], p=[1, 1], d=[1, 1], g=1, bias=True), (2, 4, 14, 14)),
    ("same even kernel", dict(i=2, o=2, k=[4, 4], s=[1, 1], p="same", d=[1, 1], g=1, bias=True), (1, 2, 6, 5)),
    ("same dilated", dict(i=2, o=3, k=[3, 3], s=[1, 1], p="same", d=[2, 1], g=1, bias=True), (2, 2, 5, 5)),
]
for name, a, shape in conv_cases:
    m = nn.Conv2d(a["i"], a["o"], a["k"], stride=a["s"], padding=a["p"], dilation=a["d"], groups=a["g"], bias=a["bias"])
    layer_case(f"conv2d {name}", "Conv2d", a, m, [r(*shape)])
m = nn.Conv2d(2, 3, 3, padding=1)
layer_case("conv2d unbatched input", "Conv2d", dict(i=2, o=3, k=[3, 3], s=[1, 1], p=[1, 1], d=[1, 1], g=1, bias=True), m, [r(2, 4, 4)])

for name, a, shape in [
    ("k3 s2 p1", dict(i=3, o=2, k=3, s=2, p=[1], d=1, g=1, bias=True), (2, 3, 9)),
    ("groups same", dict(i=4, o=4, k=4, s=1, p="same", d=1, g=2, bias=True), (1, 4, 7)),
]:
    m = nn.Conv1d(a["i"], a["o"], a["k"], stride=a["s"], padding=a["p"] if a["p"] == "same" else a["p"][0], dilation=a["d"], groups=a["g"], bias=a["bias"])
    layer_case(f"conv1d {name}", "Conv1d", a, m, [r(*shape)])

# ---- ConvTranspose2d --------------------------------------------------------------------------
for name, a, shape in [
    ("k3 s2", dict(i=3, o=2, k=[3, 3], s=[2, 2], p=[0, 0], op=[0, 0], d=[1, 1], g=1, bias=True), (2, 3, 4, 5)),
    ("k4 s2 p1 (upsample x2)", dict(i=4, o=3, k=[4, 4], s=[2, 2], p=[1, 1], op=[0, 0], d=[1, 1], g=1, bias=True), (1, 4, 5, 5)),
    ("output padding", dict(i=2, o=2, k=[3, 3], s=[2, 2], p=[1, 1], op=[1, 1], d=[1, 1], g=1, bias=False), (2, 2, 3, 4)),
    ("groups dilation", dict(i=4, o=6, k=[2, 3], s=[1, 2], p=[0, 1], op=[0, 1], d=[2, 1], g=2, bias=True), (1, 4, 3, 3)),
]:
    m = nn.ConvTranspose2d(a["i"], a["o"], a["k"], stride=a["s"], padding=a["p"], output_padding=a["op"], dilation=a["d"], groups=a["g"], bias=a["bias"])
    layer_case(f"convtranspose2d {name}", "ConvTranspose2d", a, m, [r(*shape)])

# ---- MultiheadAttention ---------------------------------------------------------------------------
def mha_case(name, a, q, k, v, kpm=None, am=None):
    m = nn.MultiheadAttention(a["e"], a["h"], batch_first=a["batchFirst"], bias=a["bias"])
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.randn_like(p) * 0.5)
    m.train(False)
    state = {kk: T(vv) for kk, vv in m.state_dict().items()}
    ins = [t.clone().requires_grad_(True) for t in (q, k, v)]
    out, w = m(ins[0], ins[1], ins[2], key_padding_mask=kpm, attn_mask=am, need_weights=True)
    g = torch.randn_like(out)
    (out * g).sum().backward()
    extra = [kpm, am]
    cases.append({
        "name": name, "kind": "layer", "layer": "MultiheadAttention", "args": dict(a, kpm=kpm is not None, am=am is not None), "train": False,
        "state": state, "inputs": [T(x) for x in ins] + [T(x) for x in extra if x is not None], "gradOutput": T(g), "output": T(out),
        "extraOutputs": [T(w)], "inputGrads": [T(x.grad) for x in ins],
        "paramGrads": {kk: T(p.grad) for kk, p in m.named_parameters() if p.grad is not None},
        "stateAfter": {kk: T(vv) for kk, vv in m.state_dict().items()},
    })


x = r(5, 2, 8)
mha_case("mha self attention", dict(e=8, h=2, batchFirst=False, bias=True), x, x, x)
qb, kb = r(2, 3, 6), r(2, 5, 6)
mha_case("mha cross attention batch first", dict(e=6, h=3, batchFirst=True, bias=True), qb, kb, r(2, 5, 6))
kpm = torch.tensor([[False, False, True, False, True], [False, False, False, False, True]])
mha_case("mha key padding mask", dict(e=6, h=2, batchFirst=True, bias=False), qb, kb, r(2, 5, 6), kpm=kpm)
causal = torch.triu(torch.ones(4, 4, dtype=torch.bool), diagonal=1)
xs = r(2, 4, 4)
mha_case("mha causal bool mask", dict(e=4, h=1, batchFirst=True, bias=True), xs, xs, xs, am=causal)
mha_case("mha float mask unbatched", dict(e=4, h=2, batchFirst=False, bias=True), r(3, 4), r(4, 4), r(4, 4), am=r(3, 4))

# ---- pooling ----------------------------------------------------------------------------------
for name, a, shape in [
    ("k2", dict(k=[2, 2], s=None, p=[0, 0], d=[1, 1], ceil=False), (2, 3, 6, 6)),
    ("k3 s2 p1 odd", dict(k=[3, 3], s=[2, 2], p=[1, 1], d=[1, 1], ceil=False), (1, 2, 7, 5)),
    ("ceil mode", dict(k=[3, 3], s=[2, 2], p=[0, 0], d=[1, 1], ceil=True), (2, 1, 8, 7)),
    ("ceil mode padded", dict(k=[2, 2], s=[2, 2], p=[1, 1], d=[1, 1], ceil=True), (1, 2, 5, 5)),
    ("dilation", dict(k=[2, 2], s=[1, 1], p=[0, 0], d=[2, 2], ceil=False), (1, 1, 5, 6)),
]:
    m = nn.MaxPool2d(a["k"], stride=a["s"], padding=a["p"], dilation=a["d"], ceil_mode=a["ceil"])
    layer_case(f"maxpool2d {name}", "MaxPool2d", a, m, [r(*shape)])
for name, a, shape in [
    ("k2", dict(k=[2, 2], s=None, p=[0, 0], ceil=False, cip=True, div=None), (2, 2, 6, 4)),
    ("k3 s2 p1 count pad", dict(k=[3, 3], s=[2, 2], p=[1, 1], ceil=False, cip=True, div=None), (1, 2, 7, 6)),
    ("k3 s2 p1 exclude pad", dict(k=[3, 3], s=[2, 2], p=[1, 1], ceil=False, cip=False, div=None), (1, 2, 7, 6)),
    ("ceil mode", dict(k=[3, 3], s=[2, 2], p=[0, 0], ceil=True, cip=True, div=None), (2, 1, 8, 8)),
    ("ceil mode padded exclude", dict(k=[2, 2], s=[2, 2], p=[1, 1], ceil=True, cip=False, div=None), (1, 1, 5, 6)),
    ("divisor override", dict(k=[2, 2], s=[1, 1], p=[0, 0], ceil=False, cip=True, div=3), (1, 2, 4, 4)),
]:
    m = nn.AvgPool2d(a["k"], stride=a["s"], padding=a["p"], ceil_mode=a["ceil"], count_include_pad=a["cip"], divisor_override=a["div"])
    layer_case(f"avgpool2d {name}", "AvgPool2d", a, m, [r(*shape)])
for out, shape in [([1, 1], (2, 3, 5, 4)), ([3, 2], (1, 2, 7, 5)), ([2, 2], (1, 1, 4, 6))]:
    layer_case(f"adaptiveavgpool2d {out}", "AdaptiveAvgPool2d", {"out": out}, nn.AdaptiveAvgPool2d(out), [r(*shape)])

# ---- normalisation, embedding ------------------------------------------------------------
def perturb_affine(m):
    with torch.no_grad():
        if getattr(m, "weight", None) is not None:
            m.weight.copy_(torch.rand_like(m.weight) + 0.5)
        if getattr(m, "bias", None) is not None:
            m.bias.copy_(torch.randn_like(m.bias))


def perturb_running(m):
    perturb_affine(m)
    with torch.no_grad():
        m.running_mean.copy_(torch.randn_like(m.running_mean))
        m.running_var.copy_(torch.rand_like(m.running_var) + 0.5)


layer_case("batchnorm1d train 2-D", "BatchNorm1d", {"features": 3}, nn.BatchNorm1d(3), [r(4, 3)], prepare=perturb_affine)
layer_case("batchnorm1d train 3-D", "BatchNorm1d", {"features": 3}, nn.BatchNorm1d(3), [r(4, 3, 5)], prepare=perturb_affine)
layer_case("batchnorm2d train", "BatchNorm2d", {"features": 2}, nn.BatchNorm2d(2), [r(3, 2, 4, 4)], prepare=perturb_affine)
layer_case("batchnorm2d eval", "BatchNorm2d", {"features": 2}, nn.BatchNorm2d(2), [r(3, 2, 4, 4)], train=False, prepare=perturb_running)
layer_case("layernorm [5]", "LayerNorm", {"shape": [5]}, nn.LayerNorm(5), [r(3, 5)], prepare=perturb_affine)
layer_case("layernorm [3,4]", "LayerNorm", {"shape": [3, 4]}, nn.LayerNorm([3, 4]), [r(2, 3, 4)], prepare=perturb_affine)
layer_case("embedding", "Embedding", {"num": 10, "dim": 3, "padding": None}, nn.Embedding(10, 3), [torch.tensor([[1, 2, 4], [4, 3, 9]])])
layer_case("embedding padding_idx", "Embedding", {"num": 6, "dim": 2, "padding": 0}, nn.Embedding(6, 2, padding_idx=0), [torch.tensor([0, 2, 0, 5])])

# ---- activations -----------------------------------------------------------------------------
x = r(2, 3, 4) * 3
acts = [
    ("ReLU", {}, nn.ReLU()), ("Sigmoid", {}, nn.Sigmoid()), ("Tanh", {}, nn.Tanh()),
    ("LeakyReLU", {"slope": 0.01}, nn.LeakyReLU(0.01)), ("LeakyReLU", {"slope": 0.2}, nn.LeakyReLU(0.2)),
    ("PReLU", {"num": 1}, nn.PReLU()), ("PReLU", {"num": 3}, nn.PReLU(3, init=0.1)),
    ("ELU", {"alpha": 1.0}, nn.ELU()), ("ELU", {"alpha": 0.5}, nn.ELU(0.5)),
    ("GELU", {"approximate": "none"}, nn.GELU()), ("GELU", {"approximate": "tanh"}, nn.GELU("tanh")),
    ("SiLU", {}, nn.SiLU()), ("Softplus", {"beta": 2.0, "threshold": 5.0}, nn.Softplus(2.0, 5.0)),
    ("Softmax", {"dim": 1}, nn.Softmax(dim=1)), ("LogSoftmax", {"dim": -1}, nn.LogSoftmax(dim=-1)),
    ("Flatten", {}, nn.Flatten()), ("Identity", {}, nn.Identity()),
]
for name, a, m in acts:
    layer_case(f"{name} {a}", name, a, m, [x])

# ---- losses --------------------------------------------------------------------------------------
a, b = r(4, 3), r(4, 3)
for red in ("mean", "sum", "none"):
    loss_case(f"mse {red}", "mse", {"reduction": red}, lambda i, t: F.mse_loss(i, t, reduction=red), [a, b])
    loss_case(f"l1 {red}", "l1", {"reduction": red}, lambda i, t: F.l1_loss(i, t, reduction=red), [a, b])
    loss_case(f"smoothl1 beta 0.5 {red}", "smoothL1", {"reduction": red, "beta": 0.5}, lambda i, t: F.smooth_l1_loss(i, t, reduction=red, beta=0.5), [a, b])
loss_case("smoothl1 beta 1", "smoothL1", {"reduction": "mean", "beta": 1.0}, lambda i, t: F.smooth_l1_loss(i, t), [a, b])
loss_case("half sum squared error", "halfSSE", {}, lambda i, t: 0.5 * ((t - i) ** 2).sum(), [a, b])
p = torch.rand(4, 3) * 0.9 + 0.05
y = (torch.rand(4, 3) > 0.5).float()
w = torch.rand(4, 3) + 0.5
for red in ("mean", "sum", "none"):
    loss_case(f"bce {red}", "bce", {"reduction": red}, lambda i, t: F.binary_cross_entropy(i, t, reduction=red), [p, y])
loss_case("bce weighted", "bce", {"reduction": "mean", "weight": True}, lambda i, t, ww: F.binary_cross_entropy(i, t, weight=ww), [p, y, w])
logits = r(4, 3) * 4
pw = torch.tensor([0.5, 2.0, 3.0])
loss_case("bce logits", "bceLogits", {"reduction": "mean"}, lambda i, t: F.binary_cross_entropy_with_logits(i, t), [logits, y])
loss_case("bce logits pos_weight sum", "bceLogits", {"reduction": "sum", "posWeight": True},
          lambda i, t, q: F.binary_cross_entropy_with_logits(i, t, pos_weight=q, reduction="sum"), [logits, y, pw])
loss_case("bce logits extreme", "bceLogits", {"reduction": "none"}, lambda i, t: F.binary_cross_entropy_with_logits(i, t, reduction="none"),
          [torch.tensor([-200.0, -20.0, 0.0, 20.0, 200.0]), torch.tensor([1.0, 0.0, 1.0, 0.0, 1.0])])
lg = r(5, 4) * 2
tgt = torch.tensor([0, 3, 1, 1, 2])
cw = torch.tensor([0.2, 1.0, 2.0, 0.7])
for red in ("mean", "sum", "none"):
    loss_case(f"cross entropy {red}", "crossEntropy", {"reduction": red}, lambda i, t: F.cross_entropy(i, t, reduction=red), [lg, tgt])
loss_case("cross entropy weighted", "crossEntropy", {"reduction": "mean", "weight": True}, lambda i, t, ww: F.cross_entropy(i, t, weight=ww), [lg, tgt, cw])
tgt_ign = torch.tensor([0, -100, 1, 1, -100])
loss_case("cross entropy ignore_index", "crossEntropy", {"reduction": "mean"}, lambda i, t: F.cross_entropy(i, t), [lg, tgt_ign])
loss_case("cross entropy label smoothing", "crossEntropy", {"reduction": "mean", "labelSmoothing": 0.1},
          lambda i, t: F.cross_entropy(i, t, label_smoothing=0.1), [lg, tgt])
loss_case("cross entropy smoothing weighted ignore", "crossEntropy", {"reduction": "mean", "labelSmoothing": 0.2, "weight": True},
          lambda i, t, ww: F.cross_entropy(i, t, weight=ww, label_smoothing=0.2), [lg, tgt_ign, cw])
loss_case("cross entropy smoothing sum", "crossEntropy", {"reduction": "sum", "labelSmoothing": 0.3},
          lambda i, t: F.cross_entropy(i, t, label_smoothing=0.3, reduction="sum"), [lg, tgt])
lgk = r(2, 3, 4)
tk = torch.tensor([[0, 2, 1, 1], [2, 2, 0, 1]])
loss_case("cross entropy K-dim", "crossEntropy", {"reduction": "mean"}, lambda i, t: F.cross_entropy(i, t), [lgk, tk])
probs = torch.softmax(r(5, 4), dim=1)
loss_case("cross entropy probabilities", "crossEntropy", {"reduction": "mean"}, lambda i, t: F.cross_entropy(i, t), [lg, probs])
loss_case("cross entropy probabilities smoothing weighted", "crossEntropy", {"reduction": "sum", "labelSmoothing": 0.1, "weight": True},
          lambda i, t, ww: F.cross_entropy(i, t, weight=ww, label_smoothing=0.1, reduction="sum"), [lg, probs, cw])
logp = F.log_softmax(r(5, 4), dim=1)
loss_case("nll", "nll", {"reduction": "mean"}, lambda i, t: F.nll_loss(i, t), [logp, tgt])
loss_case("nll weighted sum", "nll", {"reduction": "sum", "weight": True}, lambda i, t, ww: F.nll_loss(i, t, weight=ww, reduction="sum"), [logp, tgt, cw])
q = torch.softmax(r(3, 4), dim=1)
q[0, 1] = 0.0
for red in ("mean", "sum", "batchmean", "none"):
    loss_case(f"kl_div {red}", "klDiv", {"reduction": red}, lambda i, t: F.kl_div(i, t, reduction=red), [F.log_softmax(r(3, 4), 1), q])
loss_case("kl_div log_target", "klDiv", {"reduction": "sum", "logTarget": True},
          lambda i, t: F.kl_div(i, t, reduction="sum", log_target=True), [F.log_softmax(r(3, 4), 1), F.log_softmax(r(3, 4), 1)])
hy = torch.tensor([1.0, -1.0, -1.0, 1.0, -1.0, 1.0])
loss_case("hinge embedding", "hinge", {"reduction": "mean", "margin": 1.0}, lambda i, t: F.hinge_embedding_loss(i, t), [r(6), hy])
loss_case("hinge embedding margin 2 sum", "hinge", {"reduction": "sum", "margin": 2.0},
          lambda i, t: F.hinge_embedding_loss(i, t, margin=2.0, reduction="sum"), [r(6), hy])


def contrastive(e1, e2, l, m=1.0):
    d = 0.5 * ((e1 - e2) ** 2).sum(dim=1)
    return (l * torch.clamp(m - d, min=0) + (1 - l) * d).mean()


loss_case("contrastive", "contrastive", {"margin": 1.0}, contrastive, [r(4, 3) * 0.5, r(4, 3) * 0.5, torch.tensor([0.0, 1.0, 1.0, 0.0])], grad_inputs=(0, 1))


def vae(recon, target, mu, logvar):
    bce = F.binary_cross_entropy(recon, target, reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


loss_case("vae", "vae", {}, vae, [torch.rand(3, 5) * 0.9 + 0.05, torch.rand(3, 5), r(3, 2), r(3, 2) * 0.5], grad_inputs=(0, 2, 3))

here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(here, "..", "Tests", "NeuroneTests", "Reference", "nn.json")
with open(path, "w") as fh:
    json.dump({"generator": "scripts/make_nn_reference.py", "torch": torch.__version__, "cases": cases}, fh, separators=(",", ":"))
print(f"wrote {len(cases)} cases to {os.path.relpath(path)}")
