"""Compare two experiment results.json files number by number (issue 14: the
refactor must not change any result). Wall-clock fields (timings, samples/s, date,
machine) are skipped; every other numeric leaf must agree to `--atol` (default 1e-6)
and every other non-numeric leaf exactly.

    python experiments/refactor/compare_results.py BEFORE.json AFTER.json
"""

import argparse
import json
import sys

SKIP = ("timings", "machine", "date", "samples_per_s", "seconds", "runtime")


def leaves(d, path=""):
    if isinstance(d, dict):
        for k, v in d.items():
            yield from leaves(v, f"{path}/{k}")
    elif isinstance(d, list):
        for i, v in enumerate(d):
            yield from leaves(v, f"{path}[{i}]")
    else:
        yield path, d


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--atol", type=float, default=1e-6)
    args = parser.parse_args()
    a = {
        p: v
        for p, v in leaves(json.load(open(args.before)))
        if not any(s in p for s in SKIP)
    }
    b = {
        p: v
        for p, v in leaves(json.load(open(args.after)))
        if not any(s in p for s in SKIP)
    }
    problems = sorted(set(a) ^ set(b))
    worst, count = 0.0, 0
    for p in sorted(set(a) & set(b)):
        x, y = a[p], b[p]
        if isinstance(x, int | float) and not isinstance(x, bool):
            count += 1
            diff = abs(x - y)
            worst = max(worst, diff)
            if diff > args.atol:
                problems.append(f"{p}: {x} vs {y}")
        elif x != y:
            problems.append(f"{p}: {x!r} vs {y!r}")
    print(f"{count} numbers compared, largest difference {worst:.3g}")
    for p in problems:
        print("DIFFERS", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
