#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (fuzz/corpus/<target>/): small valid
inputs of each format, so the fuzzers start from accepted files. The text
seeds are copies of repo files; the binary ones (safetensors, .npy, ONNX, .scp)
are made here. Run from anywhere:  python3 fuzz/make_seeds.py build/release/cli/seedchip
Needs numpy and onnx (Debian's python3-numpy, python3-onnx)."""
import json, os, re, shutil, struct, subprocess, sys, tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def out(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def strip_comments(text):
    """YAML without comment lines and blank lines (smaller seeds)."""
    return "".join(l for l in text.splitlines(True) if l.strip() and not l.lstrip().startswith("#"))


def read(rel):
    with open(os.path.join(ROOT, rel)) as f:
        return f.read()


def safetensors(tensors, metadata=None):
    header, blob = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, arr, dtype in tensors:
        raw = arr.tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + blob


def npy(arr):
    import io
    b = io.BytesIO()
    np.save(b, arr)
    return b.getvalue()


def onnx_bytes(nodes, inputs, outputs, inits=()):
    g = helper.make_graph(nodes, "seed", inputs, outputs, list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m.SerializeToString()


def main():
    seedchip = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "release", "cli", "seedchip")
    shutil.rmtree(CORPUS, ignore_errors=True)
    for chip in ("seedchip-v1", "tpu-v1", "nvidia-h100-sxm"):
        out("chip_yaml", chip + ".yaml", strip_comments(read(f"chips/{chip}.yaml")))
    for cfg in ("llama-3-8b", "mixtral-8x7b", "mistral-7b", "gpt2", "gpt-j-6b"):
        out("llm_config", cfg + ".json", read(f"llm/configs/{cfg}.json"))
    r = np.random.default_rng(1)
    out("safetensors", "two.safetensors", safetensors([("a", r.standard_normal((2, 3)).astype(np.float32), "F32"),
                                                       ("b", np.arange(4, dtype=np.int8), "I8")], {"format": "pt"}))
    out("safetensors", "bf16.safetensors", safetensors([("w", np.arange(6, dtype=np.uint16).reshape(2, 3), "BF16")]))
    out("npy", "f32.npy", npy(r.standard_normal((2, 3)).astype(np.float32)))
    out("npy", "i64_scalar.npy", npy(np.array(7, dtype=np.int64)))
    out("npy", "f16.npy", npy(np.arange(5, dtype=np.float16)))
    out("npy", "u8_3d.npy", npy(np.zeros((1, 2, 2), dtype=np.uint8)))
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    w = helper.make_tensor("w", TensorProto.FLOAT, [4, 4], r.standard_normal(16).astype(np.float32).tolist())
    out("onnx", "matmul_relu.onnx", onnx_bytes([helper.make_node("MatMul", ["x", "w"], ["t"]), helper.make_node("Relu", ["t"], ["y"])],
                                               [x], [y], [w]))
    xi = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 5, 5])
    yo = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 3, 3])
    k = helper.make_tensor("k", TensorProto.FLOAT, [2, 1, 3, 3], r.standard_normal(18).astype(np.float32).tolist())
    out("onnx", "conv.onnx", onnx_bytes([helper.make_node("Conv", ["x", "k"], ["y"], strides=[1, 1])], [xi], [yo], [k]))
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, [2, 3])
    s = helper.make_tensor_value_info("s", TensorProto.FLOAT, [2, 3])
    out("onnx", "softmax_add.onnx", onnx_bytes([helper.make_node("Softmax", ["a"], ["t"], axis=1), helper.make_node("Add", ["t", "a"], ["s"])],
                                               [a], [s]))
    for f in ("fuse_matmul_bias_relu", "fuse_gelu", "fuse_conv_bn", "fold_shape_chain", "fuse_layernorm"):
        out("ir_text", f + ".ir", read(f"compiler/tests/passes/{f}.ir"))
    with tempfile.TemporaryDirectory() as t:
        for ex in ("gemm_bias_relu", "softmax", "two_core_splitk"):
            p = os.path.join(t, ex + ".scp")
            subprocess.run([seedchip, "asm", os.path.join(ROOT, "examples", ex + ".s"), "-o", p], check=True, capture_output=True)
            with open(p, "rb") as f:
                out("program", ex + ".scp", f.read())
    # trace: the first byte picks CSV (even) or JSONL (odd)
    out("trace", "csv", "0" + "arrived_at,num_prefill_tokens,num_decode_tokens\n0,128,16\n0.5,64,32\n")
    out("trace", "jsonl", "1" + '{"arrived_at": 0, "num_prefill_tokens": 100, "num_decode_tokens": 10}\n'
                               '{"arrived_at": 1.25, "num_prefill_tokens": 7, "num_decode_tokens": 3}\n')
    out("sweep", "quick.yaml", strip_comments(read("examples/sweeps/quick.yaml")))
    out("sweep", "v2.yaml", strip_comments(read("examples/sweeps/seedchip-v2.yaml")))
    for f in ("seed-2026", "infeasible"):
        out("fleet", f + ".yaml", strip_comments(read(f"examples/fleet/{f}.yaml")))


if __name__ == "__main__":
    main()
