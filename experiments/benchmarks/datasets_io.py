"""Benchmark: dataset generation throughput, file sizes and random-read latency.

For each recipe, generates `--num-samples` training samples with `pdessl.datasets.
generate` (float32 storage), then prints samples/s (compilation included and
excluded), the file size per sample, and the time to read one random trajectory with
h5py and with xarray (median of `--reads` reads, file opened once).

    python experiments/benchmarks/datasets_io.py [--recipes ks burgers] [--num-samples 256]
"""

import argparse
import platform
import tempfile
import time
from pathlib import Path

import h5py
import jax
import numpy as np

from pdessl import datasets


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="+", default=["ks", "burgers"])
    parser.add_argument("--num-samples", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--reads", type=int, default=200)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {jax.devices()[0].device_kind}, "
        f"jax {jax.__version__}"
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.recipes:
            recipe = datasets.load_recipe(name)
            # A first, one-batch run compiles; the timed run reuses the compilation.
            warm = Path(tmp) / f"{name}-warm.h5"
            start = time.perf_counter()
            datasets.generate(
                recipe,
                "train",
                warm,
                num_samples=args.batch_size,
                batch_size=args.batch_size,
                progress=False,
            )
            first = time.perf_counter() - start
            out = Path(tmp) / f"{name}.h5"
            report = datasets.generate(
                recipe,
                "train",
                out,
                num_samples=args.num_samples,
                batch_size=args.batch_size,
                progress=False,
            )
            size = out.stat().st_size
            rng = np.random.default_rng(0)
            idx = rng.integers(0, args.num_samples, args.reads)
            with h5py.File(out, "r") as f:
                u = f["u"]
                times = []
                for i in idx:
                    t0 = time.perf_counter()
                    _ = u[i]
                    times.append(time.perf_counter() - t0)
            t_h5 = float(np.median(times))
            ds = datasets.open_dataset(out)
            times = []
            for i in idx:
                t0 = time.perf_counter()
                _ = ds["u"].isel(sample=int(i)).values
                times.append(time.perf_counter() - t0)
            t_xr = float(np.median(times))
            ds.close()
            rows.append((name, recipe, report, first, size, t_h5, t_xr))

    print(
        f"{'recipe':10s} {'shape/sample':>14s} {'samples/s':>10s} "
        f"{'1st batch [s]':>14s} {'MB/1k samples':>14s} {'h5py read':>10s} "
        f"{'xarray read':>12s}"
    )
    for name, recipe, report, first, size, t_h5, t_xr in rows:
        shape = f"{recipe.keep_last}x{recipe.num_points}"
        print(
            f"{name:10s} {shape:>14s} {report.samples_per_second:10.1f} "
            f"{first:14.2f} {size / report.num_samples_in_file * 1e3 / 1e6:14.1f} "
            f"{t_h5 * 1e3:8.3f}ms {t_xr * 1e3:10.3f}ms"
        )


if __name__ == "__main__":
    main()
