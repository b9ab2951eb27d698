#!/usr/bin/env python3
"""Writes the PyTorch-exported ONNX models that Neurone's import is tested on
(Tests/NeuroneTests/Reference/onnx/torch_NAME.onnx) with a seeded input and PyTorch's output on
it (torch_NAME.safetensors: "input", "output").

    pip install torch onnx onnxscript safetensors
    python3 scripts/make_onnx_import_reference.py

The models: PyTorch twins of Neurone's mnist-cnn, lenet5 and mlp (bench/torch_reference.py) and a
small network using every other operator import reads, exported by torch.onnx.export (the dynamo
exporter, opset 18) with a symbolic batch; batch-first LSTM, GRU and RNN classifiers, also through
the TorchScript exporter (dynamo=False: *_legacy), whose graphs compute the zero initial states and
Reshape targets from the input's shape; PyTorch's nn.TransformerEncoder (post-norm, and pre-norm with GELU and a
causal mask) and nn.MultiheadAttention (with and without biases) through both exporters; nn.RNN
through the dynamo exporter, which unrolls its steps; a GPT-like character model (TransformerLM).

    python3 scripts/make_onnx_import_reference.py [NAME ...]   (only those models)
"""
import pathlib
import sys

import torch
import torch.nn as nn
from safetensors.torch import save_file

root = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(root / "bench"))
import torch_reference  # noqa: E402

out = root / "Tests/NeuroneTests/Reference/onnx"


def wide():
    """Conv/BatchNorm/PReLU/pools/LayerNorm/GELU/LeakyReLU/ELU/SiLU/Softmax: every other layer import reads."""
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.PReLU(4), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, padding=1, groups=2, bias=False), nn.ELU(0.5), nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False),
        nn.Flatten(), nn.Linear(54, 24), nn.LayerNorm(24), nn.GELU(), nn.Dropout(0.3), nn.Linear(24, 16), nn.LeakyReLU(0.2),
        nn.Linear(16, 8), nn.SiLU(), nn.Linear(8, 5), nn.Softmax(dim=1))


class ViewMLP(nn.Module):
    """An MLP that flattens with x.view(x.size(0), -1): the Reshape's target computed from the input's shape."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(36, 12), nn.Linear(12, 4)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x.view(x.size(0), -1))))


class Recurrent(nn.Module):
    """A recurrent layer (batch first) read at its last step or averaged over steps, then a Linear."""

    def __init__(self, layer, features, classes, reduce):
        super().__init__()
        self.rnn, self.fc, self.reduce = layer, nn.Linear(features, classes), reduce

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.fc(y[:, -1] if self.reduce == "last" else y.mean(dim=1))


class Encoder(nn.Module):
    """PyTorch's own nn.TransformerEncoder (batch first), averaged over steps, then a Linear; with
    `causal`, the square subsequent mask and is_causal=True."""

    def __init__(self, layers, norm_first, activation, causal):
        super().__init__()
        layer = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.1, activation=activation, batch_first=True, norm_first=norm_first)
        self.encoder, self.fc, self.causal = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False), nn.Linear(16, 3), causal

    def forward(self, x):
        if self.causal:
            mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1])
            return self.fc(self.encoder(x, mask=mask, is_causal=True).mean(dim=1))
        return self.fc(self.encoder(x).mean(dim=1))


class Attention(nn.Module):
    """PyTorch's nn.MultiheadAttention as self-attention (batch first), averaged over steps, then a Linear."""

    def __init__(self, heads, bias):
        super().__init__()
        self.attention, self.fc = nn.MultiheadAttention(12, heads, batch_first=True, bias=bias), nn.Linear(12, 2)

    def forward(self, x):
        return self.fc(self.attention(x, x, x)[0].mean(dim=1))


class TransformerLM(nn.Module):
    """A small GPT-like character model as PyTorch users write one: token and position embeddings
    (positions as nn.Embedding over torch.arange), a causal pre-norm nn.TransformerEncoder, a final
    LayerNorm and the head; left at its initial weights, so the exporter passes equal ones
    (LayerNorm's ones and zeros, the second layer's copies) through Identity nodes."""

    def __init__(self):
        super().__init__()
        self.tokens, self.positions = nn.Embedding(20, 8), nn.Embedding(6, 8)
        layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.norm, self.head = nn.LayerNorm(8), nn.Linear(8, 20)

    def forward(self, x):
        h = self.tokens(x) + self.positions(torch.arange(x.shape[1]))
        mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1])
        return self.head(self.norm(self.encoder(h, mask=mask, is_causal=True)))


class RecurrentLM(nn.Module):
    """A character model: an embedding, a 2-layer recurrent layer, a head on every step."""

    def __init__(self, layer):
        super().__init__()
        self.tokens, self.rnn, self.head = nn.Embedding(20, 8), layer(8, 12, num_layers=2, batch_first=True, dropout=0.2), nn.Linear(12, 20)

    def forward(self, x):
        y, _ = self.rnn(self.tokens(x))
        return self.head(y)


def gap_cnn():
    """A CNN ending in AdaptiveAvgPool2d((1, 1)), which the dynamo exporter writes as ReduceMean over H and W."""
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding="same"), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 8, 3), nn.ReLU(),
                         nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Dropout(0.5), nn.Linear(8, 3), nn.LogSoftmax(dim=1))


