#!/usr/bin/python3
"""End-to-end tests of the `seedchip` command: the jobs work, and every bad
input ends with one `seedchip: error:` line and exit status 1 (never a crash,
a hang or a sanitizer report).

Usage: cli_test.py SEEDCHIP_BINARY SOURCE_DIR
"""
import json
import math
import os
import struct
import random
import subprocess
import sys
import tempfile
import unittest
import zlib

import numpy as np

SEEDCHIP = os.path.abspath(sys.argv[1])
SRC = os.path.abspath(sys.argv[2])
EXAMPLES = os.path.join(SRC, "examples")


def slurp(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def run(*args, timeout=60):
    return subprocess.run([SEEDCHIP, *map(str, args)], capture_output=True, text=True, timeout=timeout)


class CliCase(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp, name)

    def write(self, name, data, mode="w"):
        with open(self.path(name), mode) as f:
            f.write(data)
        return self.path(name)

    def assert_ok(self, r):
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r.stdout

    def assert_clean_error(self, r, contains=""):
        """Exit 1 with exactly one stderr line `seedchip: error: ...`."""
        self.assertEqual(r.returncode, 1, f"stdout={r.stdout!r} stderr={r.stderr!r}")
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertTrue(lines[0].startswith("seedchip: error: "), r.stderr)
        self.assertIn(contains, lines[0])
        return lines[0]

    def asm(self, name):
        out = self.path(name + ".bin")
        self.assert_ok(run("asm", os.path.join(EXAMPLES, name + ".s"), "-o", out))
        return out


class Basics(CliCase):
    def test_version_and_help(self):
        self.assertIn("seedchip", self.assert_ok(run("--version")))
        for sub in [[], ["chip"], ["chip", "show"], ["chip", "list"], ["asm"], ["disasm"], ["sim"], ["demo"]]:
            r = run(*sub, "--help")
            self.assertEqual(r.returncode, 0, sub)
            self.assertIn("Usage", r.stdout)

    def test_chip_show_json(self):
        import json
        tpu = json.loads(self.assert_ok(run("chip", "show", "tpu-v1", "--json")))
        self.assertAlmostEqual(tpu["peak_ops_per_s"]["int8"] / 91.75e12, 1.0, delta=0.01)
        for key in ["name", "peak_ops_per_s", "hbm_bytes_per_s", "hbm_capacity_bytes", "sram_bytes_total"]:
            self.assertIn(key, tpu)
        v1 = json.loads(self.assert_ok(run("chip", "show", "seedchip-v1", "--json")))
        self.assertEqual(set(v1["peak_ops_per_s"]), {"int8", "fp8", "bf16", "fp16", "fp32"})
        self.assertIn("ridge", self.assert_ok(run("chip", "show", "seedchip-v1")).lower())

    def test_demo(self):
        out = self.assert_ok(run("demo"))
        self.assertIn("matches the C++ reference bit for bit", out)
        self.assertIn("matches", self.assert_ok(run("demo", "--chip", "tpu-v1")))

    def test_every_example_round_trips(self):
        for f in sorted(os.listdir(EXAMPLES)):
            if not f.endswith(".s"):
                continue
            b1 = self.asm(f[:-2])
            text = self.assert_ok(run("disasm", b1))
            s2 = self.path("re.s")
            with open(s2, "w") as fh:
                fh.write(text)
            b2 = self.path("re.bin")
            self.assert_ok(run("asm", s2, "-o", b2))
            with open(b1, "rb") as x, open(b2, "rb") as y:
                self.assertEqual(x.read(), y.read(), f)


class Sim(CliCase):
    def test_softmax_matches_numpy(self):
        prog = self.asm("softmax")
        x = np.random.default_rng(1).uniform(-10, 10, (64, 1000)).astype(np.float32)
        np.save(self.path("x.npy"), x)
        out = self.assert_ok(run("sim", prog, "--chip", "seedchip-v1", "--input", f"X={self.path('x.npy')}",
                                 "--output-dir", self.path("out")))
        self.assertIn("Y.npy", out)
        y = np.load(self.path("out/Y.npy"))
        e = np.exp(x.astype(np.float64) - x.max(axis=1, keepdims=True))
        ref = e / e.sum(axis=1, keepdims=True)
        self.assertEqual(y.dtype, np.float32)
        self.assertLess(np.max(np.abs(y - ref) / ref), 1008 * 2.0 ** -24)

    def test_gemm_bit_exact_against_numpy(self):
        prog = self.asm("gemm_bias_relu")
        rng = np.random.default_rng(2)
        a = rng.integers(-128, 128, (128, 512), dtype=np.int8)
        b = rng.integers(-128, 128, (512, 512), dtype=np.int8)
        bias = rng.integers(-100000, 100000, (512,), dtype=np.int32)
        for n, v in [("a", a), ("b", b), ("bias", bias)]:
            np.save(self.path(n + ".npy"), v)
        self.assert_ok(run("sim", prog, "--input", f"A={self.path('a.npy')}", "--input", f"B={self.path('b.npy')}",
                           "--input", f"bias={self.path('bias.npy')}", "--output-dir", self.tmp))
        c = np.load(self.path("C.npy"))
        acc = np.maximum(a.astype(np.int64) @ b.astype(np.int64) + bias, 0)
        ref = np.clip(np.rint(acc / 1024.0), -128, 127).astype(np.int8)
        np.testing.assert_array_equal(c, ref)

    def test_assembly_runs_directly_and_two_cores(self):
        rng = np.random.default_rng(3)
        x = rng.integers(-128, 128, (16, 512), dtype=np.int8)
        w = rng.integers(-128, 128, (512, 128), dtype=np.int8)
        np.save(self.path("x.npy"), x)
        np.save(self.path("w.npy"), w)
        out = self.assert_ok(run("sim", os.path.join(EXAMPLES, "two_core_splitk.s"), "--input", f"X={self.path('x.npy')}",
                                 "--input", f"W={self.path('w.npy')}", "--output-dir", self.tmp))
        self.assertIn("barriers: 1", out)
        np.testing.assert_array_equal(np.load(self.path("Y.npy")),
                                      np.maximum(x.astype(np.int64) @ w.astype(np.int64), 0).astype(np.int32))


class BadInput(CliCase):
    def test_chip_errors(self):
        self.assert_clean_error(run("chip", "show", "no-such-chip"), "seedchip-v1")
        bad = self.write("bad.yaml", "name: x\ncores: [1\n")
        self.assert_clean_error(run("chip", "show", bad), "bad.yaml")
        bad = self.write("bad2.yaml", slurp(os.path.join(SRC, "chips", "tpu-v1.yaml")).replace("rows: 256", "rows: 0"))
        self.assert_clean_error(run("chip", "show", bad), "core.matrix.rows")
        bad = self.write("bad3.yaml", slurp(os.path.join(SRC, "chips", "tpu-v1.yaml")) + "\nbogus: 1\n")
        self.assert_clean_error(run("chip", "show", bad), "bogus")
        self.assert_clean_error(run("sim", self.asm("softmax"), "--chip", bad), "bogus")

    def test_asm_errors(self):
        s = self.write("e.s", ".chip seedchip-v1\n.core 0\n  v.frob dst=sram:0x0:fp32[1]\n")
        self.assert_clean_error(run("asm", s, "-o", self.path("e.bin")), "e.s:3: unknown instruction 'v.frob'")
        self.assert_clean_error(run("asm", self.path("missing.s"), "-o", self.path("e.bin")), "missing.s")

    def test_program_file_errors(self):
        good = slurp(self.asm("softmax"), "rb")
        cases = {
            "random.bin": bytes(random.Random(1).getrandbits(8) for _ in range(300)),
            "empty.bin": b"",
            "trunc.bin": good[: len(good) // 2],
            "crc.bin": good[:-1] + bytes([good[-1] ^ 1]),
        }
        for name, data in cases.items():
            p = self.write(name, data, "wb")
            self.assert_clean_error(run("disasm", p), name)
            self.assert_clean_error(run("sim", p), name)
        # unknown opcode with a valid checksum
        body = bytearray(good[:-4])
        i = body.index(bytes([0x02, 0xFF, 0x00]))  # first `load ... signal=0`
        body[i] = 0xEE
        p = self.write("op.bin", bytes(body) + zlib.crc32(bytes(body)).to_bytes(4, "little"), "wb")
        self.assert_clean_error(run("disasm", p), "unknown opcode 0xee")
        self.assert_clean_error(run("disasm", self.tmp), "not a readable file")

    def test_program_for_another_chip(self):
        text = slurp(os.path.join(EXAMPLES, "softmax.s")).replace(".chip seedchip-v1", ".chip tpu-v1")
        s = self.write("t.s", text)
        self.assert_ok(run("asm", s, "-o", self.path("t.bin")))
        np.save(self.path("x.npy"), np.zeros((64, 1000), np.float32))
        self.assert_clean_error(run("sim", self.path("t.bin"), "--chip", "seedchip-v1", "--input", f"X={self.path('x.npy')}"),
                                "program was built for chip 'tpu-v1'")

    def npy_with_header(self, name, header):
        data = np.zeros(3, np.float32).tobytes()
        h = header.encode()
        h += b" " * (-(len(h) + 11) % 64) + b"\n"
        return self.write(name, b"\x93NUMPY\x01\x00" + len(h).to_bytes(2, "little") + h + data, "wb")

    def test_npy_headers_numpy_would_refuse_or_read_otherwise(self):
        """A key given twice (numpy would read the last), keys numpy rejects and
        garbage around the dict are refused, naming the file (issue 15)."""
        prog = self.asm("softmax")
        for header, why in [("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'shape': (5,), }", "gives 'shape' twice"),
                            ("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'extra': 1, }", "has key 'extra'"),
                            ("xx{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", "is not a dict literal")]:
            f = self.npy_with_header("h.npy", header)
            self.assert_clean_error(run("sim", prog, "--input", f"X={f}"), "h.npy: npy header " + why)

    def test_ir_constant_sizes_checked_before_allocating(self):
        for shape, why in [("1000000000", "declares 1000000000 elements but only"),
                           ("4294967296,4294967296", "size exceeds the limit")]:
            f = self.write("c.ir", 'graph "g" {\n  input %x : f32[2]\n  const %w : f32[' + shape + '] = [1.0]\n'
                           '  %y : f32[2] = Add(%x, %x) name="a" opset=14\n  output %y\n}\n')
            self.assert_clean_error(run("run", f, timeout=20), "c.ir:3: " if "declares" in why else "c.ir:3")
            self.assert_clean_error(run("run", f, timeout=20), why)

    def test_ir_declared_shapes_checked(self):
        # a wrong result shape used to compile when a fusion absorbed the node (fuzz_ir_text)
        f = self.write("s.ir", 'graph "g" {\n  input %x : f32[4,2]\n  const %b : f32[2] = [1, 2]\n'
                       '  %y : f32[4,22] = Add(%b, %x) name="add" opset=13\n  output %y\n}\n')
        for mode in ("functional", "timing"):
            self.assert_clean_error(run("run", f, "--mode", mode, timeout=20),
                                    "s.ir: node 'add' (Add): output 'y' is declared f32[4,22] but its inputs give f32[4,2]")
        self.assert_clean_error(run("opt", f, "--pass", "fuse", timeout=20), "declared f32[4,22]")

    def test_input_errors(self):
        prog = self.asm("softmax")
        self.assert_clean_error(run("sim", prog), "input 'X' (fp32 [64,1000]) was not given")
        np.save(self.path("shape.npy"), np.zeros((64, 999), np.float32))
        self.assert_clean_error(run("sim", prog, "--input", f"X={self.path('shape.npy')}"), "shape [64,999] does not match")
        np.save(self.path("dt.npy"), np.zeros((64, 1000), np.float64))
        self.assert_clean_error(run("sim", prog, "--input", f"X={self.path('dt.npy')}"), "npy dtype '<f8'")
        self.assert_clean_error(run("sim", prog, "--input", f"X={self.path('none.npy')}"), "none.npy: no such file")
        self.assert_clean_error(run("sim", prog, "--input", f"Q={self.path('dt.npy')}"), "no tensor 'Q' (inputs: X)")
        self.assert_clean_error(run("sim", prog, "--input", "X"), "--input 'X': expected NAME=FILE")
        self.write("junk.npy", b"\x93NUMPY\x01\x00garbage", "wb")
        self.assert_clean_error(run("sim", prog, "--input", f"X={self.path('junk.npy')}"), "junk.npy")
        self.write("afile", "x")
        np.save(self.path("x.npy"), np.zeros((64, 1000), np.float32))
        self.assert_clean_error(run("sim", prog, "--input", f"X={self.path('x.npy')}", "--output-dir",
                                    self.path("afile/out")), "cannot create output directory")

    def test_runtime_errors(self):
        s = self.write("oob.s", ".chip seedchip-v1\n.core 2\n  load dst=sram:0xFFFFFF:int8[1] a=hbm:0x0:int8[1] shape=[2]\n")
        self.assert_clean_error(run("sim", s), "core 2 dma_in instruction #0 (load): operand dst accesses bytes")
        s = self.write("dl.s", ".chip seedchip-v1\n.core 0\n  nop engine=matrix wait=1\n")
        self.assert_clean_error(run("sim", s), "deadlock: no engine can make progress: core 0 matrix #0 (nop) waits on semaphore 1")

    def test_hundreds_of_corrupted_programs(self):
        rng = random.Random(7)
        progs = [slurp(self.asm(n), "rb") for n in ("softmax", "gemm_bias_relu", "two_core_splitk")]
        np.save(self.path("x.npy"), np.ones((64, 1000), np.float32))
        n_err = 0
        for trial in range(240):
            data = bytearray(progs[trial % 3])
            kind = trial % 4
            if kind == 0:
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
            elif kind == 1:
                del data[rng.randrange(len(data)):]
            elif kind == 2:
                for _ in range(4):
                    data[rng.randrange(len(data))] = rng.randrange(256)
            else:  # structural damage behind a valid checksum
                for _ in range(2):
                    data[rng.randrange(16, max(17, len(data) - 4))] = rng.randrange(256)
                data[-4:] = zlib.crc32(bytes(data[:-4])).to_bytes(4, "little")
            p = self.path("fuzz.bin")
            with open(p, "wb") as f:
                f.write(data)
            for cmd in (["disasm", p], ["sim", p, "--input", f"X={self.path('x.npy')}", "--output-dir", self.path("o")]):
                r = run(*cmd, timeout=60)
                self.assertNotIn("Sanitizer", r.stderr)
                self.assertNotIn("runtime error", r.stderr)
                if r.returncode != 0:
                    self.assert_clean_error(r)
                    n_err += 1
        self.assertGreater(n_err, 400)


class ModelBadInput(CliCase):
    """compile/run: every bad model or input gives one clear error line."""

    def make(self, name, nodes, inputs, outputs, inits=(), opset=17):
        from onnx import helper
        g = helper.make_graph(nodes, name, inputs, outputs, list(inits))
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
        p = self.path(name + ".onnx")
        with open(p, "wb") as f:
            f.write(m.SerializeToString())
        return p

    def vi(self, n, shape):
        from onnx import helper, TensorProto
        return helper.make_tensor_value_info(n, TensorProto.FLOAT, shape)

    def test_conformance_expect_list_is_checked_case_by_case(self):
        """--expect: every listed case must pass; new passes are reported, --write-pass writes the list."""
        from onnx import helper, numpy_helper
        x = np.array([[-1.0, 2.0, -3.0]], dtype=np.float32)
        for name, want in (("test_relu_ok", np.maximum(x, 0)), ("test_relu_wrong", np.maximum(x, 0) + 1)):
            d = self.path(os.path.join("cases", name))
            os.makedirs(os.path.join(d, "test_data_set_0"))
            g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="relu")], name,
                                  [self.vi("x", [1, 3])], [self.vi("y", [1, 3])])
            with open(os.path.join(d, "model.onnx"), "wb") as f:
                f.write(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
            for kind, arr in (("input", x), ("output", want)):
                with open(os.path.join(d, "test_data_set_0", kind + "_0.pb"), "wb") as f:
                    f.write(numpy_helper.from_array(arr, kind[0]).SerializeToString())
        cases = self.path("cases")
        ok = self.write("ok.txt", "# comment\n\ntest_relu_ok\n")
        out = self.assert_ok(run("conformance", cases, "--expect", ok, "--write-pass", self.path("pass.txt")))
        self.assertIn("1 passed, 1 failed", out)
        self.assertEqual([l for l in slurp(self.path("pass.txt")).splitlines() if not l.startswith("#")], ["test_relu_ok"])
        both = self.write("both.txt", "test_relu_ok\ntest_relu_wrong\ntest_gone\n")
        line = self.assert_clean_error(run("conformance", cases, "--expect", both), "2 of its 3 cases do not pass")
        self.assertIn("test_relu_wrong (", line)
        self.assertIn("test_gone (not found)", line)
        self.assertNotIn("test_relu_ok", line)
        self.assertIn("1 cases pass that", self.assert_ok(run("conformance", cases, "--expect", self.write("none.txt", "# none\n"))))
        self.assert_clean_error(run("conformance", cases, "--expect", self.write("twice.txt", "test_relu_ok\ntest_relu_ok\n")),
                                "twice.txt:2: case 'test_relu_ok' is listed twice")
        self.assert_clean_error(run("conformance", cases, "--expect", self.path("absent.txt")), "absent.txt: no such file")

    def test_int8_on_a_chip_without_fp32(self):
        """tpu-v1 has only an int8 array: activation scales are calibrated on the host evaluator."""
        from onnx import helper, numpy_helper
        rng = np.random.default_rng(0)
        const = lambda a, n: numpy_helper.from_array(a.astype(np.float32) if a.dtype.kind == "f" else a, n)
        mlp = self.make("mlp", [helper.make_node("MatMul", ["x", "w1"], ["h"], name="mm1"),
                                helper.make_node("Add", ["h", "b1"], ["hb"], name="add1"),
                                helper.make_node("Relu", ["hb"], ["r"], name="relu"),
                                helper.make_node("MatMul", ["r", "w2"], ["y"], name="mm2")],
                        [self.vi("x", [16, 64])], [self.vi("y", [16, 32])],
                        [const(rng.standard_normal((64, 128)) * 0.1, "w1"), const(rng.standard_normal(128) * 0.1, "b1"),
                         const(rng.standard_normal((128, 32)) * 0.1, "w2")], opset=13)
        cnn = self.make("cnn", [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1], name="conv"),
                                helper.make_node("Relu", ["c"], ["r"], name="relu"),
                                helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2], name="pool"),
                                helper.make_node("Reshape", ["p", "shp"], ["f"], name="flat"),
                                helper.make_node("MatMul", ["f", "w2"], ["y"], name="fc")],
                        [self.vi("x", [1, 3, 16, 16])], [self.vi("y", [1, 10])],
                        [const(rng.standard_normal((8, 3, 3, 3)) * 0.2, "w"), const(rng.standard_normal(8) * 0.1, "b"),
                         const(rng.standard_normal((512, 10)) * 0.05, "w2"), const(np.array([1, 512], np.int64), "shp")],
                        opset=13)
        for model, shape in ((mlp, (16, 64)), (cnn, (1, 3, 16, 16))):
            x = self.path("x.npy")
            np.save(x, rng.standard_normal(shape).astype(np.float32))
            outs = {}
            for chip, prec in (("tpu-v1", "int8"), ("seedchip-v1", "int8"), ("seedchip-v1", "fp32")):
                d = self.path(f"{chip}-{prec}")
                os.makedirs(d, exist_ok=True)
                for mode in ("functional", "timing", "both"):
                    self.assert_ok(run("run", model, "--chip", chip, "--precision", prec, "--input", f"x={x}",
                                       "--output-dir", d, "--mode", mode))
                outs[chip, prec] = np.load(os.path.join(d, "y.npy"))
            ref = outs["seedchip-v1", "fp32"]
            # the host's scales match the chip's to rounding (fp32 sums in another order): the same int8
            # answer on both chips to a few ulps, within int8's error of fp32
            np.testing.assert_allclose(outs["tpu-v1", "int8"], outs["seedchip-v1", "int8"], rtol=1e-5, atol=1e-6)
            self.assertLess(np.abs(outs["tpu-v1", "int8"] - ref).max(), 0.05 * np.abs(ref).max())

    def relu_model(self, name="good", shape=(2, 3), opset=17):
        from onnx import helper
        return self.make(name, [helper.make_node("Relu", ["x"], ["y"], name="r")], [self.vi("x", list(shape))],
                         [self.vi("y", list(shape))], opset=opset)

    def test_model_files(self):
        from onnx import helper
        good = self.relu_model()
        data = slurp(good, "rb")
        with open(self.path("trunc.onnx"), "wb") as f:
            f.write(data[: len(data) // 2])
        with open(self.path("junk.onnx"), "wb") as f:
            f.write(bytes(range(256)) * 3)
        for cmd in ("run", "compile"):
            extra = ["-o", self.path("m.scp")] if cmd == "compile" else ["--output-dir", self.tmp]
            self.assert_clean_error(run(cmd, self.path("trunc.onnx"), *extra), "trunc.onnx: not a valid ONNX model")
            self.assert_clean_error(run(cmd, self.path("junk.onnx"), *extra), "junk.onnx: not a valid ONNX model")
            self.assert_clean_error(run(cmd, self.path("none.onnx"), *extra), "none.onnx")
        p = self.make("missing", [helper.make_node("Add", ["x", "w"], ["y"], name="add1")], [self.vi("x", [2, 3])],
                      [self.vi("y", [2, 3])])
        self.assert_clean_error(run("run", p), "node 'add1' (Add): input 'w' is not a graph input, initializer")
        p = self.make("mismatch", [helper.make_node("Add", ["x", "z"], ["y"], name="add2")],
                      [self.vi("x", [2, 3]), self.vi("z", [4, 5])], [self.vi("y", [2, 3])])
        self.assert_clean_error(run("run", p), "shape inference failed at node 'add2' (Add)")
        p = self.make("unsup", [helper.make_node("Det", ["x"], ["y"], name="det1")], [self.vi("x", [3, 3])],
                      [self.vi("y", [])])
        self.assert_clean_error(run("run", p),
                                "node 'det1' (Det, opset 17): this op is not supported on the chip (see docs/ops.md")
        p = self.relu_model("sym", ("batch", 3))
        self.assert_clean_error(run("run", p), "input 'x' has symbolic dimension 'batch': pass --dim batch=N")
        self.assert_ok(run("run", p, "--dim", "batch=4", "--output-dir", self.tmp))
        self.assert_clean_error(run("run", p, "--dim", "batch=0"), "--dim 'batch=0': the value must be positive")
        p = self.relu_model("new", opset=99)
        self.assert_clean_error(run("run", p), "opset 99 of domain '' is newer than the supported 17")
        self.assert_clean_error(run("run", good, "--precision", "fp64"), "--precision 'fp64'")
        self.assert_clean_error(run("run", good, "--dump-ir", "nope"), "--dump-ir: unknown stage 'nope'")

    def test_input_files(self):
        good = self.relu_model()
        np.save(self.path("f64.npy"), np.zeros((2, 3)))
        np.save(self.path("shape.npy"), np.zeros((3, 2), np.float32))
        self.assert_clean_error(run("run", good, "--input", f"x={self.path('f64.npy')}"),
                                "--input x: " + self.path("f64.npy") + " holds f64 data, the model's input is f32")
        self.assert_clean_error(run("run", good, "--input", f"x={self.path('shape.npy')}"),
                                "has shape [3,2], the model's input is [2,3]")
        self.assert_clean_error(run("run", good, "--input", f"q={self.path('shape.npy')}"),
                                "--input q: the model has no input 'q' (inputs: x)")

    def test_compile_then_run_the_program(self):
        good = self.relu_model()
        scp = self.path("good.scp")
        out = self.assert_ok(run("compile", good, "-o", scp, "--dump-ir", "fold"))
        self.assertIn("ops: 1 (1 chip)", out)
        self.assertIn("relu", self.assert_ok(run("disasm", scp)))
        x = np.array([[-1, 2, -3], [4, -5, 6]], np.float32)
        np.save(self.path("x.npy"), x)
        self.assert_ok(run("run", scp, "--input", f"x={self.path('x.npy')}", "--output-dir", self.tmp))
        np.testing.assert_array_equal(np.load(self.path("y.npy")), np.maximum(x, 0))
        self.assert_clean_error(run("run", self.asm("softmax")), "program carries no model description")


class ShapeInference(CliCase):
    """Shapes ONNX 1.12 leaves open but seedchip completes (torch exports)."""

    def save(self, name, g):
        from onnx import helper
        p = self.path(name + ".onnx")
        with open(p, "wb") as f:
            f.write(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
        return p

    def test_einsum_output_shape(self):
        from onnx import helper, TensorProto
        vi = lambda n, sh: helper.make_tensor_value_info(n, TensorProto.FLOAT, sh)
        g = helper.make_graph([helper.make_node("Einsum", ["a", "b"], ["y"], equation="bhid,bhjd->bhij")], "e",
                              [vi("a", [2, 3, 4, 8]), vi("b", [2, 3, 5, 8])], [vi("y", ["o0", "o1", "o2", "o3"])])
        p = self.save("einsum", g)
        rng = np.random.default_rng(5)
        a, b = rng.standard_normal((2, 3, 4, 8), np.float32), rng.standard_normal((2, 3, 5, 8), np.float32)
        np.save(self.path("a.npy"), a)
        np.save(self.path("b.npy"), b)
        self.assert_ok(run("run", p, "--input", f"a={self.path('a.npy')}", "--input", f"b={self.path('b.npy')}",
                           "--output-dir", self.tmp))
        np.testing.assert_allclose(np.load(self.path("y.npy")), np.einsum("bhid,bhjd->bhij", a, b), rtol=1e-5, atol=1e-5)

    def test_pads_computed_by_transpose(self):
        # torch exports F.pad's amounts through Constant -> Transpose -> Reshape chains
        from onnx import helper, TensorProto, numpy_helper
        vi = lambda n, sh: helper.make_tensor_value_info(n, TensorProto.FLOAT, sh)
        c = numpy_helper.from_array(np.array([[0, 0], [0, 0], [1, 3], [2, 1]], np.int64), "c")
        shp = numpy_helper.from_array(np.array([-1], np.int64), "shp")
        g = helper.make_graph([helper.make_node("Transpose", ["c"], ["ct"], perm=[1, 0]),
                               helper.make_node("Reshape", ["ct", "shp"], ["pads"]),
                               helper.make_node("Pad", ["x", "pads"], ["y"], mode="reflect")],
                              "p", [vi("x", [1, 1, 4, 4])], [vi("y", ["a", "b", "c", "d"])], [c, shp])
        p = self.save("pad", g)
        x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
        np.save(self.path("x.npy"), x)
        self.assert_ok(run("run", p, "--input", f"x={self.path('x.npy')}", "--output-dir", self.tmp))
        # pads [0,0,1,2, 0,0,3,1] (begins, ends) -> H: 1 before, 3 after; W: 2 before, 1 after
        np.testing.assert_array_equal(np.load(self.path("y.npy")), np.pad(x, ((0, 0), (0, 0), (1, 3), (2, 1)), mode="reflect"))


class Timing(CliCase):
    def test_metrics_and_trace(self):
        import json
        from onnx import helper, TensorProto
        vi = lambda n, sh: helper.make_tensor_value_info(n, TensorProto.FLOAT, sh)
        w = helper.make_tensor("w", TensorProto.FLOAT, [64, 32], [0.01 * i for i in range(64 * 32)])
        g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["h"], name="mm"),
                               helper.make_node("Relu", ["h"], ["y"], name="relu")],
                              "t", [vi("x", [16, 64])], [vi("y", [16, 32])], [w])
        p = self.path("t.onnx")
        with open(p, "wb") as f:
            f.write(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
        runs = []
        for k in range(2):
            m, t = self.path(f"m{k}.json"), self.path(f"t{k}.json")
            out = self.assert_ok(run("run", p, "--mode", "both", "--metrics", m, "--trace", t, "--output-dir", self.tmp))
            self.assertIn("both models executed the same instruction streams", out)
            self.assertIn("top nodes by time", out)
            runs.append((slurp(m), slurp(t)))
        self.assertEqual(runs[0], runs[1])  # byte-identical across runs
        metrics = json.loads(runs[0][0])
        for key in ["cycles", "seconds", "engines", "bytes", "achieved_ops_per_s", "achieved_hbm_bytes_per_s",
                    "energy_j", "nodes", "roofline"]:
            self.assertIn(key, metrics)
        self.assertGreater(metrics["cycles"], 0)
        self.assertEqual({"busy", "stalled", "idle", "instructions", "utilization"},
                         set(metrics["engines"][0]["matrix"]))
        self.assertIn("hbm_read", metrics["bytes"])
        names = {n["node"] for n in metrics["nodes"]}
        self.assertTrue(any("mm" in n for n in names), names)
        trace = json.loads(runs[0][1])
        events = trace["traceEvents"]
        self.assertTrue(any(e.get("ph") == "X" and e.get("tid") == 2 for e in events))  # a matrix-engine slice
        self.assertTrue(any(e.get("ph") == "C" for e in events))  # the HBM counter
        # timing-only: no values, same cycles
        out = self.assert_ok(run("run", p, "--mode", "timing", "--metrics", self.path("m3.json")))
        self.assertEqual(json.loads(slurp(self.path("m3.json")))["cycles"], metrics["cycles"])
        # the command-level HBM model gives a comparable time
        self.assert_ok(run("run", p, "--mode", "timing", "--hbm", "detailed", "--metrics", self.path("m4.json")))
        detailed = json.loads(slurp(self.path("m4.json")))["cycles"]
        self.assertLess(abs(detailed - metrics["cycles"]) / metrics["cycles"], 0.5)

    def test_bad_timing_input(self):
        from onnx import helper, TensorProto
        vi = lambda n, sh: helper.make_tensor_value_info(n, TensorProto.FLOAT, sh)
        g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "t", [vi("x", [4])], [vi("y", [4])])
        p = self.path("r.onnx")
        with open(p, "wb") as f:
            f.write(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
        self.assert_clean_error(run("run", p, "--mode", "timing", "--trace", self.path("no/such/dir/t.json")),
                                "cannot be written")
        self.assert_clean_error(run("run", p, "--mode", "fast"), "--mode 'fast'")
        self.assert_clean_error(run("run", p, "--trace", self.path("t.json")), "--metrics and --trace need --mode timing")
        chip = slurp(os.path.join(SRC, "chips", "tpu-v1.yaml"))
        bad = self.path("bad.yaml")
        with open(bad, "w") as f:
            f.write(chip.replace("port_bytes_per_cycle: 64", "port_bytes_per_cycle: 0"))
        self.assert_clean_error(run("run", p, "--mode", "timing", "--chip", bad), "port_bytes_per_cycle")
        with open(bad, "w") as f:
            f.write(chip.replace("rows: 256", "rows: 0"))
        self.assert_clean_error(run("chip", "show", bad), "core.matrix.rows")

    def write_safetensors(self, path, tensors):
        """Writes a safetensors file per the format's spec: u64 LE header length, JSON, raw data."""
        header, data = {}, b""
        for name, shape in tensors:
            n = 1
            for d in shape:
                n *= d
            header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [len(data), len(data) + 4 * n]}
            data += struct.pack("<%df" % n, *[0.01 * (i % 7) for i in range(n)])
        h = json.dumps(header).encode()
        with open(path, "wb") as f:
            f.write(struct.pack("<Q", len(h)) + h + data)

    def test_validate_reports_rows_and_refuses_bad_files(self):
        # the MLPerf serving rows serve whole datasets (ctest llm_validate runs them,
        # labelled slow); here the fixed-batch rows, which stay fast under the sanitizers
        rows = [l for l in slurp(os.path.join(SRC, "reference/calibration.csv")).splitlines() if "MLPerf" not in l]
        r = run("validate", "--json", "--csv", self.write("fixed.csv", "\n".join(rows) + "\n"), timeout=300)
        self.assert_ok(r)
        out = json.loads(r.stdout)
        predicted = [row for row in out["rows"] if row["expressible"]]
        self.assertGreaterEqual(len(predicted), 10)
        for row in predicted:
            self.assertAlmostEqual(row["error"], (row["predicted"] - row["measured"]) / row["measured"], places=9)
            self.assertIn("seedchip", row["command"])
        self.assertTrue(all(row["why_not"] for row in out["rows"] if not row["expressible"]))
        self.assertLessEqual(out["mean_abs_error"], 0.15)
        # in sample and leave one out: the calibrated parameter, the rows it is fitted on, and their refitted errors
        cal = out["calibrated_parameters"][0]
        self.assertEqual(cal["name"], "timing.kernel_launch_ns")
        self.assertEqual(cal["chosen"], cal["chip_files"])  # the chip files carry the fit
        fitted = [row for row in predicted if row["fitted_on"]]
        self.assertEqual(sorted(row["id"] for row in fitted), sorted(cal["fitted_on"]))
        self.assertGreaterEqual(len(fitted), 5)
        for row in predicted:
            self.assertAlmostEqual(row["loo_error"], (row["loo_predicted"] - row["measured"]) / row["measured"], places=9)
            if not row["fitted_on"]:
                self.assertEqual(row["loo_error"], row["error"])  # nothing fitted on it: the same prediction
        self.assertAlmostEqual(out["loo_mean_abs_error"], sum(abs(r["loo_error"]) for r in predicted) / len(predicted), places=9)
        self.assertGreaterEqual(out["loo_mean_abs_error"], out["mean_abs_error"])  # the fit can only lose out of sample
        csv = self.path("cal.csv")
        with open(csv, "w") as f:
            f.write("id,hardware,software,workload,metric,value,unit,source\n"
                    "X1,1x H100 SXM,TensorRT-LLM fp8,Llama-7B batch 1 prompt 128,first-token latency,fast,ms,s\n")
        self.assert_clean_error(run("validate", "--csv", csv), "cal.csv:2: field 'value' is 'fast'")
        self.assert_clean_error(run("validate", "--csv", self.path("missing.csv")), "missing.csv")
        # a row predicted 10x off fails --check
        with open(csv, "w") as f:
            f.write("id,hardware,software,workload,metric,value,unit,source\n"
                    "X1,1x H100 SXM,TensorRT-LLM fp8,Llama-7B batch 1 prompt 128,first-token latency,70,ms,s\n")
        self.assertEqual(run("validate", "--csv", csv, "--check").returncode, 1)
        self.assert_ok(run("validate", "--csv", csv))

    def test_llm_tensor_parallel_errors(self):
        self.assert_clean_error(run("llm", "--model", "llama-2-7b", "--chip", "tpu-v1", "--chips", "2"),
                                "no chip-to-chip links")
        self.assert_clean_error(run("llm", "--model", "llama-2-7b", "--chips", "16"), "at most 8 chips")
        self.assert_clean_error(run("llm", "--model", "llama-2-70b", "--chips", "3"), "64 heads")
        self.assert_clean_error(run("llm", "--model", "llama-2-7b", "--chip", "nvidia-a100-sxm", "--precision", "fp8"),
                                "no fp8 matrix support")
        self.assert_clean_error(run("llm", "--model", "llama-2-7b", "--precision", "w3a16"), "w4a16")
        self.assert_clean_error(run("llm", "--model", "llama-2-7b", "--mode", "fast"), "--mode 'fast'")
        self.assert_clean_error(run("llm", "--model", "llama-2-7b", "--kv-page", "1000"), "--kv-page 1000")
        self.assert_clean_error(run("llm", "--model", "llama-2-7b", "--mode", "functional", "--prompt-ids", "1"),
                                "needs --weights")
        self.assert_clean_error(run("llm", "--model", "no-such-model"), "llama-2-7b")

    def test_llm_flags_checked_in_every_mode(self):
        """Out-of-range numbers, lengths past the context and options the mode
        does not read: each one line and exit 1 (issue 15)."""
        m = ("llm", "--model", "llama-2-7b")
        self.assert_clean_error(run(*m, "--batch", "1e12"), "--batch")
        self.assert_clean_error(run(*m, "--batch", "99999999999999999999"), "--batch")
        self.assert_clean_error(run(*m, "--batch", "0"), "must be positive")
        self.assert_clean_error(run(*m, "--prompt-len", "100000"), "context of 4096")
        self.assert_clean_error(run(*m, "--gen-len", "9223372036854775807"), "context of 4096")
        self.assert_clean_error(run(*m, "--generate", "5"), "--generate: not used with --mode timing")
        self.assert_clean_error(run(*m, "--mode", "functional", "--batch", "4"), "--batch: not used with --mode functional")
        self.assert_clean_error(run(*m, "--mode", "both", "--prompt-len", "4"), "--prompt-len: not used with --mode both")
        self.assert_clean_error(run(*m, "--no-such-flag"), "--no-such-flag")
        self.assert_clean_error(run("llm"), "--model is required")
        r = run("llm", "--model", "llama-2-70b", "--chips", "8", "--batch", "64", "--prompt-len", "2048",
                "--precision", "fp8", "--json", timeout=120)
        self.assert_ok(r)
        self.assertEqual(json.loads(r.stdout)["chips"], 8)

    def test_serve_flags_checked_in_every_scenario(self):
        """Numbers that are not positive and options the scenario does not read
        are refused, not taken as 'use the default' or ignored (issue 15)."""
        m = ("serve", "--model", "llama-3-8b", "--requests", "4")
        for flag in ("--rate", "--ttft-slo", "--tpot-slo", "--chips", "--max-num-seqs", "--max-batched-tokens"):
            self.assert_clean_error(run(*m, "--scenario", "server", flag, "-1"), flag)
        self.assert_clean_error(run(*m, "--scenario", "server", "--max-num-seqs", "0"), "--max-num-seqs")
        self.assert_clean_error(run(*m, "--scenario", "server", "--rate", "nan"), "--rate")
        self.assert_clean_error(run(*m, "--scenario", "server", "--ttft-slo", "inf"), "--ttft-slo inf: must be a positive number")
        self.assert_clean_error(run(*m, "--rate", "5"), "--rate applies to --scenario server only (this run is --scenario offline)")
        self.assert_clean_error(run(*m, "--arrival", "fixed"), "--arrival applies to --scenario server only")

    def test_llm_weights_checked_against_config(self):
        cfg = {"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
               "num_key_value_heads": 2, "intermediate_size": 128, "vocab_size": 100}
        cfg_path = self.path("config.json")
        with open(cfg_path, "w") as fh:
            json.dump(cfg, fh)
        h, kv, f, v = 64, 32, 128, 100
        tensors = [("model.embed_tokens.weight", [v, h]), ("model.norm.weight", [h]), ("lm_head.weight", [v, h])]
        for i in range(2):
            l = "model.layers.%d." % i
            tensors += [(l + "input_layernorm.weight", [h]), (l + "post_attention_layernorm.weight", [h]),
                        (l + "self_attn.q_proj.weight", [h, h]), (l + "self_attn.k_proj.weight", [kv, h]),
                        (l + "self_attn.v_proj.weight", [kv, h]), (l + "self_attn.o_proj.weight", [h, h]),
                        (l + "mlp.gate_proj.weight", [f, h]), (l + "mlp.up_proj.weight", [f, h]),
                        (l + "mlp.down_proj.weight", [h, f])]
        st = self.path("model.safetensors")
        self.write_safetensors(st, tensors)
        r = run("llm", "--model", cfg_path, "--weights", st, "--prompt-len", "16", "--gen-len", "4", "--json")
        self.assert_ok(r)
        params = sum(math.prod(s) for _, s in tensors)
        self.assertIn("%d parameters match" % params, r.stderr)
        self.assertGreater(json.loads(r.stdout)["ttft_s"], 0)
        # Truncated file, a tensor of the wrong shape, a missing tensor.
        with open(st, "rb") as fh:
            whole = fh.read()
        with open(st, "wb") as fh:
            fh.write(whole[:-100])
        self.assert_clean_error(run("llm", "--model", cfg_path, "--weights", st), "truncated")
        bad = [(n, [kv, h] if n.endswith("q_proj.weight") else s) for n, s in tensors]
        self.write_safetensors(st, bad)
        self.assert_clean_error(run("llm", "--model", cfg_path, "--weights", st),
                                "tensor 'model.layers.0.self_attn.q_proj.weight' has shape [32, 64]")
        self.write_safetensors(st, tensors[1:])
        self.assert_clean_error(run("llm", "--model", cfg_path, "--weights", st),
                                "no tensor named 'model.embed_tokens.weight'")

    def test_chip_cost_and_tco(self):
        names = [l.split()[0] for l in self.assert_ok(run("chip", "list")).splitlines()]
        for n in names:  # every built-in chip can be costed, with every figure's source
            j = json.loads(self.assert_ok(run("chip", "cost", n, "--json")))
            for k in ("node", "die_area_mm2", "area_breakdown_mm2", "dies_per_wafer", "yield", "good_die_cost_usd",
                      "hbm_cost_usd", "package_cost_usd", "test_cost_usd", "nre_per_unit_usd", "unit_cost_usd", "tdp_w",
                      "assumptions"):
                self.assertIn(k, j, n)
            self.assertAlmostEqual(sum(j["area_breakdown_mm2"].values()), j["die_area_mm2"], delta=1e-6 * j["die_area_mm2"])
            for k, v in j["assumptions"].items():
                self.assertTrue(v["source"], k)
        v1 = json.loads(run("chip", "cost", "seedchip-v1", "--json").stdout)
        self.assertEqual(v1["node"], "samsung-sf4x")
        # more units: less NRE per unit; an override shows in the figures and names itself as the source
        v1m = json.loads(run("chip", "cost", "seedchip-v1", "--json", "--units", "1000000").stdout)
        self.assertLess(v1m["unit_cost_usd"], v1["unit_cost_usd"])
        o = json.loads(run("chip", "cost", "seedchip-v1", "--json", "--set", "hbm3e_usd_per_gb=20").stdout)
        self.assertGreater(o["hbm_cost_usd"], v1["hbm_cost_usd"])
        self.assertIn("--set", o["assumptions"]["hbm3e_usd_per_gb"]["source"])
        f = self.write("over.yaml", "wafer_usd: 20000\n")
        self.assertEqual(json.loads(run("chip", "cost", "seedchip-v1", "--json", "--assumptions", f).stdout)
                         ["assumptions"]["wafer_usd"]["value"], 20000)
        self.assertIn("sensitivity of the unit cost", self.assert_ok(run("chip", "cost", "seedchip-v1", "--sensitivity")))
        self.assertIn("calibration", self.assert_ok(run("chip", "cost", "--calibration")))
        self.assertIn("die area (model)", self.assert_ok(run("chip", "show", "seedchip-v1")))
        # bad input
        self.assert_clean_error(run("chip", "cost", "seedchip-v1", "--node", "tsmc-n9"), "--node: unknown process node 'tsmc-n9'")
        self.assert_clean_error(run("chip", "cost", "seedchip-v1", "--units", "0"), "--units 0: must be at least 1")
        self.assert_clean_error(run("chip", "cost", "seedchip-v1", "--set", "wafer_usd=-1"), "must be a finite number >= 0")
        self.assert_clean_error(run("chip", "cost", "seedchip-v1", "--set", "wafers=1"), "unknown parameter 'wafers'")
        big = self.write("big.yaml", slurp(os.path.join(SRC, "chips", "seedchip-v1.yaml")).replace("cores: 8 ", "cores: 40 "))
        self.assert_clean_error(run("chip", "cost", big), "over the 858 mm2 reticle")
        bad_node = self.write("badnode.yaml", slurp(os.path.join(SRC, "chips", "seedchip-v1.yaml")).replace(
            "node: samsung-sf4x", "node: sf1"))
        self.assert_clean_error(run("chip", "cost", bad_node), "process.node: unknown process node 'sf1'")
        # tco from a serving run, and serve's own cost keys
        sj = run("serve", "--model", "gpt2", "--max-batched-tokens", "256", "--max-num-seqs", "16", "--dataset", "fixed:64:16",
                 "--requests", "20", "--json")
        self.assert_ok(sj)
        served = json.loads(sj.stdout)
        for k in ("usd_per_million_tokens", "tokens_per_joule", "tokens_per_s_per_usd"):
            self.assertGreater(served[k], 0)
        sp = self.write("serve.json", sj.stdout)
        t = json.loads(self.assert_ok(run("tco", "--chip", "seedchip-v1", "--serve-json", sp, "--json")))
        self.assertAlmostEqual(t["usd_per_million_tokens"], served["usd_per_million_tokens"], delta=1e-9 * served["usd_per_million_tokens"])
        self.assertAlmostEqual(t["per_chip_year_usd"], t["capex_per_year_usd"] + t["facility_per_year_usd"] + t["energy_per_year_usd"],
                               delta=1e-6)
        m = json.loads(self.assert_ok(run("tco", "--chip", "seedchip-v1", "--model", "gpt2", "--dataset", "fixed:64:16",
                                          "--requests", "20", "--json")))
        self.assertGreater(m["usd_per_million_tokens"], 0)  # tco runs serve itself
        h = json.loads(self.assert_ok(run("tco", "--chip", "nvidia-h200-sxm", "--tokens-per-s", "3000", "--json")))
        self.assertEqual(h["price_usd"], 32000)  # a bought part at its market price
        self.assert_clean_error(run("tco", "--chip", "nvidia-h200-sxm", "--serve-json", sp), "a run on 'seedchip-v1'")
        self.assert_clean_error(run("tco", "--chip", "seedchip-v1"), "needs a throughput")
        self.assert_clean_error(run("tco", "--chip", "seedchip-v1", "--serve-json", self.path("none.json")), "cannot be read")
        self.assert_clean_error(run("tco", "--chip", "seedchip-v1", "--serve-json", self.write("bad.json", "{")), "not JSON")
        self.assert_clean_error(run("tco", "--chip", "seedchip-v1", "--serve-json", self.write("part.json", '{"chips": 1}')),
                                "field 'output_tokens_per_s_per_chip' is missing")
        self.assert_clean_error(run("chip", "cost", "seedchip-v1", "--assumptions", self.write("bad.yaml", "wafer_usd: lots\n")),
                                "wafer_usd: expected a number")
        self.assert_clean_error(run("chip", "cost", "seedchip-v1", "--yield-model", "gauss"), "--yield-model 'gauss'")
        self.assert_clean_error(run("chip", "cost", "no-such-chip"), "no-such-chip")
        self.assert_clean_error(run("serve", "--model", "gpt2", "--expert-parallel", "--dataset", "fixed:64:16", "--requests", "4"),
                                "--expert-parallel: gpt2 is not a mixture of experts")

    def test_serve(self):
        base = ("serve", "--model", "gpt2", "--max-batched-tokens", "256", "--max-num-seqs", "16")
        reqs, trace = self.path("reqs.csv"), self.path("trace.json")
        r = run(*base, "--dataset", "fixed:64:16", "--requests", "20", "--json", "--requests-out", reqs, "--trace", trace)
        self.assert_ok(r)
        j = json.loads(r.stdout)
        for k in ("output_tokens_per_s", "output_tokens_per_s_per_chip", "requests_per_s", "rate_qps", "ttft_s", "tpot_s",
                  "e2e_s", "queue_s", "slo_attainment", "preemptions", "kv_blocks_total", "kv_peak_utilization", "steps",
                  "simulated_s"):
            self.assertIn(k, j)
        for k in ("mean", "p50", "p90", "p99"):
            self.assertIn(k, j["ttft_s"])
        self.assertEqual(j["output_tokens"], 20 * 16)
        lines = slurp(reqs).splitlines()
        self.assertEqual(len(lines), 21)
        self.assertTrue(lines[0].startswith("id,replica,arrival_s"))
        events = json.loads(slurp(trace))["traceEvents"]
        self.assertEqual(sum(1 for e in events if e.get("ph") == "X"), j["steps"])
        self.assertEqual(sum(1 for e in events if e.get("ph") == "b"), 20)
        # same seed, same output, bit for bit
        self.assertEqual(run(*base, "--dataset", "fixed:64:16", "--requests", "20", "--json").stdout, r.stdout)
        # a trace replayed; the server scenario at a fixed rate
        t = self.write("t.csv", "arrived_at,num_prefill_tokens,num_decode_tokens\n0,30,5\n0.01,40,6\n0.5,20,3\n")
        rt = run(*base, "--scenario", "trace", "--dataset", t, "--json")
        self.assert_ok(rt)
        self.assertEqual(json.loads(rt.stdout)["output_tokens"], 14)
        rs = run(*base, "--scenario", "server", "--dataset", "fixed:64:16", "--requests", "50", "--rate", "5", "--json")
        self.assert_ok(rs)
        self.assertEqual(json.loads(rs.stdout)["rate_qps"], 5)
        # bad input: one line naming the file, line or flag, exit 1
        h = "arrived_at,num_prefill_tokens,num_decode_tokens\n"
        for name, text, msg in (("nan.csv", h + "0,x,5\n", "nan.csv:2: num_prefill_tokens 'x' is not a number"),
                                ("neg.csv", h + "0,5,-1\n", "neg.csv:2: num_decode_tokens -1"),
                                ("order.csv", h + "2,5,1\n1,5,1\n", "order.csv:3: arrived_at 1 is before"),
                                ("empty.csv", "", "empty trace"),
                                ("long.csv", h + "0,1000,100\n", "exceed gpt2's context of 1024")):
            self.assert_clean_error(run(*base, "--scenario", "trace", "--dataset", self.write(name, text)), msg)
        self.assert_clean_error(run(*base, "--scenario", "server", "--rate", "0", "--dataset", "fixed:8:8"), "--rate 0")
        self.assert_clean_error(run(*base, "--tp", "5"), "5 tensor-parallel chips (--chips/--tp)")
        self.assert_clean_error(run("serve", "--model", "llama-2-70b", "--chip", "nvidia-h100-sxm", "--precision", "bf16"),
                                "leaving no room for a KV block")
        self.assert_clean_error(run(*base, "--dataset", "nope"), "--dataset 'nope'")
        self.assert_clean_error(run(*base, "--arrival", "weibull", "--scenario", "server", "--rate", "1"), "--arrival 'weibull'")
        # SLOs no rate meets: said so, with the best attainment found
        r = run(*base, "--scenario", "server", "--dataset", "fixed:64:16", "--requests", "30", "--ttft-slo", "1e-7",
                "--tpot-slo", "1e-7")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no rate met", r.stderr)
        self.assertIn("best attainment", r.stderr)

