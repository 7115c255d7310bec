#!/usr/bin/python3
"""Runs one exported model through `seedchip run` and compares with torch.

Usage: check_model.py SEEDCHIP MODEL_DIR PRECISION [--mode rel|cosine] [--tol X] [--chip NAME]

MODEL_DIR is a folder written by export_models.py (model.onnx, inputs.txt,
outputs.txt, input_K.npy, output_K.npy). Prints the comparison line from
compare.py for every output; exits 1 if any check fails.
"""
import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("seedchip")
    ap.add_argument("model_dir")
    ap.add_argument("precision")
    ap.add_argument("--mode", default="rel")
    ap.add_argument("--tol", default=None)
    ap.add_argument("--chip", default="seedchip-v1")
    a = ap.parse_args()
    name = os.path.basename(os.path.normpath(a.model_dir))
    with open(os.path.join(a.model_dir, "inputs.txt")) as f:
        inputs = [l.split() for l in f if l.strip()]
    with open(os.path.join(a.model_dir, "outputs.txt")) as f:
        outputs = [l.split() for l in f if l.strip()]
    with tempfile.TemporaryDirectory() as out:
        cmd = [a.seedchip, "run", os.path.join(a.model_dir, "model.onnx"), "--chip", a.chip,
               "--precision", a.precision, "--output-dir", out]
        for n, f in inputs:
            cmd += ["--input", f"{n}={os.path.join(a.model_dir, f)}"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        sys.stdout.write(r.stdout)
        if r.returncode != 0:
            sys.stderr.write(r.stderr)
            print(f"{name}: seedchip run failed")
            return 1
        rc = 0
        for n, f in outputs:
            safe = n.replace("/", "_").replace(":", "_")
            cmp = [sys.executable, os.path.join(HERE, "compare.py"), os.path.join(a.model_dir, f),
                   os.path.join(out, safe + ".npy"), "--mode", a.mode, "--name", f"{name}[{a.precision}] {n}"]
            if a.tol:
                cmp += ["--tol", a.tol]
            rc |= subprocess.run(cmp).returncode
        return rc


if __name__ == "__main__":
    sys.exit(main())
