import jax
import numpy as np
import pytest

from pdessl.solvers import (
    Grid1d,
    TrigonometricHeatSolution,
    sample_heat_cole_hopf,
    sample_sine_series,
)


def test_sine_series_is_deterministic_and_follows_lpsda_ranges():
    grid = Grid1d(128, 64.0)
    a = sample_sine_series(jax.random.key(7))
    b = sample_sine_series(jax.random.key(7))
    c = sample_sine_series(jax.random.key(8))
    np.testing.assert_array_equal(a(grid), b(grid))
    assert not np.allclose(a(grid), c(grid))
    assert a.amplitudes.shape == (10,)
    assert np.all(np.abs(a.amplitudes) <= 0.5)
    assert set(np.asarray(a.wavenumbers).tolist()) <= {1, 2}
    assert np.all((a.phases >= 0) & (a.phases <= 2 * np.pi))
    # Integer wavenumbers >= 1 on the grid's own period: zero mean to round-off.
    assert abs(float(np.mean(a(grid)))) < 1e-14


def test_sine_series_matches_its_formula():
    grid = Grid1d(16, 3.0)
    s = sample_sine_series(jax.random.key(1), num_modes=2)
    x = np.asarray(grid.x)
    expected = sum(
        float(s.amplitudes[j])
        * np.sin(2 * np.pi * int(s.wavenumbers[j]) * x / 3.0 + float(s.phases[j]))
        for j in range(2)
    )
    np.testing.assert_allclose(s(grid), expected, atol=1e-14)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(num_modes=0),
        dict(min_wavenumber=2, max_wavenumber=2),
        dict(max_amplitude=-1.0),
    ],
)
def test_sine_series_rejects_bad_settings(kwargs):
    with pytest.raises(ValueError):
        sample_sine_series(jax.random.key(0), **kwargs)


def test_cole_hopf_heat_field_is_positive_and_solves_heat():
    heat = sample_heat_cole_hopf(jax.random.key(3), 0.05, 2 * np.pi)
    x = np.linspace(0, 2 * np.pi, 200)
    for t in (0.0, 0.5, 5.0):
        assert np.all(np.asarray(heat.psi(x, t)) > 0)
    # psi_t = nu psi_xx checked by finite differences (O(h^2) ~ 1e-8 at h = 1e-4).
    h, t = 1e-4, 0.3
    psi_t = (heat.psi(x, t + h) - heat.psi(x, t - h)) / (2 * h)
    psi_xx = (heat.psi_x(x + h, t) - heat.psi_x(x - h, t)) / (2 * h)
    np.testing.assert_allclose(psi_t, 0.05 * psi_xx, atol=1e-6)


def test_heat_solution_rejects_a_field_that_can_vanish():
    with pytest.raises(ValueError, match="psi > 0"):
        TrigonometricHeatSolution(1.0, [0.8], [0.5], [1], 0.1, 1.0)