class TimingOnlyImport(CliCase):
    """--mode timing imports and compiles weights by size: same program and cycles as a full compile."""

    def model(self):
        from onnx import helper, numpy_helper, TensorProto
        rng = np.random.default_rng(3)
        w = lambda shape, n: numpy_helper.from_array((rng.standard_normal(shape) * 0.1).astype(np.float32), n)
        nodes = [helper.make_node("Conv", ["x", "cw", "cb"], ["c"], pads=[1, 1, 1, 1], name="conv"),
                 helper.make_node("Relu", ["c"], ["r"], name="relu"),
                 helper.make_node("Flatten", ["r"], ["f"], name="flat"),
                 helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], transB=1, name="fc")]
        # cw and fw are over 64 KiB: the timing-only import skips their bytes
        g = helper.make_graph(nodes, "m", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
                              [w((64, 64, 3, 3), "cw"), w((64,), "cb"), w((10, 4096), "fw"), w((10,), "fb")])
        p = self.path("m.onnx")
        with open(p, "wb") as f:
            f.write(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString())
        return p

    def test_same_cycles_as_the_full_compile(self):
        m = self.model()
        for prec in ("fp32", "bf16", "int8", "fp8"):
            prog = self.path(f"m-{prec}.scp")
            self.assert_ok(run("compile", m, "-o", prog, "--precision", prec))
            full = self.assert_ok(run("run", prog, "--mode", "timing"))
            lean = self.assert_ok(run("run", m, "--mode", "timing", "--precision", prec))
            line = lambda out, key: next(l for l in out.splitlines() if l.startswith(key))
            self.assertEqual(line(lean, "time:"), line(full, "time:"), prec)
            self.assertEqual(line(lean, "program:"), line(full, "program:"), prec)

    def test_bench_reports_both_modes(self):
        out = self.assert_ok(run("bench", "sim", "--model", self.model(), "--ort", self.path("no_modules"), "--runs", "2",
                                 timeout=300))
        self.assertIn("timing mode: import + compile + timing", out)
        self.assertRegex(out, r"functional mode: import \+ compile [0-9.]+ s; simulation [0-9.]+ s on 1 thread")
        self.assertIn("ONNX Runtime: not measured: onnxruntime-node not found in " + self.path("no_modules"), out)
        self.assert_clean_error(run("bench", "sim", "--model", self.model(), "--runs", "0"), "--runs")


