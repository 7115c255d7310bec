#!/usr/bin/python3
"""Export small reference models to ONNX with torch's fp32 outputs.

Usage: /usr/bin/python3 tests/data/export_models.py OUTDIR [--only NAME]... [--force] [--list]

For each model NAME this writes
  OUTDIR/NAME/model.onnx      torch.onnx.export, opset 17, constant folding,
                              static shapes, batch 1, eval mode
  OUTDIR/NAME/input_K.npy     one per ONNX graph input, in graph-input order
  OUTDIR/NAME/inputs.txt      "<onnx_input_name> input_K.npy" per line
  OUTDIR/NAME/output_K.npy    torch's fp32 eval-mode output(s), graph-output order
  OUTDIR/NAME/outputs.txt     "<onnx_output_name> output_K.npy" per line
  OUTDIR/NAME/info.json       names, shapes, dtypes, op types with counts, ...

Models (weights are random, fixed seeds; no pretrained weights):
  resnet18        torchvision resnet18, input [1,3,224,224] f32
  mobilenet_v2    torchvision mobilenet_v2, input [1,3,224,224] f32
  bert4           4-layer post-LN BERT-style encoder, hidden 256, 4 heads, FFN 1024,
                  inputs input_ids i64 [1,64], attention_mask i64 [1,64]
                  -> last_hidden_state [1,64,256]
  gpt2_4          4-layer pre-LN GPT-2-style decoder, hidden 256, 4 heads, MLP 1024,
                  tied LM head, input_ids i64 [1,32] -> logits [1,32,1000]
  resnet18_bn     same network/weights/input as resnet18 but exported with torch's
  mobilenet_v2_bn eval-mode Conv+BatchNorm fusion disabled, so the graph keeps
                  BatchNormalization nodes (for testing the compiler's own folding)

A model whose folder already has model.onnx and output_0.npy is skipped unless
--force is given. Outputs are written to a temporary folder and renamed into
place, so an interrupted run never leaves a half-written model behind.
Requires Debian's /usr/bin/python3 (torch 1.13, torchvision, onnx 1.12).
"""
import argparse
import collections
import json
import math
import os
import shutil
import sys
import time
import warnings

warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

OPSET = 17


# --------------------------------------------------------------------------
# Weight initialisation helpers
# --------------------------------------------------------------------------

def randomise_batchnorm(model, calib_input, seed):
    """Give every BatchNorm realistic but non-trivial statistics.

    The running statistics are first calibrated on `calib_input` (train-mode
    forward, cumulative average) so activations stay well scaled through the
    network, then perturbed: running_var *= U(0.5, 2), running_mean +=
    N(0, 0.2 * std), weight ~ U(0.5, 1.5), bias ~ N(0, 0.1). Folding BN with
    identity statistics would hide bugs; this makes every term matter.
    """
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average over the calibration pass
    model.train()
    with torch.no_grad():
        model(calib_input)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in bns:
            c = m.num_features
            var = m.running_var.clamp_min(1e-3)
            m.running_var.copy_(var * (0.5 + 1.5 * torch.rand(c, generator=g)))
            m.running_mean.add_(0.2 * var.sqrt() * torch.randn(c, generator=g))
            m.weight.copy_(0.5 + torch.rand(c, generator=g))
            m.bias.copy_(0.1 * torch.randn(c, generator=g))
            m.momentum = 0.1
    model.eval()


