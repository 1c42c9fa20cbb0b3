"""The free-slip box stepped on its own sine/cosine coefficients: the transforms
against SciPy, the spectral operators against analytic series, and the solver
against the doubled-domain formulation it replaces."""

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.fft as sf

from pdessl import solvers as S
from pdessl.solvers import _free_slip as FS
from pdessl.solvers import _navier_stokes as NSM
from pdessl.solvers import _navier_stokes_box as NSB
from pdessl.solvers import _sine_cosine as T
from pdessl.solvers._solve import _save_fractions, integrate
from pdessl.solvers._terms import DiagonalLinearField, pack

KINDS = [(a, b) for a in T.KINDS for b in T.KINDS]


def _scipy_forward(x, kinds):
    for axis, kind in zip((-2, -1), kinds, strict=True):
        x = (sf.dct if kind == T.COS else sf.dst)(x, type=2, norm="ortho", axis=axis)
    return x


def _scipy_inverse(c, kinds):
    for axis, kind in zip((-2, -1), kinds, strict=True):
        c = (sf.dct if kind == T.COS else sf.dst)(c, type=3, norm="ortho", axis=axis)
    return c


@pytest.mark.parametrize("kinds", KINDS)
@pytest.mark.parametrize("shape", [(4, 4), (8, 6), (3, 16, 32)])
def test_transforms_match_scipy(kinds, shape, rng):
    x = rng.normal(size=shape)
    c = rng.normal(size=shape)
    # Both sides sum n <= 32 terms of size O(1) per axis in float64 (FFT vs SciPy's
    # own FFT-based transforms): measured <= 1.8e-15; 1e-13 is ~50x that, far below
    # any indexing, sign or scaling error (O(1)).
    np.testing.assert_allclose(
        T.forward(x, kinds), _scipy_forward(x, kinds), atol=1e-13
    )
    np.testing.assert_allclose(
        T.inverse(c, kinds), _scipy_inverse(c, kinds), atol=1e-13
    )
    np.testing.assert_allclose(T.inverse(T.forward(x, kinds), kinds), x, atol=1e-13)


def test_transforms_reject_bad_input():
    with pytest.raises(ValueError, match="kinds must be two of"):
        T.forward(np.zeros((4, 4)), ("cos", "sine"))
    with pytest.raises(ValueError, match="even length"):
        T.inverse(np.zeros((5, 4)), (T.COS, T.SIN))


def _box(n=(8, 6), lengths=(3.0, 2.0)):
    g = S.Grid2d(n, lengths)
    x = (np.arange(n[0]) + 0.5) * lengths[0] / n[0]
    y = (np.arange(n[1]) + 0.5) * lengths[1] / n[1]
    x, y = np.meshgrid(x, y, indexing="ij")
    return FS.FreeSlipBox(g), x, y


def test_box_derivatives_of_single_modes():
    box, x, y = _box()
    (lx, ly), nx = (3.0, 2.0), 8
    for m in range(nx + 1):
        kx = np.pi * m / lx
        cos_x = np.cos(kx * x) * np.sin(np.pi * y / ly)  # (cos, sin) series
        sin_x = np.sin(kx * x) * np.cos(2 * np.pi * y / ly)  # (sin, cos) series
        d_cos = box.derivative(T.forward(cos_x, (T.COS, T.SIN)), 0, T.COS)
        d_sin = box.derivative(T.forward(sin_x, (T.SIN, T.COS)), 0, T.SIN)
        if m < nx:  # cos(pi n x / L) vanishes at every centre: no such cosine mode
            want = -kx * np.sin(kx * x) * np.sin(np.pi * y / ly)
            got = T.inverse(d_cos, (T.SIN, T.SIN))
            np.testing.assert_allclose(got, want, atol=1e-13)  # round-off, O(1) terms
        if m > 0:  # the sine mode n has derivative cos(pi (i + 1/2)) = 0 there
            want = kx * np.cos(kx * x) * np.cos(2 * np.pi * y / ly)
            got = T.inverse(d_sin, (T.COS, T.COS))
            np.testing.assert_allclose(got, want, atol=1e-13)
    # y derivative of a (cos, cos) mode, and the Laplacian's eigenvalue.
    f = np.cos(2 * np.pi * x / lx) * np.cos(3 * np.pi * y / ly)
    d = T.inverse(
        box.derivative(T.forward(f, (T.COS, T.COS)), 1, T.COS), (T.COS, T.SIN)
    )
    want = -3 * np.pi / ly * np.cos(2 * np.pi * x / lx) * np.sin(3 * np.pi * y / ly)
    np.testing.assert_allclose(d, want, atol=1e-13)
    lap = box.laplacian((T.COS, T.COS))[2, 3]
    np.testing.assert_allclose(lap, -((2 * np.pi / lx) ** 2 + (3 * np.pi / ly) ** 2))


