#!/usr/bin/python3
"""Builds a tiny Llama-architecture model in PyTorch (fixed seed), writes its
config.json and model.safetensors (the format written by hand from its
specification: 8-byte little-endian header length, JSON header, raw
little-endian data) and the reference greedy generations in fp32 and bf16.

The reference forward pass mirrors Hugging Face's eager LlamaForCausalLM:
RMSNorm in fp32 then back to the model dtype, rotary embeddings computed in
fp32, attention scores scaled in the model dtype, softmax in fp32, KV cache.

usage: make_tiny_llama.py OUT_DIR [--hidden 64 --layers 2 --heads 4 --kv-heads 2
       --intermediate 160 --vocab 320 --family llama --seed 0 --prompt-len 7 --generate 32]
"""
import argparse
import json
import math
import os
import struct

import torch
import torch.nn.functional as F


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.contiguous()
        dtype = {torch.float32: "F32", torch.bfloat16: "BF16", torch.float16: "F16"}[t.dtype]
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


class TinyLlama:
    def __init__(self, cfg, weights, dtype):
        self.c = cfg
        self.w = {k: v.to(dtype) for k, v in weights.items()}
        self.dtype = dtype

    def rmsnorm(self, x, w):
        h = x.to(torch.float32)
        var = h.pow(2).mean(-1, keepdim=True)
        h = h * torch.rsqrt(var + self.c["rms_norm_eps"])
        return w * h.to(x.dtype)

    def rope(self, past, T):
        hd = self.c["hidden_size"] // self.c["num_attention_heads"]
        inv = 1.0 / (self.c["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
        pos = torch.arange(past, past + T, dtype=torch.int64).float()
        freqs = (inv[:, None] @ pos[None, :]).transpose(0, 1)
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(self.dtype), emb.sin().to(self.dtype)

    @staticmethod
    def rotate_half(x):
        h = x.shape[-1] // 2
        return torch.cat((-x[..., h:], x[..., :h]), dim=-1)

    def forward(self, ids, cache):
        c, w = self.c, self.w
        H, nh, kv = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
        hd, T = H // nh, len(ids)
        past = 0 if not cache else cache[0][0].shape[1]
        cos, sin = self.rope(past, T)
        x = w["model.embed_tokens.weight"][torch.tensor(ids)]
        mask = torch.full((T, past + T), torch.finfo(self.dtype).min, dtype=self.dtype).triu(past + 1)
        new_cache = []
        for l in range(c["num_hidden_layers"]):
            p = f"model.layers.{l}."
            h = self.rmsnorm(x, w[p + "input_layernorm.weight"])
            b = (lambda n: w.get(p + f"self_attn.{n}.bias"))
            q = F.linear(h, w[p + "self_attn.q_proj.weight"], b("q_proj")).view(T, nh, hd).transpose(0, 1)
            k = F.linear(h, w[p + "self_attn.k_proj.weight"], b("k_proj")).view(T, kv, hd).transpose(0, 1)
            v = F.linear(h, w[p + "self_attn.v_proj.weight"], b("v_proj")).view(T, kv, hd).transpose(0, 1)
            q = q * cos + self.rotate_half(q) * sin
            k = k * cos + self.rotate_half(k) * sin
            if cache:
                k = torch.cat((cache[l][0], k), dim=1)
                v = torch.cat((cache[l][1], v), dim=1)
            new_cache.append((k, v))
            kr, vr = k.repeat_interleave(nh // kv, dim=0), v.repeat_interleave(nh // kv, dim=0)
            s = torch.matmul(q, kr.transpose(1, 2)) * (hd ** -0.5)
            s = s + mask
            pr = F.softmax(s, dim=-1, dtype=torch.float32).to(self.dtype)
            o = torch.matmul(pr, vr).transpose(0, 1).reshape(T, nh * hd)
            x = x + F.linear(o, w[p + "self_attn.o_proj.weight"])
            h = self.rmsnorm(x, w[p + "post_attention_layernorm.weight"])
            if "num_local_experts" in c:
                x = x + self.moe(h, p + "block_sparse_moe.")
                continue
            m = F.silu(F.linear(h, w[p + "mlp.gate_proj.weight"])) * F.linear(h, w[p + "mlp.up_proj.weight"])
            x = x + F.linear(m, w[p + "mlp.down_proj.weight"])
        x = self.rmsnorm(x, w["model.norm.weight"])
        head = w["model.embed_tokens.weight"] if c["tie_word_embeddings"] else w["lm_head.weight"]
        return F.linear(x, head), new_cache

    def moe(self, h, p):
        """MixtralSparseMoeBlock: top-k experts per token, weights renormalised, index_add in expert order."""
        w, E, k = self.w, self.c["num_local_experts"], self.c["num_experts_per_tok"]
        rw = F.softmax(F.linear(h, w[p + "gate.weight"]), dim=1, dtype=torch.float)
        rw, sel = torch.topk(rw, k, dim=-1)
        rw /= rw.sum(dim=-1, keepdim=True)
        rw = rw.to(h.dtype)
        out = torch.zeros_like(h)
        mask = F.one_hot(sel, num_classes=E).permute(2, 1, 0)
        for e in range(E):
            idx, top_x = torch.where(mask[e])
            if top_x.numel() == 0:
                continue
            x = p + f"experts.{e}."
            he = h[top_x]
            y = F.linear(F.silu(F.linear(he, w[x + "w1.weight"])) * F.linear(he, w[x + "w3.weight"]), w[x + "w2.weight"])
            out.index_add_(0, top_x, (rw[top_x, idx, None] * y).to(h.dtype))
        return out

    def generate(self, prompt, n):
        """Greedy ids, and the steps whose two largest logits tie."""
        out, ties, cache, ids = [], [], None, list(prompt)
        for step in range(n):
            logits, cache = self.forward(ids, cache)
            nxt = int(torch.argmax(logits[-1]))
            if int((logits[-1] == logits[-1].max()).sum()) > 1:
                ties.append(step)
            out.append(nxt)
            ids = [nxt]
        return out, ties


class TinyGPT2(TinyLlama):
    """GPT2LMHeadModel's eager forward pass (transformers' modeling_gpt2); weights and generate() as TinyLlama."""

    def forward(self, ids, cache):
        c, w = self.c, self.w
        H, nh = c["n_embd"], c["n_head"]
        hd, T = H // nh, len(ids)
        past = 0 if not cache else cache[0][0].shape[1]
        ln = lambda x, p: F.layer_norm(x, (H,), w[p + ".weight"], w[p + ".bias"], c["layer_norm_epsilon"])
        conv1d = lambda x, p: torch.addmm(w[p + ".bias"], x, w[p + ".weight"])
        x = w["wte.weight"][torch.tensor(ids)] + w["wpe.weight"][torch.arange(past, past + T)]
        visible = torch.ones(T, past + T, dtype=torch.bool).tril(past)
        new_cache = []
        for l in range(c["n_layer"]):
            p = f"h.{l}."
            q, k, v = conv1d(ln(x, p + "ln_1"), p + "attn.c_attn").split(H, dim=1)
            q, k, v = (t.view(T, nh, hd).transpose(0, 1) for t in (q, k, v))
            if cache:
                k = torch.cat((cache[l][0], k), dim=1)
                v = torch.cat((cache[l][1], v), dim=1)
            new_cache.append((k, v))
            s = torch.matmul(q, k.transpose(-1, -2))
            s = s / torch.full([], v.size(-1) ** 0.5, dtype=s.dtype)
            s = torch.where(visible, s, torch.finfo(s.dtype).min)
            pr = F.softmax(s, dim=-1).type(v.dtype)
            o = torch.matmul(pr, v).transpose(0, 1).reshape(T, H)
            x = x + conv1d(o, p + "attn.c_proj")
            u = conv1d(ln(x, p + "ln_2"), p + "mlp.c_fc")
            g = 0.5 * u * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (u + 0.044715 * torch.pow(u, 3.0))))
            x = x + conv1d(g, p + "mlp.c_proj")
        return F.linear(ln(x, "ln_f"), w["wte.weight"]), new_cache


def gpt2_model(a):
    """A tiny GPT-2: config and weights (LayerNorm, learned positions, Conv1D [in, out] weights, tied head)."""
    H, I, V = a.hidden, a.intermediate, a.vocab
    cfg = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_embd": H, "n_layer": a.layers,
           "n_head": a.heads, "n_inner": I, "vocab_size": V, "n_positions": 256, "layer_norm_epsilon": 1e-5,
           "activation_function": "gelu_new", "tie_word_embeddings": True}
    # a tied head reads the residual stream back through the embeddings: keep the
    # embeddings small next to the blocks' output, or every token predicts itself
    std = 1.0 / H ** 0.5
    w = {"wte.weight": 0.3 * torch.randn(V, H), "wpe.weight": 0.1 * torch.randn(256, H)}
    for l in range(a.layers):
        p = f"h.{l}."
        for n in ("ln_1", "ln_2"):
            w[p + n + ".weight"] = 1 + 0.1 * torch.randn(H)
            w[p + n + ".bias"] = 0.1 * torch.randn(H)
        for n, shape in (("attn.c_attn", (H, 3 * H)), ("attn.c_proj", (H, H)), ("mlp.c_fc", (H, I)),
                         ("mlp.c_proj", (I, H))):
            w[p + n + ".weight"] = std * 2 * torch.randn(shape)
            w[p + n + ".bias"] = 0.1 * torch.randn(shape[1])
    w["ln_f.weight"] = 1 + 0.1 * torch.randn(H)
    w["ln_f.bias"] = 0.1 * torch.randn(H)
    return cfg, w, TinyGPT2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--intermediate", type=int, default=160)
    ap.add_argument("--vocab", type=int, default=320)
    ap.add_argument("--family", default="llama", choices=["llama", "mistral", "qwen2", "mixtral", "gpt2"])
    ap.add_argument("--experts", type=int, default=4, help="mixtral: experts per layer")
    ap.add_argument("--top-k", type=int, default=2, help="mixtral: experts per token")
    ap.add_argument("--tied", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--prompt-len", type=int, default=7)
    ap.add_argument("--generate", type=int, default=32)
    ap.add_argument("--checkpoint-dtype", default="fp32", choices=["fp32", "bf16"])
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.manual_seed(a.seed)
    if a.family == "gpt2":
        cfg, w, Model = gpt2_model(a)
    else:
        cfg, w, Model = llama_model(a)
    if a.checkpoint_dtype == "bf16":
        w = {k: v.to(torch.bfloat16) for k, v in w.items()}
    write_safetensors(os.path.join(a.out, "model.safetensors"), w)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    prompt = torch.randint(0, a.vocab, (a.prompt_len,), generator=torch.Generator().manual_seed(a.seed + 1)).tolist()
    ref = {"prompt_ids": prompt}
    for name, dt in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        ref[name], ref[name + "_tied_steps"] = Model(cfg, {k: v.float() for k, v in w.items()}, dt).generate(
            prompt, a.generate)
    with open(os.path.join(a.out, "reference.json"), "w") as f:
        json.dump(ref, f)
    print(json.dumps(ref))


def llama_model(a):
    """A tiny Llama/Mistral/Qwen2: config and weights (HF names, [out, in] linear weights)."""
    H, I, V, hd = a.hidden, a.intermediate, a.vocab, a.hidden // a.heads
    cfg = {"architectures": ["LlamaForCausalLM"], "model_type": a.family, "hidden_size": H,
           "intermediate_size": I, "num_hidden_layers": a.layers, "num_attention_heads": a.heads,
           "num_key_value_heads": a.kv_heads, "vocab_size": V, "max_position_embeddings": 256,
           "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "hidden_act": "silu", "tie_word_embeddings": a.tied}
    if a.family == "mixtral":
        cfg.update({"architectures": ["MixtralForCausalLM"], "num_local_experts": a.experts,
                    "num_experts_per_tok": a.top_k})
    # Weights at HF's init scale (normal, std 0.02) make near-uniform logits; a
    # larger scale gives the tiny model decisive (and still varied) predictions.
    std = 0.5 / H ** 0.5
    w = {"model.embed_tokens.weight": torch.randn(V, H)}
    for l in range(a.layers):
        p = f"model.layers.{l}."
        w[p + "input_layernorm.weight"] = 1 + 0.1 * torch.randn(H)
        w[p + "post_attention_layernorm.weight"] = 1 + 0.1 * torch.randn(H)
        for n, shape in (("q_proj", (a.heads * hd, H)), ("k_proj", (a.kv_heads * hd, H)),
                         ("v_proj", (a.kv_heads * hd, H)), ("o_proj", (H, a.heads * hd))):
            w[p + f"self_attn.{n}.weight"] = std * 2 * torch.randn(shape)
            if a.family == "qwen2" and n != "o_proj":
                w[p + f"self_attn.{n}.bias"] = 0.1 * torch.randn(shape[0])
        if a.family == "mixtral":
            w[p + "block_sparse_moe.gate.weight"] = std * 4 * torch.randn(a.experts, H)
            for e in range(a.experts):
                x = p + f"block_sparse_moe.experts.{e}."
                w[x + "w1.weight"] = std * 2 * torch.randn(I, H)
                w[x + "w2.weight"] = std * 2 * torch.randn(H, I)
                w[x + "w3.weight"] = std * 2 * torch.randn(I, H)
            continue
        w[p + "mlp.gate_proj.weight"] = std * 2 * torch.randn(I, H)
        w[p + "mlp.up_proj.weight"] = std * 2 * torch.randn(I, H)
        w[p + "mlp.down_proj.weight"] = std * 2 * torch.randn(H, I)
    w["model.norm.weight"] = 1 + 0.1 * torch.randn(H)
    if not a.tied:
        w["lm_head.weight"] = std * 4 * torch.randn(V, H)
    return cfg, w, TinyLlama


if __name__ == "__main__":
    main()
