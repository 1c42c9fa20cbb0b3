"""Semilinear PDEs $u_t = \\mathcal{L} u + \\mathcal{N}(u)$ with diagonal $\\mathcal{L}$."""

import abc

import equinox as eqx
from jaxtyping import Array, Complex

from ._grid import Grid1d


class AbstractSemilinearPDE(eqx.Module):
    """A PDE on a periodic grid split into a stiff linear part, diagonal in Fourier
    space, and a non-stiff nonlinear part.

    Physical parameters are array leaves (so a batch of PDEs with different
    viscosities is one `vmap` away); sizes are static.
    """

    @abc.abstractmethod
    def linear_symbol(self, grid: Grid1d) -> Complex[Array, " modes"]:
        """Eigenvalues $\\lambda(k)$ of $\\mathcal{L}$ on each Fourier mode."""

    @abc.abstractmethod
    def nonlinear(
        self, u_hat: Complex[Array, " modes"], grid: Grid1d
    ) -> Complex[Array, " modes"]:
        """$\\widehat{\\mathcal{N}(u)}$, dealiased."""


def convection(
    u_hat: Complex[Array, " modes"], grid: Grid1d
) -> Complex[Array, " modes"]:
    """Spectral form of $-u u_x = -\\tfrac12 (u^2)_x$, dealiased by the 2/3 rule.

    The conservative form keeps the $k=0$ coefficient exactly zero, so the spatial
    mean of $u$ is conserved to round-off.
    """
    mask = grid.dealias_mask
    u = grid.to_physical(u_hat * mask)
    u2_hat = grid.to_spectral(u * u) * mask
    return -0.5 * grid.derivative(1) * u2_hat