class ExploreBadInput(CliCase):
    """Sweep files that cannot run end with one error line naming the file and key (no design is served)."""

    BASE = "base: seedchip-v1\nworkloads: [{model: llama-2-7b, chips: 1, tp: 1}]\n"

    def check(self, text, contains):
        f = self.write("s.yaml", text)
        self.assert_clean_error(run("explore", f), contains)
        return f

    def test_bad_sweeps(self):
        self.check(self.BASE + "parameters: {coers: [4, 8]}\n", "parameters.coers: not a chip description key (did you mean 'cores'?)")
        self.check(self.BASE + "parameters: {memory.device: [4]}\n", "did you mean 'memory.devices'?")
        self.check(self.BASE + "parameters: {}\n", "an empty sweep")
        self.check("base: seedchip-v1\nparameters: {cores: [8]}\nworkloads: [{model: nomodel}]\n", "workloads[0].model: model 'nomodel'")
        self.check(self.BASE, "an empty sweep")
        self.check("", "an empty sweep file")
        self.check(self.BASE + "parameters: {cores: {from: 8, to: 2}}\n", "parameters.cores: to 2 is below from 8")
        self.check(self.BASE + "parameters: {cores: [8]}\nconstraint: {}\n", "constraint: unknown key (did you mean 'constraints'?)")
        self.check(self.BASE + "parameters: {cores: [8]}\nderived: {memory.capacity_gib: '36 * memory.stacks'}\n", "'memory.stacks' is not a numeric key of the design")
        # no valid design: every point over the area limit
        self.check(self.BASE + "parameters: {cores: [8, 16]}\nconstraints: {die_area_mm2: {max: 50}}\n",
                   "no valid design among the 2 points (first reason: constraint die_area_mm2")
        f = self.write("ok.yaml", self.BASE + "parameters: {cores: [8]}\n")
        self.assert_clean_error(run("explore", f, "--jobs", "0"), "--jobs 0: must be at least 1")
        self.assert_clean_error(run("explore", self.path("missing.yaml")), "cannot read sweep file")
        # a database of another sweep is refused, not mixed
        db = self.path("r.sqlite")
        self.assert_ok(run("explore", self.write("one.yaml", self.BASE + "parameters: {cores: [8]}\nconstraints: {die_area_mm2: {max: 50}}\n"),
                           "--db", db, "--max-points", "0"))
        self.assert_clean_error(run("explore", f, "--db", db), "holds the results of another sweep")

    def test_plan_bad_input(self):
        fleet = os.path.join(EXAMPLES, "fleet", "seed-2026.yaml")
        text = slurp(fleet)
        self.assert_clean_error(run("plan", self.write("neg.yaml", text.replace("tokens_per_s: 250e6", "tokens_per_s: -250e6"))),
                                "demand.chat.tokens_per_s: must be >= 0")
        self.assert_clean_error(run("plan", self.write("negb.yaml", text.replace("capex_usd: 11e9", "capex_usd: -1"))),
                                "budget.capex_usd")
        self.assert_clean_error(run("plan", self.write("typo.yaml", text.replace("objective:", "objectiv:"))), "objectiv")
        self.assert_clean_error(run("plan", self.path("none.yaml")), "none.yaml")

    def test_bad_analyze(self):
        self.assert_clean_error(run("analyze", "--chip", "nochip"), "unknown chip 'nochip'")
        self.assert_clean_error(run("analyze", "--baseline", "nochip.yaml"), "nochip.yaml")
        self.assert_clean_error(run("analyze", "--requests", "3"), "--requests 3")
        self.assert_clean_error(run("analyze", "--model", "nomodel"), "nomodel")


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
