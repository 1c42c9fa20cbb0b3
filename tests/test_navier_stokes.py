"""2-D Navier–Stokes with buoyant smoke against exact solutions and invariants."""

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pdessl import solvers as S
from pdessl import symmetries as SYM

NU, KAPPA = 0.05, 0.02


def _grid(n=32):
    g = S.Grid2d((n, n), (2 * np.pi, 2 * np.pi))
    x, y = (np.asarray(a) for a in g.xy)
    return g, x, y


def rel(a, b):
    return float(np.linalg.norm(np.asarray(a) - b) / np.linalg.norm(b))


def test_taylor_green_decay():
    g, x, y = _grid()
    ns = S.NavierStokes2d(NU, KAPPA, 0.0)
    sol = S.solve_navier_stokes(
        ns, g, 0 * x, 2.0, 5, vorticity0=-2 * np.cos(x) * np.cos(y)
    )
    f = np.exp(-2 * NU * np.asarray(sol.ts))[:, None, None]
    assert int(sol.status) == 0
    # Adaptive Tsit5 at rtol 1e-6 on an exponential decay: the global error stays
    # near the tolerance; measured 1.7e-10 (the advection of TG vorticity vanishes).
    assert rel(sol.vx, np.cos(x) * np.sin(y) * f) <= 1e-6
    assert rel(sol.vy, -np.sin(x) * np.cos(y) * f) <= 1e-6
    p = -0.25 * (np.cos(2 * x) + np.cos(2 * y)) * f**2
    assert rel(sol.pressure, p) <= 1e-6


def test_exact_linear_buoyancy_shear():
    g, x, _ = _grid()
    b, k, s0 = 0.4, 2.0, 0.7
    ns = S.NavierStokes2d(NU, KAPPA, b)
    sol = S.solve_navier_stokes(
        ns,
        g,
        s0 * np.cos(k * x),
        3.0,
        7,
        stepping=S.Adaptive(rtol=1e-10, atol=1e-12, solver=diffrax.Tsit5()),
    )
    t = np.asarray(sol.ts)[:, None, None]
    decay = np.exp(-KAPPA * k**2 * t)
    smoke = s0 * np.cos(k * x) * decay
    vy = (
        b
        * s0
        * np.cos(k * x)
        * (decay - np.exp(-NU * k**2 * t))
        / ((NU - KAPPA) * k**2)
    )
    # s depends on x only and v = (0, vy(x)) is along y: advection vanishes exactly and
    # the system is linear. rtol 1e-10 leaves ~1e-10 of time error; the 1e-8
    # has 100x margin.
    assert rel(sol.smoke, smoke) <= 1e-8
    assert rel(sol.vy[1:], vy[1:]) <= 1e-8
    assert float(np.abs(sol.vx).max()) <= 1e-12


@pytest.fixture(scope="module")
def plume():
    g, _, _ = _grid(48)
    ns = S.NavierStokes2d(0.01, 0.01, 0.5)
    s0 = S.sample_smoke(jax.random.key(0), g, correlation_length=0.6)
    sol = S.solve_navier_stokes(ns, g, s0, 8.0, 33)
    return g, ns, s0, sol


def test_divergence_free_and_smoke_conserved(plume):
    g, _, s0, sol = plume
    assert int(sol.status) == 0
    div = jax.vmap(
        lambda a, b: g.to_physical(
            g.derivative((1, 0)) * g.to_spectral(a)
            + g.derivative((0, 1)) * g.to_spectral(b)
        )
    )(sol.vx, sol.vy)
    grad = jnp.abs(
        jax.vmap(lambda a: g.to_physical(g.derivative((1, 0)) * g.to_spectral(a)))(
            sol.vx
        )
    ).max()
    # The velocity comes from a streamfunction: divergence is FFT round-off.
    assert float(jnp.abs(div).max()) <= 1e-12 * max(float(grad), 1.0)
    total = np.asarray(sol.smoke).sum(axis=(1, 2))
    # Conservative advection + dealiasing keep the k=0 mode fixed: round-off only.
    np.testing.assert_allclose(total, np.asarray(s0).sum(), rtol=1e-12)
    assert float(np.abs(sol.vy).max()) > 1e-2  # the smoke did drive a flow


