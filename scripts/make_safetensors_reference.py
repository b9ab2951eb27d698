#!/usr/bin/env python3
"""Safetensors interchange with PyTorch, both ways.

    pip install torch safetensors
    python3 scripts/make_safetensors_reference.py          # writes the Python-side files
    python3 scripts/make_safetensors_reference.py --verify # checks the Neurone-written file in PyTorch

Writes, into Tests/NeuroneTests/Reference/:
  python_written.safetensors  tensors of every dtype Neurone reads, plus metadata (Python library);
  course_cnn_torch.safetensors  the course exam CNN built in PyTorch (nn.Sequential, so its
                                state-dict names are 0.weight, 3.weight, ...), seeded weights, with
                                "input" [2, 1, 28, 28] and PyTorch's "output" stored beside them.
--verify loads neurone_written.safetensors (Neurone's encoding of the tensors below; the Swift test
compares its encoder with it byte for byte and, when they differ, writes the new bytes to the
temporary directory to be copied here) with the Python library and checks every value and the metadata.
"""
import os
import sys

import torch
from safetensors.torch import load_file, save_file
from safetensors import safe_open

REF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "NeuroneTests", "Reference")


def expected_neurone_tensors():
    # The same values the Swift test writes (see SafetensorsTests.neuroneTensors).
    return {
        "weights.f32": torch.arange(6, dtype=torch.float32).reshape(2, 3) * 0.5 - 1,
        "weights.f64": torch.tensor([1.0 / 3, -2.5, 1e-300], dtype=torch.float64),
        "counts.i64": torch.tensor([[1, -2], [3, 4000000000]], dtype=torch.int64),
        "counts.i32": torch.tensor([7, -8, 9], dtype=torch.int32),
        "mask": torch.tensor([True, False, True, True]),
        "scalar": torch.tensor(2.5, dtype=torch.float32),
        "empty": torch.zeros(0, 3, dtype=torch.float32),
    }


def course_cnn():
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, stride=1, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, 8, 4, stride=4, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(32, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10), torch.nn.Softmax(dim=1))


if "--verify" in sys.argv:
    path = os.path.join(REF, "neurone_written.safetensors")
    got = load_file(path)
    want = expected_neurone_tensors()
    assert set(got) == set(want), (sorted(got), sorted(want))
    for k, v in want.items():
        assert got[k].dtype == v.dtype and got[k].shape == v.shape and torch.equal(got[k], v), k
    with safe_open(path, "pt") as f:
        assert f.metadata() == {"format": "pt", "producer": "neurone"}, f.metadata()
    model = course_cnn()
    state = load_file(os.path.join(REF, "course_cnn_torch.safetensors"))
    print("neurone_written.safetensors: all tensors and metadata match in PyTorch")
    sys.exit(0)

save_file({
    "f32": torch.tensor([[1.5, -2.0], [3.25, 1e-8]], dtype=torch.float32),
    "f64": torch.tensor([0.1, -1e300, 7.0], dtype=torch.float64),
    "i64": torch.tensor([-(2 ** 40), 5], dtype=torch.int64),
    "i32": torch.tensor([[1], [2], [-3]], dtype=torch.int32),
    "bool": torch.tensor([False, True]),
    "scalar": torch.tensor(4.0, dtype=torch.float32),
}, os.path.join(REF, "python_written.safetensors"), metadata={"format": "pt", "note": "written by the Python safetensors library"})

torch.manual_seed(5)
model = course_cnn().eval()
x = torch.rand(2, 1, 28, 28)
with torch.no_grad():
    y = model(x)
state = {k: v.contiguous() for k, v in model.state_dict().items()}
state["input"] = x
state["output"] = y
save_file(state, os.path.join(REF, "course_cnn_torch.safetensors"), metadata={"format": "pt"})
print("wrote python_written.safetensors and course_cnn_torch.safetensors")
