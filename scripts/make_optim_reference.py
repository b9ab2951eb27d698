#!/usr/bin/env python3
"""Writes Tests/NeuroneTests/Reference/optim.json: torch.optim's parameter trajectories over
several steps for fixed gradients, learning-rate schedules, and gradient clipping.

    pip install torch && python3 scripts/make_optim_reference.py
"""
import json
import os

import torch

torch.manual_seed(11)
STEPS = 5


def T(t):
    t = t.detach().double()
    return {"shape": list(t.shape), "data": [float(format(v, ".17g")) for v in t.reshape(-1).tolist()]}


params0 = [torch.randn(3, 4, dtype=torch.float64), torch.randn(5, dtype=torch.float64)]
grads = [[torch.randn_like(p) for p in params0] for _ in range(STEPS)]

optim_cases = [
    ("SGD plain", "SGD", {"lr": 0.1}),
    ("SGD momentum", "SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD AlexNet", "SGD", {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.0005}),
    ("SGD nesterov wd", "SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01}),
    ("SGD dampening", "SGD", {"lr": 0.05, "momentum": 0.5, "dampening": 0.3}),
    ("SGD maximize", "SGD", {"lr": 0.05, "maximize": True}),
    ("Adam", "Adam", {"lr": 0.01}),
    ("Adam wd amsgrad", "Adam", {"lr": 0.02, "betas": [0.8, 0.99], "weight_decay": 0.1, "amsgrad": True}),
    ("AdamW", "AdamW", {"lr": 0.01, "weight_decay": 0.05}),
    ("RMSprop", "RMSprop", {"lr": 0.01}),
    ("RMSprop centered momentum wd", "RMSprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "centered": True, "weight_decay": 0.01}),
    ("Adagrad", "Adagrad", {"lr": 0.1}),
    ("Adagrad decay init", "Adagrad", {"lr": 0.1, "lr_decay": 0.1, "initial_accumulator_value": 0.5, "weight_decay": 0.02}),
    ("Adadelta", "Adadelta", {"lr": 1.0}),
    ("Adadelta rho wd", "Adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.01}),
]

cases = []
for name, opt, kw in optim_cases:
    ps = [p.clone().requires_grad_(True) for p in params0]
    args = dict(kw)
    if "betas" in args:
        args["betas"] = tuple(args["betas"])
    o = getattr(torch.optim, opt)(ps, **args)
    traj = []
    for t in range(STEPS):
        for p, g in zip(ps, grads[t]):
            p.grad = g.clone()
        o.step()
        traj.append([T(p) for p in ps])
    cases.append({"name": name, "optimizer": opt, "args": kw, "trajectory": traj})

# parameter groups with their own settings
ps = [p.clone().requires_grad_(True) for p in params0]
o = torch.optim.SGD([{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.5, "momentum": 0.5}], lr=0.1)
traj = []
for t in range(STEPS):
    for p, g in zip(ps, grads[t]):
        p.grad = g.clone()
    o.step()
    traj.append([T(p) for p in ps])
cases.append({"name": "SGD groups", "optimizer": "SGDGroups", "args": {}, "trajectory": traj})


def schedule(make, epochs, metrics=None):
    p = torch.zeros(1, requires_grad=True)
    o = torch.optim.SGD([p], lr=0.1)
    s = make(o)
    lrs = []
    for e in range(epochs):
        o.step()
        if metrics is None:
            s.step()
        else:
            s.step(metrics[e])
        lrs.append(o.param_groups[0]["lr"])
    return lrs


plateau_metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.96, 0.8, 0.85, 0.85, 0.85, 0.85, 0.85, 0.9, 0.9, 0.9]
schedules = {
    "StepLR": schedule(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5), 7),
    "ExponentialLR": schedule(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9), 6),
    "CosineAnnealingLR": schedule(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=5, eta_min=0.01), 12),
    "ReduceLROnPlateau": schedule(lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, patience=2, factor=0.5, cooldown=1), 15, plateau_metrics),
}

clip = []
for norm_type in (2.0, 1.0, float("inf")):
    ps = [p.clone().requires_grad_(True) for p in params0]
    for p, g in zip(ps, grads[0]):
        p.grad = g.clone() * 3
    total = torch.nn.utils.clip_grad_norm_(ps, max_norm=1.5, norm_type=norm_type)
    clip.append({"normType": "inf" if norm_type == float("inf") else norm_type, "total": float(total), "grads": [T(p.grad) for p in ps]})

here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(here, "..", "Tests", "NeuroneTests", "Reference", "optim.json")
with open(path, "w") as fh:
    json.dump({"generator": "scripts/make_optim_reference.py", "torch": torch.__version__, "params": [T(p) for p in params0],
               "grads": [[T(g) for g in step] for step in grads], "cases": cases, "schedules": schedules,
               "plateauMetrics": plateau_metrics, "clip": clip}, fh, separators=(",", ":"))
print(f"wrote {len(cases)} optimizer cases to {os.path.relpath(path)}")
