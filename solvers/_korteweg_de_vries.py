from jaxtyping import Array, Complex

from ._grid import Grid1d
from ._pde_base import AbstractSemilinearPDE, convection


class KortewegDeVries(AbstractSemilinearPDE):
    """Korteweg–de Vries equation $u_t + u u_x + u_{xxx} = 0$.

    Convention of LPSDA and the paper (unit coefficients). It maps to the other common
    form $v_t + 6 v v_x + v_{xxx} = 0$ by $u = 6 v$; its one-soliton is
    $u = 3c\\,\\mathrm{sech}^2(\\tfrac{\\sqrt c}{2}(x - ct - x_0))$ (`kdv_soliton`).
    The linear part $-\\partial_x^3$ is purely dispersive: its symbol $i k^3$ is
    imaginary, which is why the exponential integrator uses complex coefficients.
    """

    def linear_symbol(self, grid: Grid1d) -> Complex[Array, " modes"]:
        return -grid.derivative(3)

    def nonlinear(self, u_hat, grid):
        return convection(u_hat, grid)
