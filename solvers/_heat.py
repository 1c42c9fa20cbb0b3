import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Complex, Float

from ._grid import Grid1d
from ._pde_base import AbstractSemilinearPDE
from ._validation import check_positive


class Heat(AbstractSemilinearPDE):
    """Heat equation $u_t = \\nu u_{xx}$ (linear: the exponential integrator is exact)."""

    viscosity: Float[Array, "*batch"]

    def __init__(self, viscosity: ArrayLike = 0.01):
        self.viscosity = jnp.asarray(viscosity, dtype=float)
        check_positive("viscosity", self.viscosity)

    def linear_symbol(self, grid: Grid1d) -> Complex[Array, " modes"]:
        return self.viscosity * grid.derivative(2)

    def nonlinear(self, u_hat, grid):
        return jnp.zeros_like(u_hat)
