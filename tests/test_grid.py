import jax.numpy as jnp
import numpy as np
import pytest

from pdessl.solvers import Grid1d, Grid2d

# Spectral differentiation of a resolved trigonometric polynomial is exact up to the
# round-off of two FFTs: ~N * eps * |k|^p, far below 1e-10 for these sizes.
ROUNDOFF = 1e-10


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_derivative_of_resolved_mode_is_exact(order):
    grid = Grid1d(64, 7.0)
    k = 2 * np.pi * 5 / 7.0
    x = np.asarray(grid.x)
    u = np.sin(k * x + 0.3)
    du = grid.to_physical(grid.derivative(order) * grid.to_spectral(u))
    expected = k**order * np.sin(k * x + 0.3 + order * np.pi / 2)
    np.testing.assert_allclose(du, expected, atol=ROUNDOFF * k**order)


def test_odd_derivative_drops_nyquist():
    grid = Grid1d(16, 2 * np.pi)
    nyquist = np.cos(8 * np.asarray(grid.x))  # the Nyquist mode of a 16-point grid
    du = grid.to_physical(grid.derivative(1) * grid.to_spectral(nyquist))
    np.testing.assert_allclose(du, 0.0, atol=ROUNDOFF)


def test_orthonormal_round_trip_and_parseval():
    grid = Grid1d(32, 3.0)
    u = np.random.default_rng(0).standard_normal(32)
    u_hat = grid.to_spectral(u)
    np.testing.assert_allclose(grid.to_physical(u_hat), u, atol=ROUNDOFF)
    # rfft half-spectrum: interior modes count twice in Parseval.
    weights = np.full(17, 2.0)
    weights[[0, -1]] = 1.0
    np.testing.assert_allclose(np.sum(weights * np.abs(u_hat) ** 2), np.sum(u**2))


def test_dealias_mask_keeps_modes_below_a_third():
    grid = Grid1d(96)
    kept = np.flatnonzero(np.asarray(grid.dealias_mask))
    assert kept.max() == 31  # 3 * 31 < 96 <= 3 * 32


@pytest.mark.parametrize("bad", [0, 3, 7])
def test_grid_rejects_bad_sizes(bad):
    with pytest.raises(ValueError, match="even integer"):
        Grid1d(bad)


def test_grid_rejects_fractional_size():
    # A TypeError when runtime type checking (jaxtyping) is on, else our ValueError.
    with pytest.raises((ValueError, TypeError)):
        Grid1d(2.5)


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan])
def test_grid_rejects_bad_lengths(bad):
    with pytest.raises(ValueError, match="length"):
        Grid1d(16, bad)


def test_grid2d_mixed_derivative_is_exact():
    grid = Grid2d((32, 16), (4.0, 2.0))
    x, y = (np.asarray(a) for a in grid.xy)
    kx, ky = 2 * np.pi * 3 / 4.0, 2 * np.pi * 2 / 2.0
    u = np.sin(kx * x) * np.cos(ky * y)
    d = grid.to_physical(grid.derivative((1, 1)) * grid.to_spectral(u))
    # A resolved mode: only the FFT pair's round-off, eps log N times kx ky (~30)
    # ~ 1e-13; measured 1.4e-13, so 1e-11 leaves a factor 70.
    np.testing.assert_allclose(
        d, -kx * ky * np.cos(kx * x) * np.sin(ky * y), rtol=0, atol=1e-11
    )
    assert grid.dealias_mask.shape == grid.spectral_shape == (32, 9)
    assert jnp.isclose(grid.dy, 2.0 / 16)