@pytest.mark.parametrize(
    "parity", [FS.VORTICITY_PARITY, FS.SMOKE_PARITY, FS.VX_PARITY, FS.VY_PARITY]
)
def test_doubled_images_are_the_doubled_spectrum(parity, rng):
    box, _, _ = _box()
    (nx, ny), kinds = (8, 6), FS.kinds(parity)
    c = rng.normal(size=(nx, ny))
    want = np.asarray(box.to_doubled_spectrum(c, parity))  # via FFT of the mirror
    # Place each mode's images by hand: mode m along x sits at +m and 2nx - m.
    mx = np.arange(nx) + (0 if kinds[0] == T.COS else 1)
    my = np.arange(ny) + (0 if kinds[1] == T.COS else 1)
    w = box.doubled_images(parity)
    got = np.zeros((2 * nx, ny + 1), complex)
    for j, rows in enumerate([mx, (2 * nx - mx) % (2 * nx)]):
        # A mode with a single image (m = 0, or the sine mode nx) has zero weights
        # for its second one, so adding it there changes nothing.
        vals = (w[2 * j] + 1j * w[2 * j + 1]) * c
        np.add.at(got, (rows[:, None], my[None, :]), vals)
    # FFT round-off on O(1) values (16 x 7 coefficients): ~1e-15; 1e-13 leaves
    # ~100x, while a wrong phase or index is O(1).
    np.testing.assert_allclose(got, want, atol=1e-13)
    # And the error view's norm is the root mean square of the packed doubled state.
    view = NSB.DoubledErrorView(box, packed=False)
    state = np.stack([c, c])
    doubled = np.stack(
        [
            box.to_doubled_spectrum(c, FS.VORTICITY_PARITY),
            box.to_doubled_spectrum(c, FS.SMOKE_PARITY),
        ]
    )
    rms_view = np.sqrt(np.sum(np.asarray(view(state)) ** 2) / view.size)
    rms_doubled = np.sqrt(np.mean(np.asarray(pack(jnp.asarray(doubled))) ** 2))
    np.testing.assert_allclose(rms_view, rms_doubled, rtol=1e-13)


def test_box_rhs_is_the_doubled_domain_rhs(rng):
    # A random state with energy in every mode (including those the 2/3 rule
    # drops), evaluated by the new right-hand side and by the doubled-domain one.
    box, _, _ = _box((16, 12), (5.0, 3.0))
    ns = S.NavierStokes2d(0.03, 0.02, 0.7)
    c = jnp.asarray(rng.normal(size=(2, 16, 12)))
    new = NSB.BoxBoussinesqNonlinear(ns, box, jnp.asarray(1.5)).on_coefficients(c)
    d = box.doubled
    z = jnp.stack(
        [
            box.to_doubled_spectrum(c[0], FS.VORTICITY_PARITY),
            box.to_doubled_spectrum(c[1], FS.SMOKE_PARITY),
        ]
    )
    old = NSM.BoussinesqNonlinear(ns, d, jnp.asarray(1.5), box).on_spectrum(0.0, z)
    old = np.stack(
        [
            T.forward(box.restrict(d.to_physical(old[0])), (T.SIN, T.SIN)),
            T.forward(box.restrict(d.to_physical(old[1])), (T.COS, T.COS)),
        ]
    )
    # The same sums in another order (FFTs of the box vs of the doubled grid), so
    # round-off: measured 3.6e-15 absolute against max|rhs| = 12; 1e-12 relative
    # leaves ~300x, while a wrong sign, shift or mask changes entries by O(1).
    scale = float(np.abs(old).max())
    assert scale > 1.0
    np.testing.assert_allclose(new, old, atol=1e-12 * scale)


