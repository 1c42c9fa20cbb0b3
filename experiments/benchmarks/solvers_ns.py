"""Benchmark: seconds per Navier–Stokes smoke trajectory for the `ns-tiny` and `ns`
recipes (batched, vmapped; compilation excluded by a warm-up call with the same
shapes), and the adaptive solver's step counts.

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
    parser.add_argument("--recipes", nargs="+", default=["ns-tiny", "ns"])
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
        jax.block_until_ready(_solve_keys(recipe, keys))
        first = time.perf_counter() - start
        keys = sample_keys(0, "train", idx + args.batch, np.zeros_like(idx))
        start = time.perf_counter()
        out = jax.block_until_ready(_solve_keys(recipe, keys))
        warm = time.perf_counter() - start
        status = np.asarray(out["status"])
        print(
            f"{name:8s} grid {recipe.space_shape}, T={recipe.horizon.high}, "
            f"{recipe.keep_last} frames: {warm / args.batch:.2f} s/trajectory "
            f"(batch {args.batch}; first call incl. compile {first:.1f} s); "
            f"status {status.tolist()}"
        )


if __name__ == "__main__":
    main()
