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


def relative_residual_ns(
    field, viscosity, *, buoyancy=0.0, diffusivity=0.0
) -> Float[Array, ""]:
    """Largest relative residual of the incompressible Navier–Stokes momentum
    equations (with buoyancy `b s` along +y when the smoke `s` is present), the smoke
    equation and the divergence, for a periodic `GridField2d` with pressure `p`.
    Each residual is relative to the sum of the norms of its equation's terms (one
    scale for both momentum components)."""
    v = field.values
    _, nx, ny = field.shape
    kx = 2 * jnp.pi * jnp.fft.fftfreq(nx, d=field.dx)[:, None]
    ky = 2 * jnp.pi * jnp.fft.rfftfreq(ny, d=field.dy)[None, :]

    def deriv(f, px, py):
        f_hat = jnp.fft.rfft2(f, axes=(-2, -1))
        sym = (1j * kx) ** px * (1j * ky) ** py
        return jnp.fft.irfft2(f_hat * sym[None], s=(nx, ny), axes=(-2, -1))

    def dt4(f):
        return (-f[4:] + 8 * f[3:-1] - 8 * f[1:-3] + f[:-4]) / (12 * field.dt)

    mid = {k: a[2:-2] for k, a in v.items()}
    vx, vy = mid["vx"], mid["vy"]

    def lap(f):
        return deriv(f, 2, 0) + deriv(f, 0, 2)

    def adv(f):
        return vx * deriv(f, 1, 0) + vy * deriv(f, 0, 1)

    def size(terms):
        return sum(jnp.linalg.norm(t) for t in terms)

    force = -buoyancy * mid["s"] if "s" in mid else jnp.zeros_like(vy)
    from ._fields import pressure_gradient as _gradient

    g = _gradient(field)[2:-2, :, None, None]
    px = deriv(mid["p"], 1, 0) + g[:, 0]
    py = deriv(mid["p"], 0, 1) + g[:, 1]
    mom_x = (dt4(v["vx"]), adv(vx), px, -viscosity * lap(vx))
    mom_y = (dt4(v["vy"]), adv(vy), py, -viscosity * lap(vy), force)
    # Both momentum components share one scale, so a component whose terms all vanish
    # (a flow along y only) is not judged by the ratio of two round-off errors.
    momentum = size(mom_x) + size(mom_y)
    gradient = size([deriv(f, a, 1 - a) for f in (vx, vy) for a in (0, 1)])
    out = [
        jnp.linalg.norm(sum(mom_x)) / momentum,
        jnp.linalg.norm(sum(mom_y)) / momentum,
        jnp.linalg.norm(deriv(vx, 1, 0) + deriv(vy, 0, 1)) / gradient,
    ]
    if "s" in mid:
        smoke = (dt4(v["s"]), adv(mid["s"]), -diffusivity * lap(mid["s"]))
        out.append(jnp.linalg.norm(sum(smoke)) / size(smoke))
    return jnp.max(jnp.stack(out))
