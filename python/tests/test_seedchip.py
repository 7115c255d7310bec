"""Tests of the Python API (`import seedchip`): each call against the
command line's answer for the same job, numpy columns, errors as exceptions
with the command line's messages, and concurrent runs from threads."""
import json
import os
import subprocess
import threading

import numpy as np
import pytest

import seedchip

BIN = os.environ["SEEDCHIP_BIN"]
SRC = os.environ["SEEDCHIP_SOURCE_DIR"]


def cli(*args):
    r = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return r.stdout


def cli_error(*args):
    r = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 1
    return r.stderr.strip().removeprefix("seedchip: error: ")


def test_help_reads_well():
    assert "seedchip" in seedchip.__doc__
    # every public function, class, exception and attribute says what it is
    for name in dir(seedchip):
        if name.startswith("_"):
            continue
        o = getattr(seedchip, name)
        doc = (o.__doc__ or "").strip().splitlines()  # pybind11 puts the signature first: a text must follow
        assert doc and len(doc[-1]) > 10 and not doc[-1].startswith(name + "("), name
        if isinstance(o, type) and not issubclass(o, BaseException):
            for a, x in vars(o).items():
                if not a.startswith("_"):
                    doc = (x.__doc__ or "").strip().splitlines()
                    assert doc and len(doc[-1]) > 10 and not doc[-1].startswith(a + "("), f"{name}.{a}"
    for f in (seedchip.chip, seedchip.serve, seedchip.llm, seedchip.generate, seedchip.cost, seedchip.tco, seedchip.explore,
              seedchip.analyze):
        assert len(f.__doc__) > 40


def test_chip_matches_the_command_line():
    assert "seedchip-v2" in seedchip.chips()
    c = seedchip.chip("seedchip-v2")
    assert c.name == "seedchip-v2" and c.cores == 16 and c.hbm_stacks == 5
    j = json.loads(cli("chip", "show", "seedchip-v2", "--json"))
    s = c.summary()
    for k in ("cores", "clock_hz", "hbm_bytes_per_s", "isa_fingerprint", "peak_ops_per_s"):
        assert s[k] == j[k], k
    assert c.peak_ops_per_s("fp8e4m3") == pytest.approx(2 * 256 * 256 * 1.4e9 * 16)


def test_edit_and_revalidate():
    c = seedchip.chip("seedchip-v1")
    d = c.with_changes({"cores": 16, "memory.devices": 5, "memory.bandwidth_gb_s": 6272.0})
    assert d.cores == 16 and d.hbm_stacks == 5 and d.hbm_bytes_per_s == pytest.approx(6272e9)
    assert c.cores == 8  # the original is unchanged
    with pytest.raises(ValueError, match="core.matrix.rows"):
        c.with_changes({"core.matrix.rows": 0})
    with pytest.raises(ValueError, match="unknown key"):
        c.with_changes({"coers": 4})


def test_errors_carry_the_command_line_messages():
    with pytest.raises(ValueError) as e:
        seedchip.chip("nochip")
    assert str(e.value) == cli_error("chip", "show", "nochip")
    with pytest.raises(RuntimeError, match="--scenario 'nope'"):
        seedchip.serve("llama-2-7b", scenario="nope")
    with pytest.raises(ValueError, match="unknown process node"):
        seedchip.cost("seedchip-v1", node="tsmc-n1")


def test_serve_matches_the_command_line():
    args = dict(model="llama-2-7b", chip="seedchip-v1", chips=1, precision="fp8", requests=40, block_size=256)
    r = seedchip.serve(**args)
    j = json.loads(cli("serve", "--model", "llama-2-7b", "--chip", "seedchip-v1", "--chips", 1, "--precision", "fp8",
                       "--requests", 40, "--block-size", 256, "--json"))
    for k in ("output_tokens_per_s", "simulated_s", "energy_j", "usd_per_million_tokens"):
        assert r[k] == j[k], k
    q = r["requests"]
    assert set(q) >= {"id", "prompt_tokens", "output_tokens", "ttft_s", "tpot_s", "finish_s"}
    assert q["prompt_tokens"].dtype == np.int64 and q["ttft_s"].dtype == np.float64
    assert len(q["id"]) == 40
    assert np.all(q["finish_s"] >= q["first_token_s"])
    assert np.percentile(q["ttft_s"], 50) > 0


def test_serve_takes_an_edited_chip():
    c = seedchip.chip("seedchip-v1").with_changes({"memory.devices": 2, "memory.capacity_gib": 72, "memory.bandwidth_gb_s": 2508.8})
    slow = seedchip.serve("llama-2-7b", chip=c, chips=1, precision="fp8", requests=30, block_size=256)
    fast = seedchip.serve("llama-2-7b", chip="seedchip-v1", chips=1, precision="fp8", requests=30, block_size=256)
    assert slow["output_tokens_per_s"] < fast["output_tokens_per_s"]


