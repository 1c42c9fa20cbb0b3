"""PDE residual of a 1-D trajectory on a uniform grid, to check augmentations.

Space derivatives are spectral (the solver's own operators on a grid of the field's
length); the time derivative is the fourth-order central difference
$(-u_{i+2} + 8u_{i+1} - 8u_{i-1} + u_{i-2}) / 12\\Delta t$ on interior frames. The
residual is reported relative to $\\|u_t\\|$, which makes it invariant under the
scalings (every term scales alike).
"""

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from pdessl.solvers import AbstractSemilinearPDE, Grid1d

from ._regrid import GridField1d


def relative_residual(
    pde: AbstractSemilinearPDE, field: GridField1d
) -> Float[Array, ""]:
    """$\\|u_t - \\mathcal{L}u - \\mathcal{N}(u)\\| / \\|u_t\\|$ over interior frames."""
    nt, nx = field.u.shape
    if nt < 5:
        raise ValueError(f"need >= 5 frames for the time derivative, got {nt}.")
    grid = Grid1d(nx, field.length)
    u = field.u
    u_t = (-u[4:] + 8 * u[3:-1] - 8 * u[1:-3] + u[:-4]) / (12 * field.dt)

    def rhs(row):
        row_hat = grid.to_spectral(row)
        out = pde.linear_symbol(grid) * row_hat + pde.nonlinear(row_hat, grid)
        return grid.to_physical(out)

    r = u_t - jax.vmap(rhs)(u[2:-2])
    return jnp.linalg.norm(r) / jnp.linalg.norm(u_t)
