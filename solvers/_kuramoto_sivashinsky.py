from jaxtyping import Array, Complex

from ._grid import Grid1d
from ._pde_base import AbstractSemilinearPDE, convection


class KuramotoSivashinsky(AbstractSemilinearPDE):
    """Kuramoto–Sivashinsky equation $u_t + u u_x + u_{xx} + u_{xxxx} = 0$.

    The convention of LPSDA (Brandstetter et al. 2022) and of the paper; there are no
    physical parameters, the domain length (on the grid) sets the dynamics.
    """

    def linear_symbol(self, grid: Grid1d) -> Complex[Array, " modes"]:
        return -(grid.derivative(2) + grid.derivative(4))

    def nonlinear(self, u_hat, grid):
        return convection(u_hat, grid)
