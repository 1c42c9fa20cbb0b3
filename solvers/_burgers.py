import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Complex, Float

from ._grid import Grid1d
from ._pde_base import AbstractSemilinearPDE, convection
from ._validation import check_positive


class Burgers(AbstractSemilinearPDE):
    """Viscous Burgers equation in velocity form, $u_t + u u_x = \\nu u_{xx}$.

    `u` is the textbook velocity; it relates to a heat solution $\\psi$
    ($\\psi_t = \\nu \\psi_{xx}$) by Cole–Hopf, $u = -2\\nu\\,\\partial_x \\log\\psi$
    (see `cole_hopf_burgers`).
    """

    viscosity: Float[Array, "*batch"]  # a scalar, or one per sample for solve_batch

    def __init__(self, viscosity: ArrayLike = 0.01):
        self.viscosity = jnp.asarray(viscosity, dtype=float)
        check_positive("viscosity", self.viscosity)

    def linear_symbol(self, grid: Grid1d) -> Complex[Array, " modes"]:
        return self.viscosity * grid.derivative(2)

    def nonlinear(self, u_hat, grid):
        return convection(u_hat, grid)
