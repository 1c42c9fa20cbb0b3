"""Benchmark: seconds per Navier–Stokes smoke trajectory, periodic recipe next to the
closed free-slip box on the same grid (`ns-tiny` / `ns-box-tiny`, `ns` / `ns-box`),
with the box / periodic ratio.

Each recipe's batch (vmapped, as the dataset generator runs it) is compiled ahead of
time (timed apart) and then run `--repeat` times, periodic and box alternating so that
both see the same machine load; the best run counts. With `--steps`, one
representative trajectory per recipe (buoyancy at the middle of its range, smoke from
key 0) is also solved through `solve_navier_stokes` to report the adaptive step
counts and the time per step, which separates the cost of a step from the number of
steps the two flows need.

    python experiments/benchmarks/solvers_ns.py [--batch 2] [--pairs tiny full]
        [--repeat 1] [--steps]

(defaults: batch 2, both pairs, one run each, no step counts).
"""

import argparse
import os
import platform
import time

import jax
import numpy as np

from pdessl import solvers
from pdessl.datasets import load_recipe
from pdessl.datasets._sampling import _solve_keys, sample_keys
from pdessl.pdes.ns import _stepping

PAIRS = {"tiny": ("ns-tiny", "ns-box-tiny"), "full": ("ns", "ns-box")}


def _batch_runner(recipe, batch):
    idx = np.arange(batch)
    keys = sample_keys(0, "train", idx, np.zeros_like(idx))
    start = time.perf_counter()
    compiled = _solve_keys.lower(recipe, keys).compile()
    compile_s = time.perf_counter() - start

    def run():
        start = time.perf_counter()
        out = jax.block_until_ready(compiled(recipe, keys))
        return time.perf_counter() - start, np.asarray(out["status"]).tolist()

    return run, compile_s


def _single_runner(recipe):
    """One trajectory through the public solver, for its step count."""
    grid = solvers.Grid2d(
        (recipe.num_points, recipe.num_points_y),
        (float(recipe.length.high), float(recipe.length_y)),
    )
    low, high = recipe.parameters["buoyancy"].low, recipe.parameters["buoyancy"].high
    ns = solvers.NavierStokes2d(
        recipe.parameters["nu"].high,
        recipe.parameters["kappa"].high,
        0.5 * (low + high),
    )
    smoke0 = solvers.sample_smoke(
        jax.random.key(0),
        grid,
        correlation_length=recipe.initial_condition.correlation_length,
        boundary=recipe.boundary,
    )

    @jax.jit
    def solve(smoke0):
        return solvers.solve_navier_stokes(
            ns,
            grid,
            smoke0,
            recipe.horizon.high,
            recipe.num_saves,
            discard_first=recipe.discard_first,
            stepping=_stepping(recipe),
            boundary=recipe.boundary,
        )

    solve(smoke0).status.block_until_ready()  # compile

    def run():
        start = time.perf_counter()
        sol = jax.block_until_ready(solve(smoke0))
        return time.perf_counter() - start, int(sol.num_steps), int(sol.status)

    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument(
        "--pairs", nargs="+", choices=sorted(PAIRS), default=["tiny", "full"]
    )
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--steps", action="store_true")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {jax.devices()[0].device_kind}, "
        f"jax {jax.__version__}, load average {os.getloadavg()[0]:.1f}"
    )
    rows = []
    for pair in args.pairs:
        recipes = [load_recipe(name) for name in PAIRS[pair]]
        runners, compile_s = zip(
            *(_batch_runner(r, args.batch) for r in recipes), strict=True
        )
        best = [np.inf, np.inf]
        for _ in range(args.repeat):
            for i, run in enumerate(runners):
                seconds, status = run()
                best[i] = min(best[i], seconds / args.batch)
        row = dict(
            pair=pair,
            grid=recipes[0].space_shape,
            per=best[0],
            box=best[1],
            compile=compile_s,
            status=status,
        )
        if args.steps:
            singles = [_single_runner(r) for r in recipes]
            results = [single() for single in singles]
            row["steps"] = [n for _, n, _ in results]
            row["per_step"] = [s / n for s, n, _ in results]
        rows.append(row)

    print(
        f"\nseconds per trajectory (batch {args.batch}, best of {args.repeat}), "
        "load average now "
        f"{os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'recipes':24s} {'grid':>10s} {'periodic':>9s} {'box':>9s} {'box/per':>8s}"
        f" {'compile per/box [s]':>20s}"
    )
    for r in rows:
        names = " / ".join(PAIRS[r["pair"]])
        grid = "x".join(map(str, r["grid"]))
        print(
            f"{names:24s} {grid:>10s} {r['per']:9.3f} {r['box']:9.3f} "
            f"{r['box'] / r['per']:7.2f}x {r['compile'][0]:9.1f} / {r['compile'][1]:.1f}"
        )
    if args.steps:
        print("\none trajectory each (mid-range buoyancy, smoke from key 0):")
        print(
            f"{'recipes':24s} {'steps per/box':>14s} {'ms/step per/box':>17s} "
            f"{'per step box/per':>17s}"
        )
        for r in rows:
            names = " / ".join(PAIRS[r["pair"]])
            (sp, sb), (tp, tb) = r["steps"], r["per_step"]
            print(
                f"{names:24s} {sp:6d} / {sb:<6d} {1e3 * tp:7.2f} / {1e3 * tb:<7.2f} "
                f"{tb / tp:16.2f}x"
            )


if __name__ == "__main__":
    main()
