#!/usr/bin/python3
"""Generate the ONNX backend node test cases (onnx's own reference data).

Usage: /usr/bin/python3 tests/data/gen_node_tests.py OUTDIR

Writes OUTDIR/node/<case>/model.onnx and OUTDIR/node/<case>/test_data_set_N/
{input,output}_K.pb exactly as `backend-test-tools generate-data` does
(plus OUTDIR/simple and OUTDIR/real stubs from onnx's model test cases).

onnx 1.12's case scripts use numpy aliases (np.float, np.bool, ...) that
numpy 1.24 removed; they are restored here (only where missing) first.
Idempotent: exits at once if OUTDIR/node already holds >= 900 cases.
Requires Debian's /usr/bin/python3 (numpy 1.24, onnx 1.12).
"""
import os
import sys
import time
import warnings

MIN_CASES = 900


def count_cases(node_dir):
    if not os.path.isdir(node_dir):
        return 0
    return sum(1 for e in os.scandir(node_dir)
               if e.is_dir() and os.path.isfile(os.path.join(e.path, "model.onnx")))


def main():
    if len(sys.argv) != 2 or sys.argv[1].startswith("-"):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    outdir = os.path.abspath(sys.argv[1])
    node_dir = os.path.join(outdir, "node")
    have = count_cases(node_dir)
    if have >= MIN_CASES:
        print(f"{node_dir}: {have} cases already present, nothing to do")
        return 0

    warnings.filterwarnings("ignore")
    import numpy as np
    for name, alias in (("float", float), ("bool", bool), ("object", object),
                        ("int", int), ("complex", complex), ("str", str)):
        if name not in np.__dict__:
            setattr(np, name, alias)

    t0 = time.time()
    from onnx.backend.test import cmd_tools
    sys.argv = [sys.argv[0], "generate-data", "-o", outdir]
    cmd_tools.main()
    n = count_cases(node_dir)
    print(f"{node_dir}: generated {n} node cases in {time.time() - t0:.1f} s")
    if n < MIN_CASES:
        print(f"error: expected >= {MIN_CASES} node cases, got {n}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