def test_batched_over_buoyancy(plume):
    g, _, s0, _ = plume
    b = jnp.array([0.2, 0.5])
    batch = jax.jit(
        jax.vmap(
            lambda bb, s: S.solve_navier_stokes(
                S.NavierStokes2d(0.01, 0.01, bb), g, s, 2.0, 3
            )
        )
    )(b, jnp.stack([s0, s0]))
    one = S.solve_navier_stokes(S.NavierStokes2d(0.01, 0.01, 0.5), g, s0, 2.0, 3)
    np.testing.assert_allclose(batch.smoke[1], one.smoke, atol=1e-10)
    assert not np.allclose(batch.vy[0], batch.vy[1])


def test_symmetries_keep_solver_output_a_solution():
    # Issue 5 on our own NS output: regridded boosts / shifts / scaling, residual
    # either preserved or converging at 4th order when the save step halves.
    g, _, _ = _grid(32)
    ns = S.NavierStokes2d(0.05, 0.05, 0.5)
    s0 = S.sample_smoke(jax.random.key(1), g, correlation_length=1.0)
    stepping = S.Adaptive(rtol=1e-11, atol=1e-12, solver=diffrax.Tsit5())

    def field(refine):
        sol = S.solve_navier_stokes(ns, g, s0, 2.0, 40 * refine + 1, stepping=stepping)
        # The mean buoyancy b <s> is balanced by a uniform hydrostatic pressure
        # gradient, which is not periodic and so not part of `pressure`.
        hydrostatic = jnp.stack(
            [jnp.zeros(sol.smoke.shape[0]), 0.5 * sol.smoke.mean(axis=(1, 2))], axis=1
        )
        return SYM.GridField2d(
            {"vx": sol.vx, "vy": sol.vy, "p": sol.pressure, "s": sol.smoke},
            0.0,
            2.0 / (40 * refine),
            g.dx,
            g.dy,
            mean_pressure_gradient=hydrostatic,
        )

    fields = {m: field(m) for m in (1, 2)}
    kw = dict(buoyancy=0.5, diffusivity=0.05)
    r0 = float(SYM.relative_residual_ns(fields[1], 0.05, **kw))
    assert r0 < 1e-4
    for gen in (
        SYM.SpaceShift(1.0, axis="x"),
        SYM.NSScaling(1.0),
        SYM.LinearBoost(1.0, axis="y"),
        SYM.QuadraticBoost(1.0, axis="x"),
    ):
        r = [
            float(
                SYM.relative_residual_ns(SYM.regrid2d(gen, 0.1, fields[m]), 0.05, **kw)
            )
            for m in (1, 2)
        ]
        assert r[0] <= 2 * r0 or r[1] <= r[0] / 10, (gen.name, r, r0)
    wrong = SYM.regrid2d(SYM.LinearBoost(1.0, axis="y"), 0.3, fields[2])
    wrong = SYM.GridField2d(
        dict(wrong.values, vy=wrong.values["vy"] - 0.3),
        wrong.t0,
        wrong.dt,
        wrong.dx,
        wrong.dy,
    )
    assert float(SYM.relative_residual_ns(wrong, 0.05, **kw)) > 100 * r0


def test_bad_inputs():
    g, x, _ = _grid(16)
    with pytest.raises(ValueError, match="smoke0 has shape"):
        S.solve_navier_stokes(S.NavierStokes2d(), g, np.zeros((8, 8)), 1.0, 3)
    with pytest.raises(ValueError, match="viscosity"):
        S.NavierStokes2d(viscosity=0.0)
    with pytest.raises(ValueError, match="t1"):
        S.solve_navier_stokes(S.NavierStokes2d(), g, 0 * x, -1.0, 3)
