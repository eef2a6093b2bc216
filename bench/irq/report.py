#!/usr/bin/env python3
"""Summarise the IRQBENCH lines of an interrupt-latency payload run.

  report.py LOG|- [--json OUT.json] [--no-json]

Reads the lines that contain "IRQBENCH" (anything before it on the line,
such as a timestamp or console prefix, is ignored), prints a table in
microseconds and writes JSON (default: LOG with its extension replaced by
.json; nothing for stdin unless --json). A malformed line is reported on
stderr with its line number and skipped: it never stops the report.

Exit status: 0 when the run completed ("IRQBENCH done failures=0"), had no
FAIL line and every line parsed; 1 otherwise; 2 for usage errors.
Line format: bench/irq/README.md.
"""

import argparse
import json
import os
import re
import sys

MARKER = "IRQBENCH"
DECIMAL = re.compile(r"[0-9]+\Z")
STAT_KEYS = ("min", "p50", "p99", "max")
# Histogram bucket edges: round(1024 * 2^(k/4)), as in payload/main.c.
HIST_FRAC = (1024, 1218, 1448, 1722)
REQUIRED_TEST_KEYS = ("test", "n", "freq", "unit") + STAT_KEYS
# Values that must be non-negative integers wherever they appear.
INT_KEYS = frozenset(
    ("n", "freq", "mean", "clamped", "failures", "warmup", "iter",
     "redistributors", "lo", "per_octave", "buckets", "over") + STAT_KEYS + tuple(k + "_ns" for k in STAT_KEYS)
    + ("mean_ns",))


class ParseError(ValueError):
    """A line that has the marker but not the documented shape."""


def parse_fields(tokens):
    """KEY=VALUE tokens -> dict; integers for the keys in INT_KEYS."""
    fields = {}
    for tok in tokens:
        key, sep, value = tok.partition("=")
        if not sep or not key:
            raise ParseError("expected KEY=VALUE, got %r" % tok)
        if key in fields:
            raise ParseError("key %r given twice" % key)
        if key in INT_KEYS:
            if not DECIMAL.match(value):
                raise ParseError("%s=%r is not a non-negative integer"
                                 % (key, value))
            fields[key] = int(value)
        else:
            fields[key] = value
    return fields


def parse_hist(fields):
    """Check a hist line's fields; counts becomes a list of integers."""
    missing = [k for k in ("test", "lo", "per_octave", "buckets", "counts",
                           "over", "freq", "unit") if k not in fields]
    if missing:
        raise ParseError("hist line without %s" % ", ".join(missing))
    counts = fields["counts"].split(",")
    if not all(DECIMAL.match(c) for c in counts):
        raise ParseError("counts=%r is not a list of non-negative integers"
                         % fields["counts"])
    if len(counts) != fields["buckets"]:
        raise ParseError("%d counts for buckets=%d"
                         % (len(counts), fields["buckets"]))
    if fields["per_octave"] != len(HIST_FRAC) or fields["lo"] == 0 \
            or fields["freq"] == 0:
        raise ParseError("hist line with per_octave other than %d, lo=0 or "
                         "freq=0" % len(HIST_FRAC))
    if fields["unit"] != "ticks":
        raise ParseError("unit=%r, expected ticks" % fields["unit"])
    fields["counts"] = [int(c) for c in counts]


