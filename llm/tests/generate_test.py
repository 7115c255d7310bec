#!/usr/bin/python3
"""Functional generation against PyTorch: tiny Llama-architecture models
(make_tiny_llama.py) of several shapes, `seedchip llm --mode both` in fp32,
bf16, fp8 and int8, and the command's answers to bad weights and prompts.

usage: generate_test.py SEEDCHIP WORKDIR
"""
import json
import os
import shutil
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SEEDCHIP, WORK = sys.argv[1], sys.argv[2]

# (name, make_tiny_llama arguments)
MODELS = [
    ("llama_gqa", ["--seed", "0"]),
    ("llama_wide_mqa", ["--seed", "4", "--hidden", "128", "--heads", "8", "--kv-heads", "1", "--prompt-len", "20",
                        "--checkpoint-dtype", "bf16"]),
    ("qwen2_bias_tied", ["--seed", "3", "--family", "qwen2", "--tied", "--layers", "3"]),
    ("mha_one_token_prompt", ["--seed", "5", "--hidden", "48", "--heads", "3", "--kv-heads", "3", "--layers", "1",
                              "--vocab", "1000", "--prompt-len", "1"]),
    ("mixtral_moe", ["--seed", "1", "--family", "mixtral", "--experts", "4", "--top-k", "2"]),
    ("gpt2", ["--seed", "7", "--family", "gpt2", "--hidden", "64", "--heads", "4", "--layers", "2",
              "--intermediate", "256", "--vocab", "300"]),
]


def make(name, args):
    d = os.path.join(WORK, name)
    if not os.path.exists(os.path.join(d, "reference.json")):
        subprocess.run([sys.executable, os.path.join(HERE, "make_tiny_llama.py"), d] + args, check=True,
                       stdout=subprocess.DEVNULL)
    with open(os.path.join(d, "reference.json")) as f:
        return d, json.load(f)


def seedchip(*args):
    return subprocess.run([SEEDCHIP, "llm"] + [str(a) for a in args], capture_output=True, text=True, timeout=600)


def generate(d, ref, precision, mode="functional"):
    p = seedchip("--model", os.path.join(d, "config.json"), "--weights", os.path.join(d, "model.safetensors"),
                 "--prompt-ids", ",".join(map(str, ref["prompt_ids"])), "--generate", len(ref["fp32"]),
                 "--precision", precision, "--mode", mode, "--json")
    if p.returncode != 0:
        raise AssertionError(f"seedchip llm failed ({precision}):\n{p.stderr}")
    return json.loads(p.stdout)


class Generation(unittest.TestCase):
    def check_same(self, name, ref, out, precision):
        got, want = out["generated_ids"], ref[precision]
        if got == want:
            return
        # Differing ids are accepted only from a step where PyTorch's or the
        # chip's two largest logits were exactly equal (a tie two correct
        # implementations may break differently), and never before it.
        first = next(i for i in range(len(want)) if got[i] != want[i])
        ties = set(ref[precision + "_tied_steps"]) | set(out["tied_steps"])
        self.assertIn(first, ties, f"{name} {precision}: ids differ at step {first} without a tie\n"
                                   f"chip    {got}\npytorch {want}")

    def test_fp32_and_bf16_match_pytorch(self):
        for name, args in MODELS:
            d, ref = make(name, args)
            for precision in ("fp32", "bf16"):
                with self.subTest(model=name, precision=precision):
                    out = generate(d, ref, precision)
                    if name == "gpt2" and precision == "bf16":
                        # Debian's torch 1.13 computes bf16 LayerNorm statistics at lower
                        # precision than one rounding of the fp32 result (docs/llm.md):
                        # only the prefill's token is held to equality
                        self.assertEqual(out["generated_ids"][0], ref["bf16"][0])
                        continue
                    self.check_same(name, ref, out, precision)

    def test_repo_model_matches_exactly(self):
        # the repo's own tiny model has no ties: all 32 ids must be equal
        d, ref = make(*MODELS[0])
        self.assertEqual(ref["fp32_tied_steps"] + ref["bf16_tied_steps"], [])
        for precision in ("fp32", "bf16"):
            self.assertEqual(generate(d, ref, precision)["generated_ids"], ref[precision])

    def test_quantised_top1_agreement(self):
        for name, args in MODELS[:3]:
            d, ref = make(name, args)
            for precision, floor in (("fp8", 0.7), ("int8", 0.75)):
                with self.subTest(model=name, precision=precision):
                    out = generate(d, ref, precision)
                    self.assertEqual(out["fp32_generated_ids"], ref["fp32"])
                    self.assertGreaterEqual(out["top1_agreement"], floor)
                    self.assertLessEqual(out["top1_agreement"], 1.0)
                    self.assertEqual(len(out["generated_ids"]), len(ref["fp32"]))

    def test_prompt_ids_as_separate_arguments(self):
        d, ref = make(*MODELS[0])
        p = seedchip("--model", os.path.join(d, "config.json"), "--weights", os.path.join(d, "model.safetensors"),
                     "--prompt-ids", *ref["prompt_ids"], "--generate", 4, "--mode", "functional", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["generated_ids"], ref["fp32"][:4])

    def test_mode_both_reports_timing_and_ids(self):
        d, ref = make(*MODELS[0])
        out = generate(d, ref, "bf16", mode="both")
        self.assertEqual(out["generated_ids"], ref["bf16"])
        for k in ("ttft_s", "tpot_s", "output_tokens_per_s", "hbm_bw_utilization", "mfu", "energy_per_token_j",
                  "kv_cache_bytes", "max_batch"):
            self.assertIn(k, out)
        self.assertGreater(out["ttft_s"], 0)
        self.assertEqual(out["functional_steps"], len(ref["bf16"]))