def init_transformer(model, emb_std=0.02):
    """Embeddings N(0, emb_std) (GPT-2/BERT style); Linear weights
    N(0, 1/sqrt(fan_in)) so q.k logits are O(1) and attention is not uniform;
    biases N(0, 0.02); LayerNorm weight 1 + N(0, 0.1), bias N(0, 0.05)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                m.weight.normal_(0.0, 1.0 / math.sqrt(m.in_features))
                if m.bias is not None:
                    m.bias.normal_(0.0, 0.02)
            elif isinstance(m, nn.Embedding):
                m.weight.normal_(0.0, emb_std)
            elif isinstance(m, nn.LayerNorm):
                m.weight.copy_(1.0 + 0.1 * torch.randn_like(m.weight))
                m.bias.normal_(0.0, 0.05)


# --------------------------------------------------------------------------
# BERT-style encoder (post-LN)
# --------------------------------------------------------------------------

class BertSelfAttention(nn.Module):
    def __init__(self, hidden, heads, seq):
        super().__init__()
        self.h, self.d, self.t = heads, hidden // heads, seq
        self.q = nn.Linear(hidden, hidden)
        self.k = nn.Linear(hidden, hidden)
        self.v = nn.Linear(hidden, hidden)
        self.o = nn.Linear(hidden, hidden)

    def split(self, x):  # [1, T, H*D] -> [1, H, T, D]; static shapes from config
        return x.reshape(1, self.t, self.h, self.d).transpose(1, 2)

    def forward(self, x, add_mask):
        q, k, v = self.split(self.q(x)), self.split(self.k(x)), self.split(self.v(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.d) + add_mask
        probs = torch.softmax(scores, dim=-1)
        ctx = torch.matmul(probs, v).transpose(1, 2).reshape(1, self.t, self.h * self.d)
        return self.o(ctx)


class BertLayer(nn.Module):
    def __init__(self, hidden, heads, ffn, seq, eps):
        super().__init__()
        self.attn = BertSelfAttention(hidden, heads, seq)
        self.ln1 = nn.LayerNorm(hidden, eps=eps)
        self.fc1 = nn.Linear(hidden, ffn)
        self.fc2 = nn.Linear(ffn, hidden)
        self.ln2 = nn.LayerNorm(hidden, eps=eps)

    def forward(self, x, add_mask):
        x = self.ln1(x + self.attn(x, add_mask))
        return self.ln2(x + self.fc2(F.gelu(self.fc1(x))))  # exact (erf) GELU


class Bert4(nn.Module):
    def __init__(self, vocab=1000, hidden=256, heads=4, ffn=1024, layers=4, seq=64,
                 eps=1e-12):
        super().__init__()
        self.seq = seq
        self.tok = nn.Embedding(vocab, hidden)
        self.pos = nn.Embedding(seq, hidden)
        self.ln = nn.LayerNorm(hidden, eps=eps)
        self.layers = nn.ModuleList(BertLayer(hidden, heads, ffn, seq, eps) for _ in range(layers))
        self.register_buffer("pos_ids", torch.arange(seq).unsqueeze(0), persistent=False)

    def forward(self, input_ids, attention_mask):
        x = self.ln(self.tok(input_ids) + self.pos(self.pos_ids))
        # BERT's extended attention mask: 0 where attended, -10000 where masked.
        add_mask = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * -10000.0
        for layer in self.layers:
            x = layer(x, add_mask)
        return x


# --------------------------------------------------------------------------
# GPT-2-style decoder (pre-LN)
# --------------------------------------------------------------------------

class GPT2Attention(nn.Module):
    def __init__(self, hidden, heads, seq):
        super().__init__()
        self.h, self.d, self.t = heads, hidden // heads, seq
        self.q = nn.Linear(hidden, hidden)
        self.k = nn.Linear(hidden, hidden)
        self.v = nn.Linear(hidden, hidden)
        self.proj = nn.Linear(hidden, hidden)
        causal = torch.tril(torch.ones(seq, seq, dtype=torch.bool)).view(1, 1, seq, seq)
        self.register_buffer("causal", causal, persistent=False)
        self.register_buffer("masked_bias", torch.tensor(-10000.0), persistent=False)

    def split(self, x):
        return x.reshape(1, self.t, self.h, self.d).transpose(1, 2)

    def forward(self, x):
        q, k, v = self.split(self.q(x)), self.split(self.k(x)), self.split(self.v(x))
        w = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.d)
        w = torch.where(self.causal, w, self.masked_bias)  # as HF GPT-2
        w = torch.softmax(w, dim=-1)
        y = torch.matmul(w, v).transpose(1, 2).reshape(1, self.t, self.h * self.d)
        return self.proj(y)


class GPT2Block(nn.Module):
    def __init__(self, hidden, heads, mlp, seq, eps):
        super().__init__()
        self.ln1 = nn.LayerNorm(hidden, eps=eps)
        self.attn = GPT2Attention(hidden, heads, seq)
        self.ln2 = nn.LayerNorm(hidden, eps=eps)
        self.fc = nn.Linear(hidden, mlp)
        self.proj = nn.Linear(mlp, hidden)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.proj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class GPT2_4(nn.Module):
    def __init__(self, vocab=1000, hidden=256, heads=4, mlp=1024, layers=4, seq=32,
                 eps=1e-5):
        super().__init__()
        self.wte = nn.Embedding(vocab, hidden)
        self.wpe = nn.Embedding(seq, hidden)
        self.blocks = nn.ModuleList(GPT2Block(hidden, heads, mlp, seq, eps) for _ in range(layers))
        self.ln_f = nn.LayerNorm(hidden, eps=eps)
        self.register_buffer("pos_ids", torch.arange(seq).unsqueeze(0), persistent=False)

    def forward(self, input_ids):
        x = self.wte(input_ids) + self.wpe(self.pos_ids)
        for b in self.blocks:
            x = b(x)
        return F.linear(self.ln_f(x), self.wte.weight)  # LM head tied to wte


# --------------------------------------------------------------------------
# Model table
# --------------------------------------------------------------------------

def image_input(seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(1, 3, 224, 224, generator=g)


def build_torchvision(ctor):
    import torchvision
    torch.manual_seed(0)
    model = getattr(torchvision.models, ctor)(weights=None)
    calib = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(100))
    randomise_batchnorm(model, calib, seed=200)
    return model.eval(), [("input", image_input(1))], ["output"]


def build_resnet18():
    return build_torchvision("resnet18")


def build_mobilenet_v2():
    return build_torchvision("mobilenet_v2")


def build_bert4():
    torch.manual_seed(0)
    model = Bert4()
    init_transformer(model)
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, 1000, (1, 64), generator=g, dtype=torch.int64)
    mask = torch.ones(1, 64, dtype=torch.int64)
    mask[:, -8:] = 0
    return model.eval(), [("input_ids", ids), ("attention_mask", mask)], ["last_hidden_state"]


def build_gpt2_4():
    torch.manual_seed(0)
    model = GPT2_4()
    init_transformer(model)
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, 1000, (1, 32), generator=g, dtype=torch.int64)
    return model.eval(), [("input_ids", ids)], ["logits"]


# name -> (builder, keep BatchNormalization nodes unfused)
MODELS = collections.OrderedDict([
    ("resnet18", (build_resnet18, False)),
    ("mobilenet_v2", (build_mobilenet_v2, False)),
    ("bert4", (build_bert4, False)),
    ("gpt2_4", (build_gpt2_4, False)),
    ("resnet18_bn", (build_resnet18, True)),
    ("mobilenet_v2_bn", (build_mobilenet_v2, True)),
])


# --------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------

class _NoEvalPeephole:
    """Disable torch.onnx's eval-mode Conv+BatchNorm fusion for one export."""

    def __enter__(self):
        self.orig = torch._C._jit_pass_onnx_eval_peephole
        torch._C._jit_pass_onnx_eval_peephole = lambda graph, params: params
        return self

    def __exit__(self, *exc):
        torch._C._jit_pass_onnx_eval_peephole = self.orig
        return False


