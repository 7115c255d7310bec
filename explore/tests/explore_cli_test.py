#!/usr/bin/python3
"""End-to-end tests of `seedchip explore` (slow: they serve every design).

The example sweep gives the same rows in 1 and 2 threads and under
`mpirun -np 2`; a sweep stopped part way (--max-points, or killed) resumes
to the same rows; the database is queryable with Python's sqlite3.

Usage: explore_cli_test.py SEEDCHIP_BINARY SOURCE_DIR
"""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

SEEDCHIP = os.path.abspath(sys.argv[1])
SRC = os.path.abspath(sys.argv[2])
QUICK = os.path.join(SRC, "examples", "sweeps", "quick.yaml")


def explore(*args, timeout=600, prefix=()):
    return subprocess.run([*prefix, SEEDCHIP, "explore", *map(str, args)], capture_output=True, text=True, timeout=timeout)


def rows_of(stdout):
    j = json.loads(stdout)
    return j["rows"], j["pareto"]


class Explore(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.TemporaryDirectory()
        cls.tmp = cls._tmp.name
        r = explore(QUICK, "--json", "--db", os.path.join(cls.tmp, "one.sqlite"))
        assert r.returncode == 0, r.stderr
        cls.rows, cls.pareto = rows_of(r.stdout)

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    def test_rows_are_complete_and_sane(self):
        designs = [r for r in self.rows if not r["baseline"]]
        base = [r for r in self.rows if r["baseline"]]
        self.assertEqual(len(designs), 8)
        self.assertEqual([b["name"] for b in base], ["nvidia-h200-sxm"])
        for r in self.rows:
            self.assertEqual(r["status"], "ok", r)
            self.assertGreater(r["served_tokens_per_s_per_chip"], 0)
            self.assertLessEqual(r["ttft_p99_s"], 1.0)
            self.assertLessEqual(r["tpot_p99_s"], 0.05)
            # the figures agree with each other
            self.assertAlmostEqual(r["tokens_per_s_per_usd"], r["served_tokens_per_s_per_chip"] / r["price_usd"], delta=1e-9 * r["tokens_per_s_per_usd"])
            self.assertAlmostEqual(r["tokens_per_joule"], r["served_tokens_per_s_per_chip"] / r["avg_power_w"], delta=1e-9 * r["tokens_per_joule"])
        # more HBM stacks (bandwidth) serve more at the same cores and load width
        by = {(r["parameters"]["cores"], r["parameters"]["memory.devices"], r["parameters"]["timing.matrix.weight_rows_per_cycle"]): r for r in designs}
        for c in (4, 8):
            for w in (1, 8):
                self.assertGreater(by[(c, 4, w)]["served_tokens_per_s_per_chip"], by[(c, 2, w)]["served_tokens_per_s_per_chip"])
                self.assertGreater(by[(c, 4, w)]["hbm_tb_s"], by[(c, 2, w)]["hbm_tb_s"])
        # the Pareto front is non-empty and non-dominated
        front = self.pareto["7b-chat"]
        self.assertTrue(front)
        objs = [("tokens_per_s_per_usd", 1), ("tokens_per_joule", 1), ("tokens_per_s_per_mm2", 1), ("usd_per_million_tokens", -1)]
        for p in front:
            a = next(r for r in designs if r["point"] == p)
            for b in designs:
                better = all(s * b[k] >= s * a[k] for k, s in objs) and any(s * b[k] > s * a[k] for k, s in objs)
                self.assertFalse(better, f"{b['name']} dominates front member {a['name']}")

    def test_threads_give_the_same_rows(self):
        r = explore(QUICK, "--json", "--jobs", "2")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(rows_of(r.stdout), (self.rows, self.pareto))

    @unittest.skipUnless(shutil.which("mpirun"), "OpenMPI's mpirun is not installed (scripts/setup.sh installs it)")
    def test_mpi_gives_the_same_rows(self):
        db = os.path.join(self.tmp, "mpi.sqlite")
        r = explore(QUICK, "--json", "--mpi", "--db", db,
                    prefix=("mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "2"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(rows_of(r.stdout), (self.rows, self.pareto))
        # the file holds every row once
        with sqlite3.connect(db) as c:
            self.assertEqual(c.execute("select count(*) from results").fetchone()[0], 9)

    def test_stopped_sweep_resumes_to_the_same_rows(self):
        db = os.path.join(self.tmp, "resume.sqlite")
        r = explore(QUICK, "--json", "--db", db, "--max-points", "3")
        self.assertEqual(r.returncode, 0, r.stderr)
        j = json.loads(r.stdout)
        self.assertFalse(j["complete"])
        self.assertEqual(j["evaluated"], 3)
        r = explore(QUICK, "--json", "--db", db)
        self.assertEqual(r.returncode, 0, r.stderr)
        j = json.loads(r.stdout)
        self.assertTrue(j["complete"])
        self.assertEqual(j["resumed"], 3)
        self.assertEqual((j["rows"], j["pareto"]), (self.rows, self.pareto))

    def test_killed_sweep_leaves_a_consistent_resumable_file(self):
        db = os.path.join(self.tmp, "killed.sqlite")
        p = subprocess.Popen([SEEDCHIP, "explore", QUICK, "--db", db], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # kill it once a point is in the file (or after a while)
        deadline = time.time() + 120
        while time.time() < deadline and p.poll() is None:
            try:
                with sqlite3.connect(db, timeout=5) as c:
                    if c.execute("select count(*) from results").fetchone()[0] >= 2:
                        break
            except sqlite3.Error:
                pass
            time.sleep(0.05)
        p.send_signal(signal.SIGKILL)
        p.wait()
        with sqlite3.connect(db) as c:
            self.assertEqual(c.execute("pragma integrity_check").fetchone()[0], "ok")
        r = explore(QUICK, "--json", "--db", db)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(rows_of(r.stdout), (self.rows, self.pareto))

    def test_database_is_queryable(self):
        with sqlite3.connect(os.path.join(self.tmp, "one.sqlite")) as c:
            rows = c.execute('select name, "param:cores", served_tokens_per_s_per_chip from results where status = \'ok\' '
                             'order by served_tokens_per_s_per_chip desc').fetchall()
            self.assertEqual(len(rows), 9)
            front = c.execute("select point from pareto where workload = '7b-chat' order by point").fetchall()
            self.assertEqual([p for (p,) in front], sorted(self.pareto["7b-chat"]))

    def test_text_summary(self):
        r = explore(QUICK, "--db", os.path.join(self.tmp, "one.sqlite"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("8 design points and 1 baselines; 0 evaluated now, 9 from the database", r.stdout)
        self.assertIn("nvidia-h200-sxm", r.stdout)


class Plan(unittest.TestCase):
    """The fleet example solves, meets its own constraints by recomputation, and its infeasible variant names the conflict."""

    def test_example_and_infeasible_variant(self):
        fleet = os.path.join(SRC, "examples", "fleet", "seed-2026.yaml")
        r = subprocess.run([SEEDCHIP, "plan", fleet, "--json", "--check"], capture_output=True, text=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        j = json.loads(r.stdout)
        self.assertEqual(j["status"], "optimal")
        self.assertEqual(j["violations"], [])
        self.assertLessEqual(j["capex_total_usd"], 11e9)
        self.assertTrue(all(s["status"] in ("optimal", "infeasible") for s in j["scenarios"]))
        r = subprocess.run([SEEDCHIP, "plan", os.path.join(SRC, "examples", "fleet", "infeasible.yaml")], capture_output=True,
                           text=True, timeout=600)
        self.assertEqual(r.returncode, 1)
        self.assertIn("these constraints conflict", r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
