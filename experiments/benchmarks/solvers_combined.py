"""Benchmark: generation throughput of the combined equation vs Burgers, same grid.

Setting: `burgers-tiny`'s grid and horizon (nx 64, L = 2 pi, T = 2, 51 saves of which
the last 32 are kept, 8 ETDRK4 steps per save, dt = 0.005), float64, one batch of
`--batch` trajectories (burgers-tiny's 64 + 32 + 32 = 128 by default) with the
same sine-series initial conditions (burgers-tiny's: 5 modes, amplitude <= 0.5). Burgers draws nu log-uniform in [0.08, 0.8] per
sample (the recipe); the combined equation draws (alpha, beta, gamma) uniform per
sample in the ranges given by `--alpha`, `--beta`, `--gamma`, and once more at
Burgers' point (1/2, nu, 0). They are timed in shuffled alternation (best of
`--repeats` warm calls each, in wall and in CPU time) so that load from other
processes hits all alike; the load average is printed before and after.

    python experiments/benchmarks/solvers_combined.py [--batch 128] [--repeats 25]
"""

import argparse
import os
import platform
import time

import jax
import numpy as np

import pdessl  # noqa: F401  (float64)
from pdessl import solvers as S

try:
    from pdessl.solvers import Combined
except ImportError:  # until solvers/__init__.py re-exports it
    from pdessl.solvers._combined import Combined

N, L, T, NUM_SAVES, KEEP, STEPS_PER_SAVE = 64, 2 * np.pi, 2.0, 51, 32, 8


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=25)
    parser.add_argument("--alpha", type=float, nargs=2, default=(0.0, 3.0))
    parser.add_argument("--beta", type=float, nargs=2, default=(0.0, 0.4))
    parser.add_argument("--gamma", type=float, nargs=2, default=(0.2, 1.0))
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{jax.devices()[0].device_kind}, jax {jax.__version__}; load avg {load()}"
    )
    print(
        f"setting: {args.batch} trajectories, nx={N}, L=2pi, T={T}, "
        f"dt={T / ((NUM_SAVES - 1) * STEPS_PER_SAVE)}, {NUM_SAVES} saves, last "
        f"{KEEP} kept, float64"
    )

    grid = S.Grid1d(N, L)
    keys = jax.random.split(jax.random.key(0), args.batch)
    u0 = np.stack(
        [np.asarray(S.sample_sine_series(k, num_modes=5)(grid)) for k in keys]
    )
    rng = np.random.default_rng(0)
    nu = np.exp(rng.uniform(np.log(0.08), np.log(0.8), args.batch))
    alpha, beta, gamma = (
        rng.uniform(*bounds, args.batch)
        for bounds in (args.alpha, args.beta, args.gamma)
    )
    print(
        f"burgers nu log-U[0.08, 0.8]; combined alpha U{list(args.alpha)}, "
        f"beta U{list(args.beta)}, gamma U{list(args.gamma)}"
    )
    stepping = S.FixedStepETDRK4(STEPS_PER_SAVE)
    pdes = {
        "burgers": S.Burgers(nu),
        "combined": Combined(alpha, beta, gamma),
        # The same code on Burgers' data: separates the cost of the extra terms
        # from any effect of the parameter values (a fixed-step solve should show
        # none).
        "combined at (1/2, nu, 0)": Combined(0.5, nu, np.zeros(args.batch)),
    }

    def run(pde):
        sol = S.solve_batch(
            pde,
            grid,
            u0,
            T,
            NUM_SAVES,
            discard_first=NUM_SAVES - KEEP,
            stepping=stepping,
        )
        return jax.block_until_ready(sol)

    compile_s = {}
    for name, pde in pdes.items():
        start = time.perf_counter()
        sol = run(pde)
        compile_s[name] = time.perf_counter() - start
        ok = int(np.sum(np.asarray(sol.status) == S.SolveStatus.SUCCESS))
        print(
            f"{name}: {ok}/{args.batch} successful, first call {compile_s[name]:.2f} s"
        )

    # Best of `repeats` in shuffled order, in wall time and in this process's CPU
    # time (all threads). On a shared machine the wall time swings with other
    # processes' load; the CPU time is what the solve itself costs.
    wall = dict.fromkeys(pdes, np.inf)
    cpu = dict.fromkeys(pdes, np.inf)
    order = np.random.default_rng(1)
    for _ in range(args.repeats):
        for name in order.permutation(list(pdes)):
            start, start_cpu = time.perf_counter(), time.process_time()
            run(pdes[name])
            wall[name] = min(wall[name], time.perf_counter() - start)
            cpu[name] = min(cpu[name], time.process_time() - start_cpu)

    print()
    print(
        f"{'pde':26s} {'wall [s]':>9s} {'traj/s':>8s} {'CPU [s]':>9s} "
        f"{'traj/CPU-s':>11s}"
    )
    for name in pdes:
        print(
            f"{name:26s} {wall[name]:9.3f} {args.batch / wall[name]:8.0f} "
            f"{cpu[name]:9.3f} {args.batch / cpu[name]:11.0f}"
        )
    print(
        f"combined / burgers throughput: wall {wall['burgers'] / wall['combined']:.3f}"
        f", CPU {cpu['burgers'] / cpu['combined']:.3f} (best of {args.repeats}, "
        f"shuffled order); load avg {load()}"
    )


if __name__ == "__main__":
    main()
