#!/usr/bin/env python3
"""Checks Neurone's ONNX exports against ONNX Runtime (pip install onnx onnxruntime numpy).

For every NAME.onnx in DIR with a NAME.safetensors beside it (the sample input and Neurone's
output on it, written by `neurone export --sample` or by the ONNX tests with NEURONE_ONNX_OUT):
  - onnx.checker.check_model(full_check=True) passes (types and shapes inferred through the graph);
  - ONNX Runtime's output on the sample input is within --tolerance (max |diff|) of Neurone's;
  - with a symbolic batch, ONNX Runtime on the first sample alone gives the first row.
With --write-reference FILE, ONNX Runtime's outputs are saved there (safetensors, one tensor per
NAME) for the Swift tests to compare without ONNX Runtime.
"""
import argparse, json, pathlib, struct, sys

import numpy as np
import onnx
import onnxruntime as ort

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32}


def read_safetensors(path):
    data = pathlib.Path(path).read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(body[a:b], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
    return out


def write_safetensors(tensors, path):
    names = {np.float32: "F32", np.float64: "F64", np.int64: "I64", np.int32: "I32"}
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = np.ascontiguousarray(tensors[name])
        raw = t.tobytes()
        header[name] = {"dtype": names[t.dtype.type], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = {"producer": "scripts/check_onnx.py", "onnxruntime": ort.__version__}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    pathlib.Path(path).write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir")
    p.add_argument("--tolerance", type=float, default=1e-5)
    p.add_argument("--write-reference")
    args = p.parse_args()
    models = sorted(pathlib.Path(args.dir).glob("*.onnx"))
    if not models:
        sys.exit(f"no .onnx files in {args.dir}")
    failures, reference = [], {}
    for path in models:
        name = path.stem
        sample = read_safetensors(path.with_suffix(".safetensors"))
        model = onnx.load(str(path))
        onnx.checker.check_model(model, full_check=True)
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        x, expected = sample["input"], sample["output"]
        got = session.run(["output"], {"input": x})[0]
        diff = float(np.max(np.abs(got.astype(np.float64) - expected.astype(np.float64)))) if got.shape == expected.shape else float("inf")
        dims = model.graph.input[0].type.tensor_type.shape.dim
        dynamic = dims[0].dim_param != ""
        row = ""
        if dynamic:
            one = session.run(["output"], {"input": x[:1]})[0]
            row_diff = float(np.max(np.abs(one.astype(np.float64) - expected[:1].astype(np.float64))))
            diff = max(diff, row_diff)
            row = f", batch 1 of the symbolic batch {row_diff:.2e}"
        ok = diff <= args.tolerance
        ops = sorted({n.op_type for n in model.graph.node})
        print(f"{'ok  ' if ok else 'FAIL'} {name}: opset {model.opset_import[0].version}, {len(model.graph.node)} nodes, "
              f"output {list(got.shape)}, max |ONNX Runtime − Neurone| {diff:.2e}{row}; ops {' '.join(ops)}")
        if not ok:
            failures.append(name)
        reference[name] = got
    if args.write_reference:
        write_safetensors(reference, args.write_reference)
        print(f"wrote {args.write_reference} ({len(reference)} outputs, onnxruntime {ort.__version__})")
    print(f"{len(models) - len(failures)} of {len(models)} exports match ONNX Runtime within {args.tolerance:g} "
          f"(onnx {onnx.__version__}, onnxruntime {ort.__version__}, full checker)")
    if failures:
        sys.exit("mismatch: " + ", ".join(failures))


if __name__ == "__main__":
    main()
