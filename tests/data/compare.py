#!/usr/bin/python3
"""Compare a produced tensor with a reference tensor (.npy files).

Usage: /usr/bin/python3 tests/data/compare.py REF.npy GOT.npy [--mode exact|rel|cosine] [--tol X] [--name NAME]

Prints one line
  NAME: max_abs_err=..., max_ref=..., rel=..., cosine=...
(NAME defaults to GOT's file name) and exits
  0  the check passed,
  1  the check failed (values, or shape/dtype mismatch, or NaN where the reference has none),
  2  usage or file errors.
Modes:
  rel     (default) max|got-ref| <= tol * max|ref|   (tol default 1e-4)
  cosine  cosine similarity of the flattened arrays, in float64, >= tol (default 0.99)
  exact   identical shape, dtype and values (NaNs must match in position)
Shape and dtype must match in every mode.
"""
import argparse
import os
import sys

import numpy as np

DEFAULT_TOL = {"rel": 1e-4, "cosine": 0.99, "exact": 0.0}


def metrics(ref, got):
    """(max_abs_err, max_ref, rel, cosine) in float64. NaNs at the same positions
    in both arrays are left out; a NaN in only one of them makes every metric NaN."""
    r = ref.astype(np.float64).ravel()
    g = got.astype(np.float64).ravel()
    both_nan = np.isnan(r) & np.isnan(g)
    if both_nan.any():
        r, g = r[~both_nan], g[~both_nan]
    if r.size == 0:
        return 0.0, 0.0, 0.0, 1.0
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        diff = np.abs(g - r)
        diff[r == g] = 0.0  # equal infinities
        max_abs = float(diff.max())  # NaN if any NaN remains
        max_ref = float(np.abs(r).max())
        rel = max_abs / max_ref if max_ref > 0 else (0.0 if max_abs == 0 else float("inf"))
        nr, ng = np.linalg.norm(r), np.linalg.norm(g)
        if np.isnan(max_abs):
            cos = float("nan")
        elif nr == 0 and ng == 0:
            cos = 1.0
        elif nr == 0 or ng == 0:
            cos = 0.0
        else:
            cos = float(np.dot(r, g) / (nr * ng))
    return max_abs, max_ref, rel, cos


def main():
    ap = argparse.ArgumentParser(description="Compare a produced .npy with a reference .npy.")
    ap.add_argument("ref")
    ap.add_argument("got")
    ap.add_argument("--mode", choices=["exact", "rel", "cosine"], default="rel")
    ap.add_argument("--tol", type=float, default=None,
                    help="rel: 1e-4, cosine: 0.99 (ignored for exact)")
    ap.add_argument("--name", default=None, help="label for the output line")
    a = ap.parse_args()
    name = a.name or os.path.basename(a.got)
    tol = DEFAULT_TOL[a.mode] if a.tol is None else a.tol

    try:
        ref = np.load(a.ref, allow_pickle=False)
        got = np.load(a.got, allow_pickle=False)
    except (OSError, ValueError) as e:
        print(f"{name}: error: cannot load: {e}", file=sys.stderr)
        return 2

    if ref.shape != got.shape:
        print(f"{name}: FAIL shape mismatch: ref {list(ref.shape)} vs got {list(got.shape)}")
        return 1
    if ref.dtype != got.dtype:
        print(f"{name}: FAIL dtype mismatch: ref {ref.dtype} vs got {got.dtype}")
        return 1
    if not (np.issubdtype(ref.dtype, np.number) or ref.dtype == np.bool_):
        print(f"{name}: error: unsupported dtype {ref.dtype}", file=sys.stderr)
        return 2

    max_abs, max_ref, rel, cos = metrics(ref, got)
    if a.mode == "exact":
        ok = np.array_equal(ref, got, equal_nan=np.issubdtype(ref.dtype, np.inexact))
        crit = "exact"
    elif a.mode == "rel":
        ok = bool(max_abs <= tol * max_ref)  # False for NaN
        crit = f"rel<={tol:.10g}"
    else:
        ok = bool(cos >= tol)
        crit = f"cosine>={tol:.10g}"
    print(f"{name}: max_abs_err={max_abs:.6g}, max_ref={max_ref:.6g}, rel={rel:.6g}, "
          f"cosine={cos:.9f} [{a.mode}: {'ok' if ok else 'FAIL'} {crit}]")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
