#!/usr/bin/env python3
"""Unit tests of report.py: python3 -m unittest bench/irq/test_report.py"""

import importlib.util
import io
import json
import os
import sys
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout

_spec = importlib.util.spec_from_file_location(
    "irq_report", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                               "report.py"))
report = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(report)

GOOD = """\
boot noise
IRQBENCH start n=1000 warmup=16 freq=25000000 dtb=0x9fe00000 mpidr=0x0
IRQBENCH info redistributors=2
IRQBENCH info testdev_rid=0x10 slot=2 fn=0 bar0=0x40000000 msix_vectors=2
IRQBENCH test=mmio n=1000 min=50 p50=60 p99=90 max=400 mean=62 min_ns=2000 \
p50_ns=2400 p99_ns=3600 max_ns=16000 mean_ns=2480 clamped=0 freq=25000000 \
unit=ticks
IRQBENCH hist test=mmio lo=50 per_octave=4 buckets=4 counts=900,60,20,10 \
over=10 freq=25000000 unit=ticks
[   12.5] IRQBENCH test=timer n=1000 min=5 p50=6 p99=7 max=8 freq=25000000 \
unit=ticks\r
IRQBENCH SKIP test=ipi reason=one-cpu
IRQBENCH done failures=0
"""


def run_main(argv):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = report.main(argv)
    return status, out.getvalue(), err.getvalue()


class ParseLine(unittest.TestCase):
    def test_line_without_marker_is_ignored(self):
        self.assertIsNone(report.parse_line("Linux version 7.3"))

    def test_test_line_gives_integers(self):
        kind, f = report.parse_line(
            "IRQBENCH test=ipi n=3 min=1 p50=2 p99=3 max=3 freq=10 "
            "unit=ticks")
        self.assertEqual(kind, "test")
        self.assertEqual((f["test"], f["n"], f["max"]), ("ipi", 3, 3))

    def test_missing_ns_is_derived_from_freq(self):
        _, f = report.parse_line(
            "IRQBENCH test=t n=1 min=5 p50=5 p99=5 max=5 freq=1000 "
            "unit=ticks")
        self.assertEqual(f["p50_ns"], 5000000)

    def test_malformed_lines_raise_parse_error(self):
        bad = [
            "IRQBENCH",
            "IRQBENCH   ",
            "IRQBENCHtest=x",
            "IRQBENCH bogus x=1",
            "IRQBENCH test=x n=1 min=1 p50=1 p99=1 freq=1 unit=ticks",
            "IRQBENCH test=x n=one min=1 p50=1 p99=1 max=1 freq=1 unit=ticks",
            "IRQBENCH test=x n=1 min=-1 p50=1 p99=1 max=1 freq=1 unit=ticks",
            "IRQBENCH test=x n=1 min=\u00b2 p50=1 p99=1 max=1 freq=1 "
            "unit=ticks",
            "IRQBENCH test=x n=1 min=1 p50=1 p99=1 max=1 freq=0 unit=ticks",
            "IRQBENCH test=x n=0 min=1 p50=1 p99=1 max=1 freq=1 unit=ticks",
            "IRQBENCH test=x n=1 min=1 p50=1 p99=1 max=1 freq=1 unit=ns",
            "IRQBENCH test=x n=1 min=9 p50=1 p99=1 max=1 freq=1 unit=ticks",
            "IRQBENCH test=x test=y n=1 min=1 p50=1 p99=1 max=1 freq=1 "
            "unit=ticks",
            "IRQBENCH start novalue",
            "IRQBENCH start =3",
            "IRQBENCH SKIP reason=x",
            "IRQBENCH FAIL reason=timeout",
            "IRQBENCH done",
            "IRQBENCH done failures=x",
            "IRQBENCH hist test=x lo=1 per_octave=4 buckets=2 counts=1 "
            "over=0 freq=1 unit=ticks",
            "IRQBENCH hist test=x lo=1 per_octave=4 buckets=2 counts=1,a "
            "over=0 freq=1 unit=ticks",
            "IRQBENCH hist test=x lo=1 per_octave=2 buckets=1 counts=1 "
            "over=0 freq=1 unit=ticks",
            "IRQBENCH hist test=x lo=0 per_octave=4 buckets=1 counts=1 "
            "over=0 freq=1 unit=ticks",
            "IRQBENCH hist test=x lo=1 per_octave=4 buckets=1 counts=1 "
            "freq=1 unit=ticks",
        ]
        for line in bad:
            with self.subTest(line=line):
                with self.assertRaises(report.ParseError):
                    report.parse_line(line)


