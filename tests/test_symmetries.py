"""Symmetries on solver output (regridded), identity, inverses, Lie–Trotter order,
batching, and configuration errors."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pdessl import pdes as P
from pdessl import solvers
from pdessl import symmetries as S


def _solution(pde, length, nx=64, t1=4.0, saves=81, seed=0):
    """A solver trajectory sampled finely in time (for 4th-order time differences)."""
    grid = solvers.Grid1d(nx, length)
    u0 = solvers.sample_sine_series(jax.random.key(seed), num_modes=4)(grid)
    sol = solvers.solve(pde, grid, u0, t1, saves, stepping=solvers.FixedStepETDRK4(20))
    dt = t1 / (saves - 1)
    return S.GridField1d(sol.u, jnp.asarray(0.0), jnp.asarray(dt), grid.dx)


CASES = {
    "ks": (solvers.KuramotoSivashinsky(), 22.0),
    "kdv": (solvers.KortewegDeVries(), 32.0),
    "burgers": (solvers.Burgers(0.1), 2 * np.pi),
}


def _regriddable(pde_name):
    return [g for g in P.default_generators(pde_name) if g.regriddable] + [
        S.TimeShift(2.0)
    ]


@pytest.mark.parametrize("pde_name", list(CASES))
def test_regridded_generators_keep_solver_output_a_solution(pde_name):
    pde, length = CASES[pde_name]
    field = _solution(pde, length)
    r0 = float(S.relative_residual(pde, field))
    # r0 is the 4th-order time-difference error of the data (dt = 0.05): 1e-6..1e-4.
    assert r0 < 1e-3
    for gen in _regriddable(pde_name):
        eps = 0.8 * gen.strength
        out = S.regrid(gen, eps, field, crop_time=60)
        r = float(S.relative_residual(pde, out))
        # Exact maps keep the residual at the data's own level (2x for margin; the
        # residual is relative to |u_t|, which scalings rescale like every term).
        assert r <= 2 * r0, (gen.name, r, r0)
        assert not np.allclose(out.u[:10], field.u[:10]) or gen.name == "scaling"


@pytest.mark.parametrize("pde_name", list(CASES))
def test_negative_control_wrong_regridded_boost(pde_name):
    pde, length = CASES[pde_name]
    field = _solution(pde, length)
    r0 = float(S.relative_residual(pde, field))
    eps = 0.3
    # Galilean boost with the velocity shifted the wrong way.
    wrong = S.fourier_shift(field.u, eps * field.t, field.length) - eps
    r = float(
        S.relative_residual(pde, S.GridField1d(wrong, field.t0, field.dt, field.dx))
    )
    assert r > 10 * r0 and r > 1e-3


def test_regrid_matches_the_point_map():
    # The regridded field at grid point (t', x') equals the point map applied to the
    # pre-image: for the boost, u~(t, x) = u(t, x - eps t) + eps, checked against a
    # band-limited field evaluated exactly off the grid.
    nx, length = 32, 7.0
    t = jnp.linspace(0.0, 2.0, 5)
    x = jnp.arange(nx) * length / nx

    def u(t, x):
        return jnp.sin(2 * jnp.pi * x / length + t) + 0.3 * jnp.cos(
            6 * jnp.pi * x / length
        )

    tt, xx = jnp.meshgrid(t, x, indexing="ij")
    field = S.GridField1d(u(tt, xx), t[0], t[1] - t[0], x[1] - x[0])
    eps = 0.37
    out = S.regrid(S.GalileanBoost(1.0), eps, field)
    gen = S.GalileanBoost(1.0)
    pre = gen(-eps, {"t": tt, "x": xx, "u": jnp.zeros_like(tt)})
    expected = gen(eps, {"t": pre["t"], "x": pre["x"], "u": u(pre["t"], pre["x"])})["u"]
    # Fourier shift of a band-limited row is exact up to FFT round-off.
    np.testing.assert_allclose(out.u, expected, atol=1e-12)


def test_not_regriddable_generators_are_refused():
    field = S.GridField1d(
        jnp.zeros((5, 8)), jnp.asarray(0.0), jnp.asarray(0.1), jnp.asarray(0.5)
    )
    with pytest.raises(S.NotRegriddableError, match="coordinate-channel"):
        S.regrid(S.Projective(0.01), 0.01, field)
    aug = P.default_augmentation("burgers")
    with pytest.raises(S.NotRegriddableError, match="projective"):
        aug.apply_regridded(aug.sample(jax.random.key(0)), field)
    with pytest.raises(ValueError, match="crop_time"):
        S.regrid(S.TimeShift(1.0), 0.3, field)


def _kdv_points(seed=0, n=50):
    rng = np.random.default_rng(seed)
    return {
        "t": jnp.asarray(rng.uniform(0, 5, n)),
        "x": jnp.asarray(rng.uniform(0, 30, n)),
        "u": jnp.asarray(rng.standard_normal(n)),
        "L": jnp.asarray(30.0),
    }


@pytest.mark.parametrize("order", [1, 2, 4])
def test_identity_at_zero(order):
    aug = P.default_augmentation("kdv", trotter_order=order)
    p = _kdv_points()
    out = aug.apply(jnp.zeros(len(aug.generators)), p)
    for k in ("t", "x", "u"):
        np.testing.assert_array_equal(out[k], p[k])


@pytest.mark.parametrize("order", [2, 4])
def test_symmetric_products_are_inverted_by_negating(order):
    aug = P.default_augmentation("burgers", trotter_order=order, trotter_steps=3)
    p = _kdv_points()
    p["t"] = p["t"] / 10  # projective needs 1 - eps t > 0
    eps = aug.sample(jax.random.key(1))
    back = aug.apply(-eps, aug.apply(eps, p))
    for k in ("t", "x", "u"):
        # A handful of exp/mul per step: round-off of the values' size.
        np.testing.assert_allclose(back[k], p[k], atol=1e-12)


def test_regridded_inverse():
    field = _solution(*CASES["kdv"])
    gens = [
        S.SpaceShift(1.0),
        S.GalileanBoost(1.0),
        S.Scaling(1.0, exponents=(3, 1, -2)),
    ]
    for g in gens:
        back = S.regrid(g, -0.3, S.regrid(g, 0.3, field))
        # Two Fourier shifts (or exp scalings) of |u| <= 1: round-off, eps log N;
        # measured <= 6.1e-16, so 1e-14 leaves a factor 16.
        np.testing.assert_allclose(back.u, field.u, rtol=0, atol=1e-14)
        # dx * exp(0.3) * exp(-0.3): a couple of roundings (measured exact).
        np.testing.assert_allclose(back.dx, field.dx, rtol=1e-15)


def _exact_flow(gens, eps, p):
    """exp(sum eps_i X_i) by integrating the summed infinitesimal generator, with X_i
    obtained by differentiating the group action at 0 (independent of the products)."""
    keys = ("t", "x", "u")

    def field(tau, y, args):
        point = dict(zip(keys, y, strict=True), L=p["L"])
        total = [jnp.zeros_like(v) for v in y]
        for g, e in zip(gens, eps, strict=True):
            _, tangent = jax.jvp(lambda s, g=g: g(s, point), (0.0,), (1.0,))
            total = [a + e * tangent[k] for a, k in zip(total, keys, strict=True)]
        return tuple(total)

    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(field),
        diffrax.Dopri8(),
        0.0,
        1.0,
        0.01,
        tuple(p[k] for k in keys),
        stepsize_controller=diffrax.PIDController(rtol=1e-13, atol=1e-13),
    )
    return {k: v[-1] for k, v in zip(keys, sol.ys, strict=True)}


@pytest.mark.parametrize(("order", "minimum"), [(1, 0.9), (2, 1.8), (4, 3.6)])
def test_lie_trotter_converges_at_its_order(order, minimum):
    # Galilean boost and KdV scaling do not commute, so the product differs from the
    # exponential of the sum at O(h^order).
    gens = (S.GalileanBoost(1.0), S.Scaling(1.0, exponents=(3, 1, -2)))
    eps = jnp.array([0.6, 0.4])
    p = _kdv_points()
    exact = _exact_flow(gens, eps, p)
    errors = []
    steps = (2, 4, 8)
    for n in steps:
        out = S.Augmentation(gens, trotter_order=order, trotter_steps=n).apply(eps, p)
        errors.append(max(float(jnp.max(jnp.abs(out[k] - exact[k]))) for k in exact))
    rate = -np.polyfit(np.log(steps), np.log(errors), 1)[0]
    # Asymptotic orders 1, 2, 4; 10 % below allows for the pre-asymptotic first point.
    assert rate >= minimum, (errors, rate)
    assert errors[-1] > 1e-13  # still above round-off, so the rate is meaningful


def test_batched_sample_and_apply_under_jit_and_vmap():
    aug = P.default_augmentation("ks")
    field = _solution(*CASES["ks"])
    points = S.grid_points(field.u, field.t0, field.dt, field.dx)
    batch = jax.tree.map(lambda a: jnp.stack([a] * 4), points)
    keys = jax.random.split(jax.random.key(0), 4)

    @jax.jit
    def augment(keys, batch):
        eps = jax.vmap(aug.sample)(keys)
        out = jax.vmap(aug.apply)(eps, batch)
        return eps, jax.vmap(S.coordinate_channels)(out)

    eps, channels = augment(keys, batch)
    assert channels.shape == (4, 3, *field.u.shape)
    assert eps.shape == (4, len(aug.generators))
    assert len({tuple(np.asarray(e)) for e in eps}) == 4  # one draw per sample
    # Strengths within the declared ranges.
    s = np.array([g.strength for g in aug.generators])
    assert np.all(np.abs(np.asarray(eps)) <= s)
    one = aug.apply(eps[2], points)
    # The same float64 operations on |u| < 2, jitted and vmapped or not: XLA may fuse
    # or contract them differently, round-off ~1e-15 (measured 0 on CPU).
    np.testing.assert_allclose(channels[2, 2], one["u"], atol=1e-12)


def test_regridded_augmentation_batched():
    aug = P.default_augmentation("kdv")
    field = _solution(*CASES["kdv"])
    fields = jax.tree.map(lambda a: jnp.stack([a] * 3), field)
    eps = jax.vmap(aug.sample)(jax.random.split(jax.random.key(3), 3))
    out = jax.jit(jax.vmap(lambda e, f: aug.apply_regridded(e, f)))(eps, fields)
    assert out.u.shape == (3, *field.u.shape)
    for i in range(3):
        one = S.GridField1d(out.u[i], out.t0[i], out.dt[i], out.dx[i])
        r = float(S.relative_residual(solvers.KortewegDeVries(), one))
        assert r <= 2 * float(S.relative_residual(solvers.KortewegDeVries(), field))


def test_invalid_strengths_are_refused_under_jit():
    aug = S.Augmentation((S.TimeShift(1.0), S.SpaceShift(0.5), S.GalileanBoost(0.4)))
    field = _solution(*CASES["kdv"])
    points = S.grid_points(field.u, field.t0, field.dt, field.dx)
    good = jnp.zeros(len(aug.generators))
    apply = eqx.filter_jit(aug.apply)
    regridded = eqx.filter_jit(
        lambda e, f: aug.apply_regridded(e, f, field.u.shape[0] - 2)
    )
    apply(good, points)
    regridded(good, field)
    for eps in (good.at[1].set(jnp.nan), good.at[1].set(jnp.inf)):
        with pytest.raises(eqx.EquinoxRuntimeError, match="non-finite"):
            apply(eps, points)
        with pytest.raises(eqx.EquinoxRuntimeError, match="finite"):
            regridded(eps, field)
    # On the grid a negative time shift would silently become no shift.
    with pytest.raises(eqx.EquinoxRuntimeError, match="time shifts"):
        regridded(good.at[0].set(-field.dt), field)
    # The sampling ranges are static: refused when the generator is made.
    for bad in (-0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="strength must be a finite number"):
            S.GalileanBoost(bad)


def test_defaults_and_overrides():
    names = P.default_augmentation("ns").names
    assert names == (
        "space_shift_x",
        "space_shift_y",
        "scaling",
        "rotation",
        "linear_boost_x",
        "linear_boost_y",
        "quadratic_boost_x",
        "quadratic_boost_y",
    )
    aug = P.default_augmentation("ks", galilean_boost=0.1, time_shift=2.0)
    assert [g.strength for g in aug.generators] == [2.0, 0.5, 0.1]
    assert P.default_augmentation("kdv", scaling=0).names == (
        "space_shift_x",
        "galilean_boost",
    )
    with pytest.raises(ValueError, match="unknown generator"):
        P.default_generators("ks", scaling=0.1)
    with pytest.raises(ValueError, match="unknown PDE"):
        P.default_generators("heat2")
    with pytest.raises(ValueError, match=">= 0"):
        P.default_generators("ks", galilean_boost=-1.0)
    with pytest.raises(ValueError, match="trotter_order"):
        S.Augmentation((S.GalileanBoost(0.1),), trotter_order=3)
    with pytest.raises(ValueError, match="shape"):
        S.Augmentation((S.GalileanBoost(0.1),)).apply(jnp.zeros(2), _kdv_points())


def test_cole_hopf_superposition_is_a_burgers_solution():
    nu, length, nx = 0.1, 2 * np.pi, 64
    x = np.arange(nx) * length / nx
    t = np.linspace(0.0, 2.0, 81)
    heats = [
        solvers.TrigonometricHeatSolution(
            2.0, [0.7, 0.2], [0.3, -0.5], [1, 2], nu, length
        ),
        solvers.TrigonometricHeatSolution(
            3.0, [-1.0, 0.6], [0.8, 0.1], [1, 3], nu, length
        ),
    ]
    psi = [np.stack([np.asarray(h.psi(x, ti)) for ti in t]) for h in heats]
    u = [np.stack([np.asarray(h.burgers(x, ti)) for ti in t]) for h in heats]
    dt, dx = t[1] - t[0], x[1] - x[0]
    burgers = solvers.Burgers(nu)

    def residual(field):
        return float(S.relative_residual(burgers, S.GridField1d(field, 0.0, dt, dx)))

    mixed = S.heat_superposition(psi[0], psi[1], 0.4, nu, dx)
    r_mixed, r_single = residual(mixed), residual(u[0])
    # Each input is exact; the residual is the 4th-order time difference (dt = 0.025).
    assert r_mixed <= 2 * max(r_single, residual(u[1]))
    assert r_mixed < 1e-5
    # Negative control: mixing the velocities instead of the heat fields is not a
    # solution (Burgers is nonlinear).
    assert residual(0.6 * u[0] + 0.4 * u[1]) > 1e-3
    # alpha = 0 gives back the first trajectory.
    np.testing.assert_allclose(
        S.heat_superposition(psi[0], psi[1], 0.0, nu, dx), u[0], atol=1e-12
    )
