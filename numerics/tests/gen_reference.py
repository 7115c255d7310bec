#!/usr/bin/python3
"""Writes reference conversions for numerics_ref_tests into the directory argv[1].

Independent implementations: torch's Tensor.to(bfloat16 / float16) and numpy's
astype(float16) (round to nearest even), and numpy's rint (ties to even) for the
float -> integer conversions. Run with Debian's /usr/bin/python3 (numpy, torch).

Files (all little-endian, N elements each, same order):
  input.u32        fp32 input bit patterns
  torch_bf16.u16   torch x.to(torch.bfloat16) bit patterns
  torch_fp16.u16   torch x.to(torch.float16) bit patterns
  numpy_fp16.u16   numpy x.astype(np.float16) bit patterns
  numpy_int8.i8, numpy_uint8.u8, numpy_int32.i32, numpy_int4.i8
                   rint(x) clamped to the type's range, NaN -> 0
  meta.txt         "count N" and the library versions
"""
import os
import sys

import numpy as np

try:
    import torch
except ImportError:  # the reference needs torch; say so instead of a traceback
    sys.exit("gen_reference.py: torch is not importable by %s" % sys.executable)

SEED = 20240611


def random_signs(rng, n):
    return rng.integers(0, 2, n, dtype=np.uint32) << np.uint32(31)


def make_inputs():
    rng = np.random.default_rng(SEED)
    parts = []
    # Every kind of bit pattern: NaNs, Infs, subnormals, huge, tiny.
    parts.append(rng.integers(0, 2**32, 300_000, dtype=np.uint64).astype(np.uint32))
    # Exponents around the fp16/bf16 interesting range, random mantissas.
    n = 200_000
    exp = rng.integers(127 - 30, 127 + 20, n, dtype=np.uint32)
    mant = rng.integers(0, 1 << 23, n, dtype=np.uint32)
    parts.append(random_signs(rng, n) | (exp << np.uint32(23)) | mant)
    # bf16 ties (low half exactly 0x8000) and their neighbours.
    for low, count in ((0x8000, 100_000), (0x7FFF, 50_000), (0x8001, 50_000)):
        high = rng.integers(0, 1 << 16, count, dtype=np.uint32)
        parts.append((high << np.uint32(16)) | np.uint32(low))
    # fp16 midpoints between adjacent finite values (exact in fp32) and neighbours.
    n = 100_000
    k = rng.integers(0, 0x7BFF, n, dtype=np.uint16)  # k < 0x7BFF, so k+1 is finite
    lo = k.view(np.float16).astype(np.float64)
    hi = (k + np.uint16(1)).view(np.float16).astype(np.float64)
    mid = ((lo + hi) / 2).astype(np.float32)
    assert np.all(mid.astype(np.float64) == (lo + hi) / 2)
    sign = random_signs(rng, n)
    parts.append(mid.view(np.uint32) | sign)
    parts.append(np.nextafter(mid, np.float32(np.inf)).view(np.uint32) | sign)
    parts.append(np.nextafter(mid, np.float32(0)).view(np.uint32) | sign)
    # fp32 subnormals.
    n = 50_000
    parts.append(random_signs(rng, n) | rng.integers(1, 1 << 23, n, dtype=np.uint32))
    # Integer-conversion ties: k + 0.5 for k across the int8/uint8/int32 ranges.
    halves = np.concatenate([np.arange(-300, 300) + 0.5, rng.integers(-2**23, 2**23, 20_000) + 0.5])
    parts.append(halves.astype(np.float32).view(np.uint32))
    # Specials.
    specials = [0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000,
                0x7F800001, 0xFF800001, 0x7FBFFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 0x7F7FFFFF, 0xFF7FFFFF,
                0x00000001, 0x80000001, 0x007FFFFF, 0x00800000, 0x7F7F8000, 0x7F7F7FFF]
    for v in (65504.0, 65519.996, 65520.0, -65520.0, 65536.0, 2.0**-24, 2.0**-25, 2.0**-14,
              448.0, 464.0, 57344.0, 61440.0, 127.5, -128.5, 255.5, 2147483520.0, 2147483648.0,
              -2147483648.0, 3e9, -3e9, 0.1, 1.0 + 2.0**-8, 1.0 + 3 * 2.0**-8):
        specials.append(int(np.array([v], dtype=np.float32).view(np.uint32)[0]))
    parts.append(np.array(specials, dtype=np.uint32))
    return np.concatenate(parts)


def int_reference(x, lo, hi, dtype):
    with np.errstate(all="ignore"):
        r = np.rint(x.astype(np.float64))
        r = np.where(np.isnan(r), 0.0, np.clip(r, lo, hi))
    return r.astype(dtype)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen_reference.py OUTPUT_DIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    bits = make_inputs()
    x = bits.view(np.float32)
    t = torch.from_numpy(x.copy())
    torch_bf16 = t.to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
    torch_fp16 = t.to(torch.float16).view(torch.int16).numpy().view(np.uint16)
    with np.errstate(all="ignore"):
        numpy_fp16 = x.astype(np.float16).view(np.uint16)
    files = {
        "input.u32": bits.astype("<u4"),
        "torch_bf16.u16": torch_bf16.astype("<u2"),
        "torch_fp16.u16": torch_fp16.astype("<u2"),
        "numpy_fp16.u16": numpy_fp16.astype("<u2"),
        "numpy_int8.i8": int_reference(x, -128, 127, np.int8),
        "numpy_uint8.u8": int_reference(x, 0, 255, np.uint8),
        "numpy_int32.i32": int_reference(x, -2**31, 2**31 - 1, "<i4"),
        "numpy_int4.i8": int_reference(x, -8, 7, np.int8),
    }
    for name, arr in files.items():
        assert arr.size == bits.size, name
        arr.tofile(os.path.join(out, name))
    with open(os.path.join(out, "meta.txt"), "w") as f:
        f.write("count %d\nseed %d\nnumpy %s\ntorch %s\n" % (bits.size, SEED, np.__version__, torch.__version__))
    print("wrote %d reference values to %s (numpy %s, torch %s)" % (bits.size, out, np.__version__, torch.__version__))


if __name__ == "__main__":
    main()