def test_llm_cost_and_tco_match_the_command_line():
    r = seedchip.llm("llama-2-7b", chip="seedchip-v1", batch=4, prompt_len=128, gen_len=32, precision="fp8")
    j = json.loads(cli("llm", "--model", "llama-2-7b", "--chip", "seedchip-v1", "--batch", 4, "--prompt-len", 128,
                       "--gen-len", 32, "--precision", "fp8", "--json"))
    assert r == j
    c = seedchip.cost("seedchip-v2", units=200000)
    k = json.loads(cli("chip", "cost", "seedchip-v2", "--units", 200000, "--json"))
    assert c["unit_cost_usd"] == k["unit_cost_usd"] and c["die_area_mm2"] == k["die_area_mm2"]
    t = seedchip.tco("seedchip-v2", tokens_per_s=2000, power_w=300)
    m = json.loads(cli("tco", "--chip", "seedchip-v2", "--tokens-per-s", 2000, "--power-w", 300, "--json"))
    assert t["usd_per_million_tokens"] == pytest.approx(m["usd_per_million_tokens"], rel=1e-12)


def test_threaded_sweep_matches_the_command_line():
    sweep = os.path.join(SRC, "examples", "sweeps", "quick.yaml")
    results = {}

    def one(jobs):
        results[jobs] = seedchip.explore(sweep, jobs=jobs)

    threads = [threading.Thread(target=one, args=(j,)) for j in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    j = json.loads(cli("explore", sweep, "--json"))
    assert results[1]["rows"] == j["rows"] == results[2]["rows"]
    assert results[1]["pareto"] == j["pareto"]
    assert results[1]["best"] == j["best_name"]


def _onnx_model(path=None):
    """A small MLP in ONNX (MatMul + Add + Relu + MatMul) with fixed weights."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(7)
    w1 = rng.standard_normal((16, 32)).astype(np.float32) * 0.3
    b1 = rng.standard_normal(32).astype(np.float32) * 0.1
    w2 = rng.standard_normal((32, 8)).astype(np.float32) * 0.3
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"]), helper.make_node("Add", ["h", "b1"], ["hb"]),
             helper.make_node("Relu", ["hb"], ["r"]), helper.make_node("MatMul", ["r", "w2"], ["y"])]
    g = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 16])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 8])],
                          [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(b1, "b1"), numpy_helper.from_array(w2, "w2")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    data = m.SerializeToString()
    if path:
        with open(path, "wb") as f:
            f.write(data)
    return data, (w1, b1, w2)


def test_compile_and_run_onnx_with_numpy(tmp_path):
    path = str(tmp_path / "mlp.onnx")
    data, (w1, b1, w2) = _onnx_model(path)
    x = np.random.default_rng(1).standard_normal((4, 16)).astype(np.float32)
    ref = np.maximum(x @ w1 + b1, 0) @ w2
    m = seedchip.compile(path)
    assert m.inputs == [("x", "f32", [4, 16])] and m.outputs == [("y", "f32", [4, 8])]
    assert m.instructions > 0 and any(p[2] == "chip" for p in m.placement)
    y = seedchip.run(m, {"x": x})["outputs"]["y"]
    assert y.dtype == np.float32 and y.shape == (4, 8)
    assert np.max(np.abs(y - ref)) <= 1e-4 * np.max(np.abs(ref))
    # from the file's bytes, the same answer; and the command line's output file bit for bit
    y2 = seedchip.run(seedchip.compile(data), {"x": x})["outputs"]["y"]
    assert np.array_equal(y, y2)
    np.save(tmp_path / "x.npy", x)
    cli("run", path, "--input", f"x={tmp_path / 'x.npy'}", "--output-dir", tmp_path / "out")
    assert np.array_equal(np.load(tmp_path / "out" / "y.npy"), y)
    # int8 on the TPU v1 description (an int8-only array), calibrated on the host
    q = seedchip.run(path, {"x": x}, chip="tpu-v1", precision="int8")["outputs"]["y"]
    cos = float(np.dot(q.ravel(), ref.ravel()) / np.linalg.norm(q) / np.linalg.norm(ref))
    assert cos > 0.99
    # timing and both: metrics, and the same instruction streams
    b = seedchip.run(m, {"x": x}, mode="both")
    assert b["same_instruction_streams"] and b["metrics"]["cycles"] > 0
    m.save(str(tmp_path / "mlp.scp"))
    assert np.array_equal(seedchip.run(str(tmp_path / "mlp.scp"), {"x": x})["outputs"]["y"], y)


def test_bad_model_inputs_raise():
    data, _ = _onnx_model()
    m = seedchip.compile(data)
    with pytest.raises(RuntimeError, match="the model has no input 'z'"):
        seedchip.run(m, {"z": np.zeros((4, 16), np.float32)})
    with pytest.raises(RuntimeError, match=r"has shape \[2,16\], the model's input is \[4,16\]"):
        seedchip.run(m, {"x": np.zeros((2, 16), np.float32)})
    with pytest.raises(RuntimeError, match="holds f64 data"):
        seedchip.run(m, {"x": np.zeros((4, 16), np.float64)})
    with pytest.raises(TypeError):
        seedchip.run(m, {"x": np.zeros((4, 16), np.complex64)})
    with pytest.raises(RuntimeError):
        seedchip.compile(b"not an onnx model")


@pytest.mark.parametrize("dtype,onnx_type", [("float32", 1), ("float16", 10), ("float64", 11), ("int8", 3), ("uint8", 2),
                                             ("int16", 5), ("int32", 6), ("int64", 7), ("bool", 9)])
def test_numpy_round_trip_of_every_dtype(dtype, onnx_type):
    from onnx import helper

    g = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "id",
                          [helper.make_tensor_value_info("x", onnx_type, [3, 5])], [helper.make_tensor_value_info("y", onnx_type, [3, 5])])
    mo = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    mo.ir_version = 8
    x = (np.arange(15).reshape(3, 5) % 7 - 3).astype(dtype) if dtype != "bool" else (np.arange(15).reshape(3, 5) % 2 == 0)
    y = seedchip.run(mo.SerializeToString(), {"x": x})["outputs"]["y"]
    assert y.dtype == x.dtype and y.shape == x.shape
    assert np.array_equal(y, x)


def test_plan_matches_the_command_line():
    fleet = os.path.join(SRC, "examples", "fleet", "seed-2026.yaml")
    p = seedchip.plan(fleet)
    j = json.loads(cli("plan", fleet, "--json", "--check"))
    assert p["violations"] == [] == j["violations"]
    assert p["capex_total_usd"] == j["capex_total_usd"] and p["hardware"] == j["hardware"]
    assert len(p["scenarios"]) == len(j["scenarios"])
    with pytest.raises(ValueError, match="these constraints conflict"):
        seedchip.plan(os.path.join(SRC, "examples", "fleet", "infeasible.yaml"))


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory):
    """A tiny Llama checkpoint and PyTorch's greedy generations (llm/tests/make_tiny_llama.py)."""
    pytest.importorskip("torch")
    import sys

    d = tmp_path_factory.mktemp("tiny_llama")
    subprocess.run([sys.executable, os.path.join(SRC, "llm", "tests", "make_tiny_llama.py"), str(d), "--seed", "2",
                    "--generate", "12"], check=True, stdout=subprocess.DEVNULL)
    with open(d / "reference.json") as f:
        return str(d / "config.json"), str(d / "model.safetensors"), json.load(f)


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_generate_matches_pytorch_and_the_command_line(tiny_llama, precision):
    config, weights, ref = tiny_llama
    r = seedchip.generate(config, weights, ref["prompt_ids"], gen_len=len(ref["fp32"]), precision=precision)
    j = json.loads(cli("llm", "--model", config, "--weights", weights, "--prompt-ids", ",".join(map(str, ref["prompt_ids"])),
                       "--generate", len(ref["fp32"]), "--precision", precision, "--mode", "functional", "--json"))
    assert r["generated_ids"].dtype == np.int64
    assert r["generated_ids"].tolist() == j["generated_ids"]
    assert r["functional_instructions"] == j["functional_instructions"] and r["functional_steps"] == j["functional_steps"]
    if precision == "fp32":
        assert r["generated_ids"].tolist() == ref["fp32"]  # bit-exact fp32 greedy decoding agrees with PyTorch
        assert "top1_agreement" not in r
    else:
        assert r["top1_agreement"] == j["top1_agreement"] and r["fp32_generated_ids"].tolist() == ref["fp32"]


def test_generate_errors_raise(tiny_llama):
    config, weights, ref = tiny_llama
    with pytest.raises(RuntimeError) as e:
        seedchip.generate(config, weights, [10**6])
    msg = cli_error("llm", "--model", config, "--weights", weights, "--prompt-ids", "1000000", "--mode", "functional")
    assert msg.splitlines()[-1].removeprefix("seedchip: error: ") == str(e.value)
    with pytest.raises(RuntimeError, match="not a non-negative integer"):
        seedchip.generate(config, weights, "1,x")
    with pytest.raises(RuntimeError, match=r"\.missing: cannot be opened"):
        seedchip.generate(config, weights + ".missing", [1, 2])
