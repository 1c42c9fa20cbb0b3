import numpy as np
import pytest

from pdessl.solvers import etdrk4_coefficients


def _direct(z, h):
    # Closed forms, accurate where |z| is large enough that cancellation is mild.
    ez = np.exp(z)
    return dict(
        q=h * (np.exp(z / 2) - 1) / z,
        f1=h * (-4 - z + ez * (4 - 3 * z + z**2)) / z**3,
        f2=h * (2 + z + ez * (z - 2)) / z**3,
        f3=h * (-4 - 3 * z - z**2 + ez * (4 - z)) / z**3,
    )


def _taylor(z, h, terms=30):
    # phi_n(z) = sum_m z^m / (m + n)!; f1 = h(phi_1 - 3 phi_2 + 4 phi_3),
    # f2 = h(phi_2 - 2 phi_3), f3 = h(4 phi_3 - phi_2), q = h/2 phi_1(z/2).
    from math import factorial

    def phi(n, w):
        return sum(w**m / factorial(m + n) for m in range(terms))

    return dict(
        q=h / 2 * phi(1, z / 2),
        f1=h * (phi(1, z) - 3 * phi(2, z) + 4 * phi(3, z)),
        f2=h * (phi(2, z) - 2 * phi(3, z)),
        f3=h * (4 * phi(3, z) - phi(2, z)),
    )


@pytest.mark.parametrize(
    "eigenvalue", [-50.0, -300.0 + 0j, 40j, -40j, -20.0 + 35j, 7.0 + 2j]
)
def test_contour_matches_closed_form_for_large_arguments(eigenvalue):
    h = 0.5
    c = etdrk4_coefficients(np.array([eigenvalue]), h, 64)
    ref = _direct(np.complex128(eigenvalue * h), h)
    for name, value in ref.items():
        # |z| >= 3.5 here: the closed form loses at most ~|z|^-3 * eps * e^|Re z|
        # digits; 1e-10 relative leaves room for that and the contour's error.
        np.testing.assert_allclose(getattr(c, name)[0], value, rtol=1e-10)


@pytest.mark.parametrize("eigenvalue", [1e-8, -1e-3 + 0j, 0.3j, -0.2 - 0.4j, 0.0])
def test_contour_matches_taylor_series_near_zero(eigenvalue):
    h = 1.0
    c = etdrk4_coefficients(np.array([eigenvalue]), h, 32)
    ref = _taylor(np.complex128(eigenvalue * h), h)
    for name, value in ref.items():
        # Taylor series with 30 terms is exact to round-off for |z| < 1; the contour
        # rule with 32 points converges geometrically: 1e-13 is a few ulps above eps.
        np.testing.assert_allclose(getattr(c, name)[0], value, rtol=1e-13)


def test_imaginary_part_is_kept_for_dispersive_eigenvalues():
    c = etdrk4_coefficients(np.array([3j]), 1.0)
    assert abs(c.f1[0].imag) > 1e-2
