"""Benchmark: the LPSDA Kuramoto–Sivashinsky setting, ours vs exponax vs SciPy Radau.

Setting (LPSDA / PAPER.md): 32 trajectories, nx = 256, L = 64, T = 100, 500 saved
times of which the last 140 are kept; float64. Prints, measured side by side in one
run: wall time of our batched ETDRK4 (`pdessl.solvers.solve_batch`), of exponax's
ETDRK4 at the same dt (vmapped, same initial conditions), of `scipy.integrate.
solve_ivp(Radau, rtol=atol=1e-9)` per trajectory, their ratios, and each method's
relative L2 error at T = 20 against a reference (our ETDRK4 at dt / 16).

    python experiments/benchmarks/solvers_ks_lpsda.py [--radau-trajectories 1]

exponax is an optional benchmark dependency: `pip install -e ".[bench]"`.
"""

import argparse
import platform
import time

import jax
import jax.numpy as jnp
import numpy as np

import pdessl  # noqa: F401  (float64)
from pdessl import solvers as S

N, L, T, NUM_SAVES, KEEP, BATCH = 256, 64.0, 100.0, 500, 140, 32
STEPS_PER_SAVE = 8  # dt = T / (499 * 8) = 0.02505
T_ERR = 20.0


def timed(fn, repeats=3):
    """Best wall time of `repeats` calls (after one warm-up call that compiles)."""
    out = fn()
    jax.block_until_ready(out)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        jax.block_until_ready(out)
        best = min(best, time.perf_counter() - start)
    return best, out


