"""Benchmark: seconds per Navier–Stokes smoke trajectory for the periodic (`ns-tiny`,
`ns`) and closed free-slip box (`ns-box-tiny`, `ns-box`) recipes (batched, vmapped),
and the adaptive solver's step counts. Each recipe is compiled ahead of time (timed
apart) and then run once, so a production-size recipe costs one batch.

    python experiments/benchmarks/solvers_ns.py [--batch 4] [--recipes ns-tiny ns]
"""

import argparse
import platform
import time

import jax
import numpy as np

from pdessl.datasets import load_recipe
from pdessl.datasets._sampling import _solve_keys, sample_keys


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument(
        "--recipes", nargs="+", default=["ns-tiny", "ns-box-tiny", "ns", "ns-box"]
    )
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {jax.devices()[0].device_kind}, "
        f"jax {jax.__version__}"
    )
    for name in args.recipes:
        recipe = load_recipe(name)
        idx = np.arange(args.batch)
        keys = sample_keys(0, "train", idx, np.zeros_like(idx))
        start = time.perf_counter()
        compiled = _solve_keys.lower(recipe, keys).compile()
        compile_s = time.perf_counter() - start
        start = time.perf_counter()
        out = jax.block_until_ready(compiled(recipe, keys))
        run_s = time.perf_counter() - start
        status = np.asarray(out["status"])
        print(
            f"{name:12s} {recipe.boundary:9s} grid {recipe.space_shape}, "
            f"T={recipe.horizon.high}, {recipe.keep_last} frames: "
            f"{run_s / args.batch:.2f} s/trajectory (batch {args.batch}; compile "
            f"{compile_s:.1f} s); status {status.tolist()}"
        )


if __name__ == "__main__":
    main()