def decoder():
    """A decoder: Linear, nn.Unflatten to an image, ConvTranspose2d (the TorchScript exporter computes
    Unflatten's target with Mod and a Slice to INT64_MAX)."""
    return nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Unflatten(1, (2, 4, 4)),
                         nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid())


class TextCNN(nn.Module):
    """Embedded tokens permuted to channels × steps for a Conv1d, averaged over the steps."""

    def __init__(self):
        super().__init__()
        self.tokens, self.conv, self.fc = nn.Embedding(20, 8), nn.Conv1d(8, 6, 3, padding=1), nn.Linear(6, 2)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(self.tokens(x).permute(0, 2, 1))).mean(dim=2))


TOKEN_INPUTS = {"transformer_lm_legacy", "rnn_lm", "text_cnn"}   # models whose input is token indices (0…19)


def main():
    out.mkdir(parents=True, exist_ok=True)
    only = set(sys.argv[1:])   # names to write (all when none): the dynamo exports differ in bytes on every run
    models = [("mnist_cnn", lambda: torch_reference.make("mnist-cnn")[0], (1, 28, 28)),
              ("lenet5", lambda: torch_reference.make("lenet5")[0], (1, 28, 28)),
              ("mlp", lambda: torch_reference.make("mlp")[0], (1, 28, 28)),
              ("wide", wide, (1, 12, 12)),
              # recurrent layers: the dynamo exporter, and the TorchScript one (dynamo=False, "legacy")
              ("lstm", lambda: Recurrent(nn.LSTM(5, 8, num_layers=2, bidirectional=True, batch_first=True), 16, 3, "last"), (6, 5)),
              ("gru", lambda: Recurrent(nn.GRU(5, 6, batch_first=True), 6, 2, "mean"), (7, 5)),
              # the dynamo exporter unrolls an RNN into per-step MatMuls (import recognises them by what they compute)
              ("rnn_legacy", lambda: Recurrent(nn.RNN(4, 7, nonlinearity="relu", bias=False, batch_first=True), 7, 2, "last"), (5, 4)),
              ("lstm_legacy", lambda: Recurrent(nn.LSTM(5, 8, num_layers=2, bidirectional=True, batch_first=True), 16, 3, "last"), (6, 5)),
              ("gru_legacy", lambda: Recurrent(nn.GRU(5, 6, num_layers=2, batch_first=True), 6, 2, "mean"), (7, 5)),
              ("view_mlp_legacy", ViewMLP, (1, 6, 6)),
              # PyTorch's own Transformer encoder and multi-head attention (weights and biases
              # perturbed from their initial values, so that no two are equal or zero)
              ("encoder", lambda: Encoder(2, False, "relu", False), (5, 16)),
              ("encoder_causal_legacy", lambda: Encoder(2, True, "gelu", True), (6, 16)),
              ("attention", lambda: Attention(3, True), (4, 12)),
              ("attention_legacy", lambda: Attention(2, False), (5, 12)),
              ("rnn", lambda: Recurrent(nn.RNN(4, 7, num_layers=2, bidirectional=True, batch_first=True), 14, 2, "last"), (5, 4)),
              ("rnn_relu", lambda: Recurrent(nn.RNN(3, 6, nonlinearity="relu", bias=False, batch_first=True), 6, 2, "mean"), (4, 3)),
              ("transformer_lm_legacy", TransformerLM, (6,)),
              # an unrolled RNN whose zero state is computed from the graph's input, not the layer's
              ("rnn_lm", lambda: RecurrentLM(nn.RNN), (7,)),
              ("gap_cnn", gap_cnn, (1, 10, 10)),
              ("decoder_legacy", decoder, (6,)),
              ("text_cnn", TextCNN, (9,))]
    for seed, (name, make, shape) in enumerate(models):
        if only and name not in only:
            continue
        torch.manual_seed(seed)
        model = make()
        if name.startswith(("encoder", "attention")):
            with torch.no_grad():
                for p in model.parameters():
                    p.add_(torch.randn_like(p) * 0.2)
        if name == "wide":   # learned-looking batch-norm statistics
            model.train()
            with torch.no_grad():
                for _ in range(5):
                    model(torch.randn(16, *shape) * 2 + 0.5)
        model.eval()
        x = torch.randint(0, 20, (3, *shape)) if name in TOKEN_INPUTS else torch.randn(3, *shape)
        with torch.no_grad():
            y = model(x)
        path = out / f"torch_{name}.onnx"
        if name.endswith("_legacy"):
            torch.onnx.export(model, (x,), str(path), input_names=["input"], output_names=["output"], opset_version=18,
                              dynamo=False, dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
        else:
            torch.onnx.export(model, (x,), str(path), input_names=["input"], output_names=["output"], opset_version=18,
                              dynamic_shapes=({0: torch.export.Dim("batch")},), external_data=False)
        save_file({"input": x.contiguous(), "output": y.contiguous()}, str(out / f"torch_{name}.safetensors"))
        print(f"wrote {path} ({path.stat().st_size} bytes), PyTorch {torch.__version__}")


if __name__ == "__main__":
    main()