def ks_rhs_numpy(length, n):
    m = np.arange(n // 2 + 1)
    k = 2 * np.pi * m / length
    k_odd = np.where(m == n // 2, 0.0, k)
    mask = 3 * m < n
    lin = k**2 - k**4

    def rhs(t, u):
        uh = np.fft.rfft(u)
        up = np.fft.irfft(uh * mask, n)
        return np.fft.irfft(lin * uh - 0.5j * k_odd * np.fft.rfft(up * up) * mask, n)

    return rhs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--radau-trajectories", type=int, default=1)
    args = parser.parse_args()

    grid = S.Grid1d(N, L)
    keys = jax.random.split(jax.random.key(0), BATCH)
    u0 = np.stack([np.asarray(S.sample_sine_series(k)(grid)) for k in keys])
    dt = T / ((NUM_SAVES - 1) * STEPS_PER_SAVE)
    pde = S.KuramotoSivashinsky()
    print(
        f"machine: {platform.machine()}, {jax.devices()[0].device_kind}, "
        f"jax {jax.__version__}, backend {jax.default_backend()}"
    )
    print(
        f"setting: {BATCH} trajectories, nx={N}, L={L}, T={T}, dt={dt:.5f}, "
        f"{NUM_SAVES} saves, last {KEEP} kept, float64"
    )

    # --- ours ---------------------------------------------------------------
    def ours():
        return S.solve_batch(
            pde,
            grid,
            u0,
            T,
            NUM_SAVES,
            discard_first=NUM_SAVES - KEEP,
            stepping=S.FixedStepETDRK4(STEPS_PER_SAVE),
        ).u

    start = time.perf_counter()
    jax.block_until_ready(ours())
    t_compile = time.perf_counter() - start
    t_ours, u_ours = timed(ours)
    assert u_ours.shape == (BATCH, KEEP, N) and bool(jnp.all(jnp.isfinite(u_ours)))

    # --- exponax ------------------------------------------------------------
    t_exponax = err_exponax = None
    try:
        import exponax as ex
    except ImportError:
        print("exponax not installed: pip install -e '.[bench]' to compare")
    else:
        stepper = ex.stepper.KuramotoSivashinskyConservative(
            1, L, N, dt, order=4, num_circle_points=32
        )
        num_steps = (NUM_SAVES - 1) * STEPS_PER_SAVE

        @jax.jit
        def exponax_run(u0):
            def one(u):
                def body(u, _):
                    u = jax.lax.fori_loop(0, STEPS_PER_SAVE, lambda i, v: stepper(v), u)
                    return u, u[0]

                _, us = jax.lax.scan(body, u[None], None, length=NUM_SAVES - 1)
                return us[-KEEP:]

            return jax.vmap(one)(u0)

        t_exponax, u_ex = timed(lambda: exponax_run(jnp.asarray(u0)))
        assert u_ex.shape == (BATCH, KEEP, N)
        del num_steps

    # --- errors at T = 20 against a fine reference ---------------------------
    n_err = 6  # saves at 0, 4, ..., 20 => steps between saves scale with the step
    spacing = T_ERR / (n_err - 1)
    sps = round(spacing / dt)
    sample = u0[:4]

    def ours_err(steps_per_save):
        return S.solve_batch(
            pde, grid, sample, T_ERR, n_err, stepping=S.FixedStepETDRK4(steps_per_save)
        ).u[:, -1]

    ref = np.asarray(ours_err(16 * sps))
    dt_err = spacing / sps

    def rel(u):
        return float(
            np.max(
                np.linalg.norm(np.asarray(u) - ref, axis=-1)
                / np.linalg.norm(ref, axis=-1)
            )
        )

    err_ours = rel(ours_err(sps))
    if t_exponax is not None:
        stepper_err = ex.stepper.KuramotoSivashinskyConservative(
            1, L, N, dt_err, order=4, num_circle_points=32
        )
        u_end = jax.vmap(
            lambda u: jax.lax.fori_loop(
                0, (n_err - 1) * sps, lambda i, v: stepper_err(v), u[None]
            )[0]
        )(jnp.asarray(sample))
        err_exponax = rel(u_end)

    # --- scipy Radau ------------------------------------------------------------
    from scipy.integrate import solve_ivp

    rhs = ks_rhs_numpy(L, N)
    t_eval = np.linspace(0, T, NUM_SAVES)[-KEEP:]
    radau = {}
    for tol in (1e-9, 1e-6):
        start = time.perf_counter()
        for i in range(args.radau_trajectories):
            r = solve_ivp(
                rhs, (0, T), u0[i], method="Radau", t_eval=t_eval, rtol=tol, atol=tol
            )
            assert r.success
        elapsed = (time.perf_counter() - start) / args.radau_trajectories
        r20 = [
            solve_ivp(
                rhs, (0, T_ERR), u, method="Radau", t_eval=[T_ERR], rtol=tol, atol=tol
            ).y[:, -1]
            for u in sample
        ]
        radau[tol] = (elapsed, rel(np.stack(r20)))

    per_traj = t_ours / BATCH
    print()
    print(
        f"{'method':38s} {'batch of 32 [s]':>16s} {'per traj [s]':>13s} "
        f"{'rel L2 err @T=20':>17s}"
    )
    print(
        f"{'pdessl ETDRK4 (diffrax), dt=' + format(dt, '.4f'):38s} {t_ours:16.3f} "
        f"{per_traj:13.4f} {err_ours:17.2e}"
    )
    if t_exponax is not None:
        print(
            f"{'exponax ETDRK4, same dt':38s} {t_exponax:16.3f} "
            f"{t_exponax / BATCH:13.4f} {err_exponax:17.2e}"
        )
    for tol, (t_r, e_r) in radau.items():
        label = "scipy Radau rtol=atol=" + format(tol, ".0e")
        print(f"{label:38s} {'':16s} {t_r:13.3f} {e_r:17.2e}")
    print()
    print(f"compile time (ours, first call): {t_compile:.2f} s")
    if t_exponax is not None:
        print(
            f"ours / exponax time:            {t_ours / t_exponax:.2f}x (target <= 1.2)"
        )
    for tol, (t_r, _) in radau.items():
        print(
            f"Radau({tol:.0e}) / ours per trajectory: {t_r / per_traj:.0f}x "
            "(target >= 500)"
        )
    print(
        f"(error reference: ours at dt/16 = {dt_err / 16:.5f}; Radau timed on "
        f"{args.radau_trajectories} trajectory/ies over T={T})"
    )


if __name__ == "__main__":
    main()
