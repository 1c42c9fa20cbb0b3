"""Batching over parameters, per-sample status, and bad input."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np
import pytest

from pdessl.solvers import (
    ETDRK4,
    Adaptive,
    Burgers,
    FixedStepETDRK4,
    Grid1d,
    KortewegDeVries,
    KuramotoSivashinsky,
    SolveStatus,
    SpectralDiagonal,
    semilinear_terms,
    solve,
    solve_batch,
)
from pdessl.solvers._terms import pack


def _sines(grid, rng, n):
    x = np.asarray(grid.x)
    a = rng.uniform(-0.5, 0.5, size=(n, 3))
    return np.stack(
        [
            sum(a[i, j] * np.sin(2 * np.pi * (j + 1) * x / 20.0) for j in range(3))
            for i in range(n)
        ]
    )


def test_batch_over_viscosity_length_and_horizon_matches_single_solves(rng):
    nu = np.array([0.02, 0.05, 0.1])
    length = np.array([18.0, 20.0, 22.0])
    t1 = np.array([1.5, 2.0, 2.5])
    u0 = _sines(Grid1d(64, 20.0), rng, 3)
    stepping = FixedStepETDRK4(10)
    batch = solve_batch(Burgers(nu), Grid1d(64, length), u0, t1, 6, stepping=stepping)
    assert batch.u.shape == (3, 6, 64) and batch.ts.shape == (3, 6)
    for i in range(3):
        one = solve(
            Burgers(nu[i]), Grid1d(64, length[i]), u0[i], t1[i], 6, stepping=stepping
        )
        # Same arithmetic, batched: only FFT round-off ordering may differ.
        np.testing.assert_allclose(batch.u[i], one.u, rtol=0, atol=1e-12)
        np.testing.assert_allclose(batch.ts[i], np.linspace(0, t1[i], 6), rtol=1e-15)
    assert np.all(np.asarray(batch.status) == SolveStatus.SUCCESS)


def test_new_parameter_values_do_not_recompile(rng):
    u0 = _sines(Grid1d(32, 20.0), rng, 2)
    grid = Grid1d(32, 20.0)
    stepping = FixedStepETDRK4(2)
    solve_batch(Burgers(np.array([0.1, 0.2])), grid, u0, 1.0, 3, stepping=stepping)
    with jax.log_compiles():
        import logging

        records = []
        handler = logging.Handler()
        handler.emit = records.append
        logger = logging.getLogger("jax")
        logger.addHandler(handler)
        try:
            solve_batch(
                Burgers(np.array([0.3, 0.4])), grid, u0 + 1.0, 2.0, 3, stepping=stepping
            )
        finally:
            logger.removeHandler(handler)
    compiles = [r for r in records if "Compiling" in r.getMessage()]
    assert not compiles, [r.getMessage()[:120] for r in compiles]


def test_blown_up_sample_is_reported_and_not_returned_as_data():
    grid = Grid1d(64, 2 * np.pi)
    x = np.asarray(grid.x)
    # Sample 1 violates any stability limit (|u| dt / dx ~ 500) and overflows.
    u0 = np.stack([0.1 * np.sin(x), 50.0 * np.sin(x)])
    sol = solve_batch(Burgers(1e-4), grid, u0, 10.0, 11, stepping=FixedStepETDRK4(1))
    status = np.asarray(sol.status)
    assert status[0] == SolveStatus.SUCCESS
    assert status[1] == SolveStatus.NON_FINITE
    assert np.all(np.isfinite(sol.u[0]))
    assert np.all(np.isnan(sol.u[1]))
    # throw=True (as in Diffrax) raises instead, from inside the jitted batch solve;
    # the same batch without the bad sample passes.
    with pytest.raises(eqx.EquinoxRuntimeError, match="NON_FINITE"):
        solve_batch(
            Burgers(1e-4), grid, u0, 10.0, 11, stepping=FixedStepETDRK4(1), throw=True
        )
    ok = solve_batch(
        Burgers(1e-4), grid, u0[:1], 10.0, 11, stepping=FixedStepETDRK4(1), throw=True
    )
    assert np.all(np.isfinite(ok.u))


def test_adaptive_out_of_steps_is_reported():
    grid = Grid1d(32, 22.0)
    u0 = np.sin(2 * np.pi * np.asarray(grid.x) / 22.0)
    sol = solve(
        KuramotoSivashinsky(),
        grid,
        u0,
        10.0,
        3,
        stepping=Adaptive(rtol=1e-6, atol=1e-9, max_steps=5),
    )
    assert int(sol.status) == SolveStatus.MAX_STEPS_REACHED
    assert np.all(np.isnan(sol.u))
    with pytest.raises(eqx.EquinoxRuntimeError, match="MAX_STEPS_REACHED"):
        eqx.filter_jit(solve)(
            KuramotoSivashinsky(),
            grid,
            u0,
            10.0,
            3,
            stepping=Adaptive(rtol=1e-6, atol=1e-9, max_steps=5),
            throw=True,
        )


def test_etdrk4_refuses_steps_it_has_no_coefficients_for():
    grid = Grid1d(16, 2 * np.pi)
    terms = semilinear_terms(KuramotoSivashinsky(), grid)
    y0 = pack(grid.to_spectral(jnp.sin(grid.x)))
    sol = diffrax.diffeqsolve(
        terms, ETDRK4(step_size=0.1), 0.0, 1.0, dt0=0.05, y0=y0, throw=False
    )
    assert sol.result == diffrax.RESULTS.internal_error


def test_spectral_diagonal_matches_dense_lu_for_dispersive_operator(rng):
    grid = Grid1d(32, 10.0)
    linear = semilinear_terms(KortewegDeVries(), grid).terms[1].vector_field
    y = jnp.asarray(rng.standard_normal((2, 17)))
    # The operator an implicit stage inverts: I - c h Lambda.
    op = lx.linearise(
        lx.JacobianLinearOperator(lambda f, _: f - 0.07 * linear(0.0, f, None), y)
    )
    b = jnp.asarray(rng.standard_normal((2, 17)))
    ours = lx.linear_solve(op, b, SpectralDiagonal()).value
    dense = lx.linear_solve(op, b, lx.LU()).value
    # Both are direct solves of a well-conditioned system: agreement to round-off.
    np.testing.assert_allclose(ours, dense, atol=1e-12)


@pytest.mark.parametrize(
    ("u0", "match"),
    [
        (np.zeros((2, 31)), "shape"),
        (np.zeros(32), "shape"),
        (np.full((2, 32), np.nan), "non-finite"),
    ],
)
def test_batch_rejects_bad_initial_conditions(u0, match):
    with pytest.raises(ValueError, match=match):
        solve_batch(KuramotoSivashinsky(), Grid1d(32), u0, 1.0, 3)


def test_batch_rejects_mismatched_parameter_batch():
    with pytest.raises(ValueError, match="leading size 3"):
        solve_batch(Burgers(np.ones(3)), Grid1d(32), np.zeros((2, 32)), 1.0, 3)


@pytest.mark.parametrize("t1", [0.0, -1.0, np.inf])
def test_rejects_bad_horizon(t1):
    with pytest.raises(ValueError, match="t1"):
        solve_batch(KuramotoSivashinsky(), Grid1d(32), np.zeros((1, 32)), t1, 3)


def test_rejects_negative_viscosity_in_a_batch():
    with pytest.raises(ValueError, match="viscosity"):
        Burgers(np.array([0.1, -0.2]))


def test_rejects_bad_save_grid():
    with pytest.raises(ValueError, match="discard_first"):
        solve(KuramotoSivashinsky(), Grid1d(32), np.zeros(32), 1.0, 5, discard_first=5)
    with pytest.raises(ValueError, match="num_saves"):
        solve(KuramotoSivashinsky(), Grid1d(32), np.zeros(32), 1.0, 1)


@pytest.mark.parametrize(("steps_per_save", "num_saves"), [(3, 11), (8, 500), (7, 13)])
def test_fixed_step_takes_exactly_the_planned_steps(steps_per_save, num_saves):
    # Round-off in the step times must neither add sliver steps nor trip the
    # ETDRK4 step-size check.
    grid = Grid1d(16, 1.0)
    sol = solve(
        KuramotoSivashinsky(),
        grid,
        np.sin(2 * np.pi * np.asarray(grid.x)),
        2.0,
        num_saves,
        discard_first=num_saves // 3,
        stepping=FixedStepETDRK4(steps_per_save),
    )
    assert int(sol.status) == SolveStatus.SUCCESS
    assert int(sol.num_steps) == (num_saves - 1) * steps_per_save
    assert sol.u.shape == (num_saves - num_saves // 3, 16)


def test_float32_stepping_is_not_flagged_as_a_step_size_mismatch():
    # The ETDRK4 step-size check must use the dtype's round-off: in float32 (the
    # PDESSL_NO_X64=1 opt-out) step times carry ~6e-8 relative error. Run in a fresh
    # process, since x64 is a process-wide switch.
    import os
    import subprocess
    import sys

    code = (
        "import numpy as np, pdessl.solvers as S;"
        "g = S.Grid1d(32, 22.0);"
        "u0 = np.sin(2 * np.pi * np.asarray(g.x) / 22.0);"
        "s = S.solve(S.KuramotoSivashinsky(), g, u0, 10.0, 11,"
        " stepping=S.FixedStepETDRK4(8));"
        "print(int(s.status), int(s.num_steps), s.u.dtype)"
    )
    env = dict(os.environ, PDESSL_NO_X64="1")
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == ["0", "80", "float32"]


def test_odd_contour_point_counts_are_refused():
    from pdessl.solvers import etdrk4_coefficients

    with pytest.raises(ValueError, match="even"):
        etdrk4_coefficients(jnp.array([1.0]), 1.0, 33)


def test_single_solve_input_errors():
    grid = Grid1d(16, 5.0)
    with pytest.raises(ValueError, match="non-finite"):
        solve(KuramotoSivashinsky(), grid, np.full(16, np.nan), 1.0, 3)
    with pytest.raises(ValueError, match="solve_batch"):
        solve(Burgers(np.array([0.1, 0.2])), grid, np.zeros(16), 1.0, 3)
    with pytest.raises(ValueError, match="t1 must be a scalar"):
        solve(KuramotoSivashinsky(), grid, np.zeros(16), np.ones(2), 3)
    with pytest.raises(ValueError, match="one horizon per sample"):
        solve_batch(KuramotoSivashinsky(), grid, np.zeros((2, 16)), np.ones(3), 3)