def _doubled_reference(ns, g, smoke0, omega0, t1, num_saves, stepping, discard=0):
    """The former solver: the mirrored fields stepped on the doubled periodic grid."""
    box = FS.FreeSlipBox(g)
    d = box.doubled
    fractions = _save_fractions(num_saves, discard)
    t1 = jnp.asarray(t1, dtype=float)
    linear = DiagonalLinearField(t1 * ns.linear_symbol(d))
    nonlinear = NSM.BoussinesqNonlinear(ns, d, t1, box)
    terms = diffrax.MultiTerm(diffrax.ODETerm(nonlinear), diffrax.ODETerm(linear))
    y0 = pack(
        jnp.stack(
            [
                d.to_spectral(box.extend(omega0, FS.VORTICITY_PARITY)),
                d.to_spectral(box.extend(smoke0, FS.SMOKE_PARITY)),
            ]
        )
    )
    ys, result, steps = integrate(terms, y0, fractions, discard, stepping)
    return NSM._solution(ns, box, d, t1, fractions, ys, result, steps)


def _plume():
    box, x, y = _box((16, 16), (8.0, 8.0))
    ns = S.NavierStokes2d(0.02, 0.02, 0.5)
    s0 = S.sample_smoke(
        jax.random.key(3), box.box, correlation_length=1.0, boundary="free-slip"
    )
    om0 = 0.2 * np.sin(np.pi * x / 8.0) * np.sin(2 * np.pi * y / 8.0)
    return box.box, ns, s0, om0


FIELDS = ("smoke", "vx", "vy", "vorticity", "pressure")


def test_box_solver_matches_doubled_domain_adaptive():
    # Default adaptive Tsit5: the error control sees the doubled coefficients, so
    # both take the same steps and differ by round-off, amplified over the run.
    g, ns, s0, om0 = _plume()
    new = S.solve_navier_stokes(ns, g, s0, 8.0, 5, vorticity0=om0, boundary="free-slip")
    ref = _doubled_reference(ns, g, s0, om0, 8.0, 5, NSM.DEFAULT_NS_STEPPING)
    assert int(new.status) == int(ref.status) == 0
    assert int(new.num_steps) == int(ref.num_steps)
    # Measured: the same 26 steps, max difference 4.6e-15 relative (vorticity);
    # round-off of the two transform paths, carried by 26 steps of a smooth flow.
    # A step taken differently would show at the solver tolerance (1e-6..1e-8):
    # 1e-11 separates the two.
    for name in FIELDS:
        a, b = np.asarray(getattr(new, name)), np.asarray(getattr(ref, name))
        assert np.abs(a - b).max() <= 1e-11 * np.abs(b).max(), name
    assert float(np.abs(np.asarray(new.vy[-1])).max()) > 1e-2  # a flow developed


def test_box_solver_matches_doubled_domain_etdrk4():
    # Fixed-step ETDRK4 runs on the packed (complex) state: the same steps by
    # construction, same exponential coefficients per mode.
    g, ns, s0, om0 = _plume()
    stepping = S.FixedStepETDRK4(steps_per_save=4)
    new = S.solve_navier_stokes(
        ns, g, s0, 8.0, 5, vorticity0=om0, stepping=stepping, boundary="free-slip"
    )
    ref = _doubled_reference(ns, g, s0, om0, 8.0, 5, stepping)
    assert int(new.status) == int(ref.status) == 0
    # 16 steps, round-off only: measured 1.1e-15 relative; 1e-11 as above.
    for name in FIELDS:
        a, b = np.asarray(getattr(new, name)), np.asarray(getattr(ref, name))
        assert np.abs(a - b).max() <= 1e-11 * np.abs(b).max(), name


@pytest.mark.slow  # ~30 s of compilation for a path the recipes do not use
def test_box_solver_matches_doubled_domain_imex():
    # IMEX KenCarp4 (the `Adaptive()` default) also runs on the packed state; its
    # implicit solve divides mode by mode (SpectralDiagonal) there.
    g, ns, s0, om0 = _plume()
    stepping = S.Adaptive(rtol=1e-6, atol=1e-8)
    new = S.solve_navier_stokes(
        ns, g, s0, 8.0, 5, vorticity0=om0, stepping=stepping, boundary="free-slip"
    )
    ref = _doubled_reference(ns, g, s0, om0, 8.0, 5, stepping)
    assert int(new.status) == int(ref.status) == 0
    assert int(new.num_steps) == int(ref.num_steps)
    # Measured: the same 35 steps, 8.4e-16 relative; 1e-11 as above.
    for name in FIELDS:
        a, b = np.asarray(getattr(new, name)), np.asarray(getattr(ref, name))
        assert np.abs(a - b).max() <= 1e-11 * np.abs(b).max(), name
