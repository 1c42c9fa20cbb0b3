"""Fourth-order exponential time differencing Runge–Kutta (ETDRK4) as a Diffrax solver.

Cox & Matthews (2002), "Exponential time differencing for stiff systems", with the
coefficients evaluated by the contour-integral method of Kassam & Trefethen (2005).
The coefficients are complex and kept complex: dispersive operators (KdV's $i k^3$)
have imaginary eigenvalues, and dropping the imaginary part of the coefficients
silently reduces the scheme to first order.
"""

from typing import ClassVar

import diffrax
import equinox as eqx
import jax.numpy as jnp
from diffrax import LocalLinearInterpolation, MultiTerm, ODETerm
from jaxtyping import Array, ArrayLike, Complex, Float, Inexact

from ._terms import DiagonalLinearField, NonlinearField, pack, unpack


class ETDRK4Coefficients(eqx.Module):
    """Step-size dependent coefficients, each multiplying a spectral state."""

    exp_full: Complex[Array, "*modes"]
    exp_half: Complex[Array, "*modes"]
    q: Complex[Array, "*modes"]
    f1: Complex[Array, "*modes"]
    f2: Complex[Array, "*modes"]
    f3: Complex[Array, "*modes"]


def etdrk4_coefficients(
    eigenvalues: Inexact[ArrayLike, "*modes"],
    step_size: float | Float[ArrayLike, ""],
    num_contour_points: int = 32,
) -> ETDRK4Coefficients:
    """Coefficients of Cox–Matthews ETDRK4 for $y' = \\Lambda y + N(y)$, step $h$.

    With $z = h\\lambda$ (Kassam & Trefethen 2005, eq. 2.5 and the text below it):
    $Q = h\\,(e^{z/2}-1)/z$,
    $f_1 = h\\,(-4 - z + e^z(4 - 3z + z^2))/z^3$,
    $f_2 = h\\,(2 + z + e^z(z - 2))/z^3$,
    $f_3 = h\\,(-4 - 3z - z^2 + e^z(4 - z))/z^3$.
    These suffer cancellation for small $|z|$; each is averaged over a circle of radius
    one around $z$ in the complex plane (the functions are entire, so the trapezoidal
    rule on the circle converges geometrically). The whole circle is used, not the
    upper half that suffices for real $z$, because $z$ is complex here.
    """
    if num_contour_points < 2 or num_contour_points % 2:
        # With an odd count a node can land on r = 0 (e.g. z = 1), where the
        # formulas divide by zero; even counts keep >= 0.098 away for real |z| <= 1.
        raise ValueError(
            f"num_contour_points must be even and >= 2, got {num_contour_points}."
        )
    h = step_size
    z = (h * jnp.asarray(eigenvalues)).astype(complex)
    theta = (
        2
        * jnp.pi
        * (jnp.arange(num_contour_points, dtype=float) + 0.5)
        / num_contour_points
    )
    r = z[..., None] + jnp.exp(1j * theta).reshape((1,) * z.ndim + (-1,))
    er = jnp.exp(r)

    def mean(f):
        return jnp.mean(f, axis=-1)

    return ETDRK4Coefficients(
        exp_full=jnp.exp(z),
        exp_half=jnp.exp(z / 2),
        q=h * mean((jnp.exp(r / 2) - 1) / r),
        f1=h * mean((-4 - r + er * (4 - 3 * r + r**2)) / r**3),
        f2=h * mean((2 + r + er * (r - 2)) / r**3),
        f3=h * mean((-4 - 3 * r - r**2 + er * (4 - r)) / r**3),
    )


def _unwrap(term) -> tuple:
    """(direction, vector field) of an `ODETerm`, looking through the `WrapTerm` that
    `diffeqsolve` puts around terms to integrate in either direction of time."""
    direction = 1
    # Diffrax's `WrapTerm` is private; recognise it by its two fields.
    while hasattr(term, "term") and hasattr(term, "direction"):
        direction = direction * term.direction
        term = term.term
    return direction, term.vector_field


class ETDRK4(diffrax.AbstractSolver):
    """Fixed-step ETDRK4 for `MultiTerm(ODETerm(N), ODETerm(DiagonalLinearField))`.

    The coefficients depend on the step size, so they are computed once in `init` for
    `step_size` and reused every step (computing them per step is ~5x slower). Use it
    with `diffrax.ConstantStepSize` and `dt0=step_size`, or `diffrax.StepTo` on a
    uniform grid of that spacing. A step of another size is reported as
    `RESULTS.internal_error` instead of being taken with wrong coefficients.

    **Arguments:**

    - `step_size`: the step $h$ in the integration variable.
    - `num_contour_points`: points on the contour for the coefficients.
    """

    step_size: float
    num_contour_points: int = eqx.field(static=True, default=32)

    term_structure: ClassVar = MultiTerm[tuple[ODETerm, ODETerm]]
    interpolation_cls: ClassVar = LocalLinearInterpolation

    def order(self, terms):
        return 4

    def init(self, terms, t0, t1, y0, args) -> ETDRK4Coefficients:
        direction, linear = _unwrap(terms.terms[1])
        if not isinstance(linear, DiagonalLinearField):
            raise TypeError(
                "ETDRK4 needs the second term to be ODETerm(DiagonalLinearField(...)); "
                "build the terms with pdessl.solvers.semilinear_terms."
            )
        return etdrk4_coefficients(
            direction * linear.eigenvalues, self.step_size, self.num_contour_points
        )

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        c = solver_state
        direction, nonlinear = _unwrap(terms.terms[0])
        th = t0 + 0.5 * (t1 - t0)

        if isinstance(nonlinear, NonlinearField):

            def n(t, v):
                return direction * nonlinear.on_spectrum(direction * t, v)

        else:

            def n(t, v):
                return direction * unpack(nonlinear(direction * t, pack(v), args))

        v = unpack(y0)
        nv = n(t0, v)
        a = c.exp_half * v + c.q * nv
        na = n(th, a)
        b = c.exp_half * v + c.q * na
        nb = n(th, b)
        cc = c.exp_half * a + c.q * (2 * nb - nv)
        nc = n(t1, cc)
        v1 = c.exp_full * v + c.f1 * nv + 2 * c.f2 * (na + nb) + c.f3 * nc
        y1 = pack(v1)
        # The coefficients were built for `step_size`; anything else is a misuse.
        # Tolerance at the dtype's round-off of t (t ~ 1 in normalised time): float32
        # step times carry ~6e-8 relative error, float64 ~1e-16.
        tol = 100 * jnp.finfo(jnp.result_type(t1)).eps * jnp.maximum(1.0, jnp.abs(t1))
        mismatch = jnp.abs((t1 - t0) - self.step_size) > tol
        result = diffrax.RESULTS.where(
            mismatch, diffrax.RESULTS.internal_error, diffrax.RESULTS.successful
        )
        return y1, None, dict(y0=y0, y1=y1), solver_state, result

    def func(self, terms, t0, y0, args):
        return terms.vf(t0, y0, args)