def hist_edges(hist):
    """The buckets' edges in ticks, as the payload computes them:
    edge b = (lo << b // 4) * HIST_FRAC[b % 4] >> 10 (buckets + 1 edges;
    bucket b holds the samples in [edge b, edge b+1))."""
    n = len(HIST_FRAC)
    return [((hist["lo"] << (b // n)) * HIST_FRAC[b % n]) >> 10
            for b in range(hist["buckets"] + 1)]


def parse_line(line):
    """One log line -> (kind, fields), or None when it has no marker.

    kind is one of start, info, test, hist, skip, fail, done.
    Raises ParseError for a marked line of the wrong shape.
    """
    at = line.find(MARKER)
    if at < 0:
        return None
    rest = line[at + len(MARKER):]
    if rest and not rest[0].isspace():
        raise ParseError("no space after %s" % MARKER)
    tokens = rest.split()
    if not tokens:
        raise ParseError("nothing after %s" % MARKER)

    word = tokens[0]
    if word in ("start", "info", "hist", "done", "SKIP", "FAIL"):
        kind, fields = word.lower(), parse_fields(tokens[1:])
    elif word.startswith("test="):
        kind, fields = "test", parse_fields(tokens)
    else:
        raise ParseError("unknown line kind %r" % word)

    if kind == "test":
        missing = [k for k in REQUIRED_TEST_KEYS if k not in fields]
        if missing:
            raise ParseError("test line without %s" % ", ".join(missing))
        if fields["n"] == 0:
            raise ParseError("test line with n=0")
        if fields["freq"] == 0:
            raise ParseError("test line with freq=0")
        if fields["unit"] != "ticks":
            raise ParseError("unit=%r, expected ticks" % fields["unit"])
        if not fields["min"] <= fields["p50"] <= fields["p99"] <= \
                fields["max"]:
            raise ParseError("min <= p50 <= p99 <= max does not hold")
        for k in STAT_KEYS + ("mean",):
            if k in fields and k + "_ns" not in fields:
                fields[k + "_ns"] = fields[k] * 1000000000 // fields["freq"]
    elif kind == "hist":
        parse_hist(fields)
    elif kind in ("skip", "fail") and "test" not in fields:
        raise ParseError("%s line without test=" % word)
    elif kind == "done" and "failures" not in fields:
        raise ParseError("done line without failures=")
    return kind, fields


def parse_log(lines):
    """Iterable of lines -> report dict (see write_json for its shape)."""
    rep = {"start": None, "info": {}, "tests": [], "hists": {}, "skips": [],
           "failures": [], "done": None, "errors": []}
    for number, raw in enumerate(lines, 1):
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", "replace")
        line = raw.replace("\r", "").rstrip("\n")
        try:
            parsed = parse_line(line)
        except ParseError as err:
            rep["errors"].append({"line": number, "error": str(err),
                                  "text": line.strip()})
            continue
        if parsed is None:
            continue
        kind, fields = parsed
        if kind == "start":
            rep["start"] = fields
        elif kind == "info":
            rep["info"].update(fields)
        elif kind == "test":
            rep["tests"].append(fields)
        elif kind == "hist":
            rep["hists"][fields["test"]] = fields
        elif kind == "skip":
            rep["skips"].append(fields)
        elif kind == "fail":
            rep["failures"].append(fields)
        elif kind == "done":
            rep["done"] = fields
    rep["complete"] = rep["done"] is not None
    rep["ok"] = (rep["complete"] and rep["done"]["failures"] == 0
                 and not rep["failures"] and not rep["errors"])
    return rep


def us(ns):
    return "%.2f" % (ns / 1000.0)


def format_table(rep):
    out = []
    head = ("test", "n", "min us", "p50 us", "p99 us", "max us",
            "p50 ticks")
    rows = [(t["test"], str(t["n"]), us(t["min_ns"]), us(t["p50_ns"]),
             us(t["p99_ns"]), us(t["max_ns"]), str(t["p50"]))
            for t in rep["tests"]]
    widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    fmt = "  ".join("%-*s" if i == 0 else "%*s" for i in range(len(head)))

    def line(cells):
        args = []
        for w, c in zip(widths, cells):
            args += [w, c]
        return fmt % tuple(args)

    out.append(line(head))
    out.extend(line(r) for r in rows)
    freqs = sorted({t["freq"] for t in rep["tests"]})
    if freqs:
        out.append("counter frequency: %s Hz" % ", ".join(map(str, freqs)))
    for s in rep["skips"]:
        out.append("skipped %s: %s" % (s["test"], s.get("reason", "?")))
    for f in rep["failures"]:
        extra = " ".join("%s=%s" % (k, v) for k, v in f.items()
                         if k not in ("test", "reason"))
        out.append("FAILED %s: %s%s" % (f["test"], f.get("reason", "?"),
                                       " (" + extra + ")" if extra else ""))
    if not rep["complete"]:
        out.append("incomplete: no 'IRQBENCH done' line")
    elif rep["done"]["failures"]:
        out.append("payload reported %d failure(s)" % rep["done"]["failures"])
    return "\n".join(out)


def write_json(rep, path, source):
    doc = dict(rep)
    doc["source"] = source
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def default_json_path(log):
    base, ext = os.path.splitext(log)
    path = base + ".json"
    return path if ext != ".json" else log + ".report.json"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1].strip())
    ap.add_argument("log", help="log file, or - for stdin")
    ap.add_argument("--json", help="where to write the JSON summary")
    ap.add_argument("--no-json", action="store_true",
                    help="print the table only")
    args = ap.parse_args(argv)

    try:
        if args.log == "-":
            rep = parse_log(sys.stdin.buffer)
        else:
            with open(args.log, "rb") as f:
                rep = parse_log(f)
    except OSError as err:
        print("report.py: cannot read %s: %s" % (args.log, err.strerror),
              file=sys.stderr)
        return 1

    for e in rep["errors"]:
        print("report.py: %s:%d: malformed IRQBENCH line (%s): %s"
              % (args.log, e["line"], e["error"], e["text"]),
              file=sys.stderr)
    if rep["start"] is None and not rep["tests"] and not rep["errors"]:
        print("report.py: %s: no IRQBENCH lines" % args.log, file=sys.stderr)
    print(format_table(rep))

    out = args.json
    if out is None and args.log != "-" and not args.no_json:
        out = default_json_path(args.log)
    if out and not args.no_json:
        try:
            write_json(rep, out, args.log)
        except OSError as err:
            print("report.py: cannot write %s: %s" % (out, err.strerror),
                  file=sys.stderr)
            return 1
    return 0 if rep["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
