#!/usr/bin/python3
"""A notebook-style example of the Python API: sweep seedchip-v1's core count,
serve Llama-2-7B at a chat SLO on one chip of each design, cost each design,
and plot served tokens/s and TCO per million tokens against the core count.

    PYTHONPATH=build/release/python /usr/bin/python3 examples/python/sweep_cores.py [OUT.png]
"""
import sys
from concurrent.futures import ThreadPoolExecutor

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt

import seedchip

out = sys.argv[1] if len(sys.argv) > 1 else "sweep_cores.png"
base = seedchip.chip("seedchip-v1")
cores = [2, 4, 8, 12, 16]


def one(n):
    chip = base.with_changes({"cores": n})  # validated like a chip file
    run = seedchip.serve("llama-2-7b", chip=chip, chips=1, precision="fp8", scenario="server", requests=200,
                         block_size=256, ttft_slo=1.0, tpot_slo=0.05)
    cost = seedchip.cost(chip, units=200000)
    return n, run, cost


# serving releases the GIL: the designs run in parallel threads
with ThreadPoolExecutor(max_workers=2) as pool:
    results = list(pool.map(one, cores))

tps = [r["served_tokens_per_s_per_chip"] for _, r, _ in results]
usd = [r["usd_per_million_tokens"] for _, r, _ in results]
area = [c["die_area_mm2"] for _, _, c in results]
for (n, r, c), a in zip(results, area):
    print(f"{n:3d} cores: {r['served_tokens_per_s_per_chip']:8.1f} tok/s  ${r['usd_per_million_tokens']:.4f}/Mtok  "
          f"{a:6.0f} mm2  ${c['unit_cost_usd']:,.0f} per unit  p99 TTFT {r['ttft_s']['p99']:.3f} s")

fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(cores, tps, "o-", color="#0072B2", label="served tokens/s per chip")
ax.set_xlabel("cores (256x256 arrays)")
ax.set_ylabel("output tokens/s per chip", color="#0072B2")
ax2 = ax.twinx()
ax2.plot(cores, usd, "s--", color="#D55E00", label="$ per million tokens")
ax2.set_ylabel("TCO, $ per million tokens", color="#D55E00")
ax.set_title("seedchip-v1 cores: Llama-2-7B at p99 TTFT <= 1 s, TPOT <= 50 ms")
fig.tight_layout()
fig.savefig(out, dpi=120)
print(f"wrote {out}")