class BadInput(unittest.TestCase):
    def setUp(self):
        self.d, self.ref = make(*MODELS[0])
        self.cfg = os.path.join(self.d, "config.json")
        self.w = os.path.join(self.d, "model.safetensors")

    def fails(self, *args, says):
        p = seedchip(*args)
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertIn(says, p.stderr)
        self.assertNotIn("Traceback", p.stderr)
        return p.stderr

    def test_token_outside_vocabulary(self):
        self.fails("--model", self.cfg, "--weights", self.w, "--prompt-ids", "1,99999", "--mode", "functional",
                   says="outside the vocabulary")

    def test_prompt_ids_not_numbers(self):
        self.fails("--model", self.cfg, "--weights", self.w, "--prompt-ids", "1,x", "--mode", "functional",
                   says="--prompt-ids")

    def test_functional_needs_weights(self):
        self.fails("--model", self.cfg, "--prompt-ids", "1,2", "--mode", "functional", says="needs --weights")

    def test_truncated_weights(self):
        t = os.path.join(WORK, "truncated.safetensors")
        with open(self.w, "rb") as f, open(t, "wb") as g:
            g.write(f.read()[:-100])
        self.fails("--model", self.cfg, "--weights", t, "--prompt-ids", "1,2", "--mode", "functional",
                   says="truncated.safetensors")

    def test_weights_of_another_shape(self):
        other = os.path.join(WORK, "other_config.json")
        with open(self.cfg) as f:
            c = json.load(f)
        c["intermediate_size"] += 8
        with open(other, "w") as f:
            json.dump(c, f)
        err = self.fails("--model", other, "--weights", self.w, "--prompt-ids", "1,2", "--mode", "functional",
                         says="mlp.gate_proj.weight")
        self.assertIn("model.safetensors", err)

    def test_dense_checkpoint_for_a_moe_config(self):
        c = os.path.join(WORK, "mixtral_config.json")
        with open(self.cfg) as f:
            cfg = json.load(f)
        cfg.update({"model_type": "mixtral", "num_local_experts": 4, "num_experts_per_tok": 2})
        with open(c, "w") as f:
            json.dump(cfg, f)
        err = self.fails("--model", c, "--weights", self.w, "--prompt-ids", "1", "--mode", "functional",
                         says="model.safetensors")
        self.assertIn("block_sparse_moe", err)

    def test_checkpoint_of_another_family(self):
        self.fails("--model", "gpt2", "--weights", self.w, "--prompt-ids", "1", "--mode", "functional",
                   says="wte.weight")


if __name__ == "__main__":
    os.makedirs(WORK, exist_ok=True)
    unittest.main(argv=[sys.argv[0], "-v"])