def onnx_dtype_name(elem_type):
    import onnx
    return onnx.TensorProto.DataType.Name(elem_type).lower()


def value_info_shape(vi):
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or None)
            for d in vi.type.tensor_type.shape.dim]


def export_one(name, outdir, force):
    import onnx
    final = os.path.join(outdir, name)
    if (not force and os.path.isfile(os.path.join(final, "model.onnx"))
            and os.path.isfile(os.path.join(final, "output_0.npy"))):
        print(f"{name}: already present in {final}, skipped (use --force to redo)")
        return True

    t0 = time.time()
    builder, keep_bn = MODELS[name]
    model, inputs, output_names = builder()
    t_build = time.time() - t0

    args = tuple(t for _, t in inputs)
    t1 = time.time()
    with torch.no_grad():
        outs = model(*args)
    outs = [outs] if isinstance(outs, torch.Tensor) else list(outs)
    t_run = time.time() - t1

    tmp = final + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    path = os.path.join(tmp, "model.onnx")
    t2 = time.time()
    ctx = _NoEvalPeephole() if keep_bn else _Null()
    with ctx, torch.no_grad():
        torch.onnx.export(model, args, path, opset_version=OPSET, do_constant_folding=True,
                          input_names=[n for n, _ in inputs], output_names=output_names,
                          export_params=True, training=torch.onnx.TrainingMode.EVAL)
    t_export = time.time() - t2

    m = onnx.load(path)
    onnx.checker.check_model(m)
    g = m.graph
    inits = {t.name for t in g.initializer}
    graph_inputs = [vi for vi in g.input if vi.name not in inits]
    by_name = dict(inputs)
    in_rows, out_rows = [], []
    for i, vi in enumerate(graph_inputs):
        if vi.name not in by_name:
            raise RuntimeError(f"{name}: ONNX graph input {vi.name!r} is not a model input")
        arr = by_name[vi.name].numpy()
        fname = f"input_{i}.npy"
        np.save(os.path.join(tmp, fname), arr)
        in_rows.append({"name": vi.name, "file": fname, "shape": list(arr.shape),
                        "dtype": str(arr.dtype), "onnx_shape": value_info_shape(vi),
                        "onnx_dtype": onnx_dtype_name(vi.type.tensor_type.elem_type)})
    dropped = [n for n, _ in inputs if n not in {vi.name for vi in graph_inputs}]
    if len(g.output) != len(outs):
        raise RuntimeError(f"{name}: {len(g.output)} ONNX outputs but torch gave {len(outs)}")
    for i, (vi, t) in enumerate(zip(g.output, outs)):
        arr = t.detach().numpy().astype(np.float32)
        fname = f"output_{i}.npy"
        np.save(os.path.join(tmp, fname), arr)
        out_rows.append({"name": vi.name, "file": fname, "shape": list(arr.shape),
                         "dtype": str(arr.dtype), "onnx_shape": value_info_shape(vi),
                         "onnx_dtype": onnx_dtype_name(vi.type.tensor_type.elem_type),
                         "max_abs": float(np.abs(arr).max()), "mean": float(arr.mean()),
                         "std": float(arr.std()), "finite": bool(np.isfinite(arr).all())})
        if list(arr.shape) != value_info_shape(vi):
            raise RuntimeError(f"{name}: output {vi.name} shape {arr.shape} != ONNX "
                               f"{value_info_shape(vi)}")
    with open(os.path.join(tmp, "inputs.txt"), "w") as f:
        f.writelines(f"{r['name']} {r['file']}\n" for r in in_rows)
    with open(os.path.join(tmp, "outputs.txt"), "w") as f:
        f.writelines(f"{r['name']} {r['file']}\n" for r in out_rows)

    ops = collections.Counter(n.op_type for n in g.node)
    n_params = sum(int(np.prod(t.dims)) for t in g.initializer)
    info = {
        "name": name,
        "opset": OPSET,
        "producer": f"{m.producer_name} {m.producer_version}",
        "torch": torch.__version__,
        "onnx": onnx.__version__,
        "batchnorm_fused_by_exporter": not keep_bn,
        "inputs": in_rows,
        "torch_inputs_dropped_from_graph": dropped,
        "outputs": out_rows,
        "op_types": dict(sorted(ops.items())),
        "num_nodes": len(g.node),
        "num_initializers": len(g.initializer),
        "num_initializer_elements": n_params,
        "model_bytes": os.path.getsize(path),
        "seconds": {"build": round(t_build, 2), "torch_forward": round(t_run, 2),
                    "export": round(t_export, 2)},
    }
    with open(os.path.join(tmp, "info.json"), "w") as f:
        json.dump(info, f, indent=1)
        f.write("\n")

    shutil.rmtree(final, ignore_errors=True)
    os.rename(tmp, final)
    wall = time.time() - t0
    o = out_rows[0]
    print(f"{name}: {wall:.1f} s (build {t_build:.1f}, forward {t_run:.1f}, export "
          f"{t_export:.1f}); {len(g.node)} nodes, {n_params / 1e6:.2f} M params; "
          f"{o['name']} {o['shape']} max|y|={o['max_abs']:.3g} std={o['std']:.3g}")
    print(f"  ops: {', '.join(f'{k}={v}' for k, v in sorted(ops.items()))}")
    if dropped:
        print(f"  warning: torch inputs not in ONNX graph: {dropped}")
    return True


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--only", action="append", choices=list(MODELS), metavar="NAME",
                    help=f"export only this model (repeatable); one of {', '.join(MODELS)}")
    ap.add_argument("--force", action="store_true", help="re-export even if present")
    a = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(a.outdir, exist_ok=True)
    t0 = time.time()
    ok = True
    for name in a.only or list(MODELS):
        try:
            export_one(name, a.outdir, a.force)
        except Exception as e:  # report and carry on with the other models
            ok = False
            print(f"{name}: FAILED: {type(e).__name__}: {e}", file=sys.stderr)
    print(f"total {time.time() - t0:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
