"""What the bench/*/report.py scripts share: their command line, reading
the raw lines and metadata of a run, medians and number formatting.

A report imports it with
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                    "..", "common"))
    import benchlib
so that it runs from any directory, as bench/*/run call it.
"""
import argparse
import json
import statistics


def parse_report_args():
    """The options every bench/*/run passes to its report.py."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--meta", required=True)
    ap.add_argument("--commit", default="")
    ap.add_argument("--worktree", default="0")
    ap.add_argument("--wall-s", type=int, default=0)
    ap.add_argument("--host", default="")
    ap.add_argument("--complete", default="false")
    ap.add_argument("--json", required=True)
    return ap.parse_args()


def load_runs(path):
    """One JSON object per non-blank line of the raw file."""
    return [json.loads(l) for l in open(path) if l.strip()]


def load_meta(path):
    """The run's metadata; {} when the guest never printed it."""
    try:
        return json.load(open(path))
    except (OSError, ValueError):
        return {}


def write_json(path, obj, sort_keys=False):
    with open(path, "w") as fh:
        json.dump(obj, fh, indent=1, sort_keys=sort_keys)
        fh.write("\n")


def med(xs):
    """Median of the values that are not None; None when there are none."""
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def spread(xs):
    xs = [x for x in xs if x is not None]
    return {"median": med(xs), "min": min(xs), "max": max(xs), "n": len(xs)} if xs else None


def fmt(v, nd=2):
    if v is None:
        return "-"
    if abs(v) >= 1000:
        return f"{v:.0f}"
    return f"{v:.{nd}f}"


def ratio(a, b):
    return a / b if a is not None and b else None
