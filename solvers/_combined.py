import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Complex, Float

from ._grid import Grid1d
from ._pde_base import AbstractSemilinearPDE, convection
from ._validation import check_nonnegative


class Combined(AbstractSemilinearPDE):
    """The combined equation of Brandstetter, Worrall & Welling (2022, "Message
    Passing Neural PDE Solvers"), unforced:
    $u_t + \\partial_x(\\alpha u^2 - \\beta u_x + \\gamma u_{xx}) = 0$, i.e.
    $u_t + 2\\alpha u u_x - \\beta u_{xx} + \\gamma u_{xxx} = 0$.

    Special cases in this package's conventions: $(\\alpha, \\beta, \\gamma) =
    (\\tfrac12, \\nu, 0)$ is `Burgers(nu)` ($u_t + u u_x = \\nu u_{xx}$);
    $(\\tfrac12, 0, 1)$ is `KortewegDeVries()` ($u_t + u u_x + u_{xxx} = 0$); the
    MP-PDE paper's KdV point $(3, 0, 1)$ is the textbook $v_t + 6 v v_x + v_{xxx} = 0$,
    whose solutions are $v = u / 6$.

    All three coefficients are array leaves (one per sample for `solve_batch`) and
    must be >= 0. A negative $\\beta$ is backward diffusion (ill-posed); negative
    $\\alpha$ or $\\gamma$ add nothing new: $u \\to -u$ flips the sign of $\\alpha$ and
    $x \\to -x$ flips both $\\alpha$ and $\\gamma$.
    """

    alpha: Float[Array, "*batch"]
    beta: Float[Array, "*batch"]
    gamma: Float[Array, "*batch"]

    def __init__(self, alpha: ArrayLike, beta: ArrayLike, gamma: ArrayLike):
        self.alpha = jnp.asarray(alpha, dtype=float)
        self.beta = jnp.asarray(beta, dtype=float)
        self.gamma = jnp.asarray(gamma, dtype=float)
        check_nonnegative("alpha", self.alpha)
        check_nonnegative("beta", self.beta)
        check_nonnegative("gamma", self.gamma)

    def linear_symbol(self, grid: Grid1d) -> Complex[Array, " modes"]:
        # u_t = beta u_xx - gamma u_xxx: diffusion (real, <= 0) plus dispersion
        # (imaginary; the Nyquist mode of the odd derivative is zeroed by the grid).
        return self.beta * grid.derivative(2) - self.gamma * grid.derivative(3)

    def nonlinear(self, u_hat, grid):
        # -alpha (u^2)_x = 2 alpha (-(1/2) (u^2)_x): the conservative, dealiased
        # convection term scaled, so the mean of u stays conserved to round-off.
        return 2 * self.alpha * convection(u_hat, grid)
