"""Diffrax terms for semilinear PDEs on a real-valued spectral state.

Diffrax's support for complex states is incomplete, so the state handed to Diffrax is
the orthonormal real-FFT coefficients with real and imaginary parts stacked on a
leading axis of size 2. Orthonormal scaling makes `rtol`/`atol` of adaptive solvers
mean (nearly) the same as in physical space, by Parseval.
"""

import diffrax
import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Complex, Float

from ._grid import Grid1d
from ._pde_base import AbstractSemilinearPDE


def pack(z: Complex[Array, "*modes"]) -> Float[Array, "2 ..."]:
    return jnp.stack([z.real, z.imag])


def unpack(y: Float[Array, "2 ..."]) -> Complex[Array, "*modes"]:
    return y[0] + 1j * y[1]


class DiagonalLinearField(eqx.Module):
    """The vector field $y \\mapsto \\Lambda y$ with $\\Lambda$ complex and diagonal in
    Fourier space. Exponential integrators and the diagonal implicit solve read
    `eigenvalues` directly."""

    # Stored packed (real, imag): Diffrax warns on complex leaves in its terms.
    packed_eigenvalues: Float[Array, "2 ..."]

    def __init__(self, eigenvalues: Complex[Array, "*modes"]):
        self.packed_eigenvalues = pack(jnp.asarray(eigenvalues, dtype=complex))

    @property
    def eigenvalues(self) -> Complex[Array, "*modes"]:
        return unpack(self.packed_eigenvalues)

    def __call__(self, t, y, args):
        return pack(self.eigenvalues * unpack(y))


class NonlinearField(eqx.Module):
    """The nonlinear part of a semilinear PDE, times a time scale (for integration in
    normalised time $\\tau = t / T$)."""

    pde: AbstractSemilinearPDE
    grid: Grid1d
    time_scale: Float[Array, ""]

    def __call__(self, t, y, args):
        return pack(self.on_spectrum(t, unpack(y)))

    def on_spectrum(self, t, z: Complex[Array, "*modes"]) -> Complex[Array, "*modes"]:
        """The same vector field on complex coefficients, for solvers that work in
        complex arithmetic internally (ETDRK4) and would otherwise pack and unpack
        the state around every evaluation."""
        return self.time_scale * self.pde.nonlinear(z, self.grid)


def semilinear_terms(
    pde: AbstractSemilinearPDE, grid: Grid1d, time_scale=1.0
) -> diffrax.MultiTerm:
    """`MultiTerm(nonlinear, linear)`: explicit term first, implicit/exponential term
    second, the order Diffrax's IMEX solvers (KenCarp) expect."""
    time_scale = jnp.asarray(time_scale, dtype=float)
    linear = DiagonalLinearField(time_scale * pde.linear_symbol(grid))
    nonlinear = NonlinearField(pde, grid, time_scale)
    return diffrax.MultiTerm(diffrax.ODETerm(nonlinear), diffrax.ODETerm(linear))