class ParseLog(unittest.TestCase):
    def test_good_log(self):
        rep = report.parse_log(GOOD.splitlines(True))
        self.assertTrue(rep["ok"])
        self.assertEqual([t["test"] for t in rep["tests"]], ["mmio", "timer"])
        self.assertEqual(rep["info"]["redistributors"], 2)
        self.assertEqual(rep["skips"], [{"test": "ipi", "reason": "one-cpu"}])
        self.assertEqual(rep["errors"], [])
        self.assertEqual(rep["hists"]["mmio"]["counts"], [900, 60, 20, 10])
        self.assertEqual(rep["hists"]["mmio"]["over"], 10)

    def test_hist_line(self):
        kind, f = report.parse_line(
            "IRQBENCH hist test=edu lo=7 per_octave=4 buckets=3 counts=5,0,1 "
            "over=2 freq=100 unit=ticks")
        self.assertEqual(kind, "hist")
        self.assertEqual((f["test"], f["lo"], f["buckets"], f["counts"]),
                         ("edu", 7, 3, [5, 0, 1]))

    def test_hist_edges_are_the_payloads(self):
        # (lo << b/4) * frac[b%4] >> 10: quarter octaves from lo.
        h = {"lo": 1000, "buckets": 5}
        self.assertEqual(report.hist_edges(h),
                         [1000, 1189, 1414, 1681, 2000, 2378])

    def test_errors_are_collected_not_raised(self):
        lines = ["IRQBENCH start n=1", "IRQBENCH test=x n=?",
                 b"\xff\xfe IRQBENCH \xff", "IRQBENCH done failures=0"]
        rep = report.parse_log(lines)
        self.assertEqual([e["line"] for e in rep["errors"]], [2, 3])
        self.assertTrue(rep["complete"])
        self.assertFalse(rep["ok"])

    def test_fail_line_or_missing_done_is_not_ok(self):
        rep = report.parse_log(["IRQBENCH FAIL test=doorbell reason=timeout "
                                "iter=3", "IRQBENCH done failures=1"])
        self.assertFalse(rep["ok"])
        self.assertEqual(rep["failures"][0]["iter"], 3)
        rep = report.parse_log(["IRQBENCH start n=1"])
        self.assertFalse(rep["complete"])
        self.assertIn("incomplete", report.format_table(rep))


class Main(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def write(self, name, text):
        path = os.path.join(self.dir.name, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_table_and_default_json(self):
        log = self.write("run.log", GOOD)
        status, out, err = run_main([log])
        self.assertEqual(status, 0, err)
        self.assertIn("mmio", out)
        self.assertIn("2.40", out)  # p50 in us
        with open(os.path.join(self.dir.name, "run.json")) as f:
            doc = json.load(f)
        self.assertEqual(doc["tests"][0]["p99"], 90)
        self.assertTrue(doc["ok"])

    def test_malformed_line_is_a_message_and_status_1(self):
        log = self.write("bad.log", GOOD + "IRQBENCH test=x n=\n")
        status, out, err = run_main([log, "--no-json"])
        self.assertEqual(status, 1)
        self.assertIn("bad.log:", err)
        self.assertIn("malformed", err)
        self.assertIn("timer", out)

    def test_unreadable_log_is_a_message(self):
        status, _, err = run_main([os.path.join(self.dir.name, "nope")])
        self.assertEqual(status, 1)
        self.assertIn("cannot read", err)

    def test_json_log_is_not_overwritten(self):
        self.assertEqual(report.default_json_path("x/run.json"),
                         "x/run.json.report.json")


if __name__ == "__main__":
    sys.exit(unittest.main())
