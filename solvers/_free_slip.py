r"""A closed free-slip box as a symmetric subspace of a doubled periodic domain.

On the box $[0, L_x] \times [0, L_y]$ with no-penetration, stress-free walls the
streamfunction and the vorticity vanish on every wall, so both are sine series in $x$
and in $y$; smoke with no flux through the walls is a cosine series in $x$ and $y$.
Reflecting the box about its walls gives the periodic domain
$[0, 2L_x) \times [0, 2L_y)$ on which these series are ordinary Fourier series of
fields that are odd (sine) or even (cosine) about every wall. The box holds
$n_x \times n_y$ cell centres $((i + \tfrac12)\,\Delta x, (j + \tfrac12)\,\Delta y)$;
reflection about a wall maps cell centres onto cell centres, so the doubled field is
the box array followed by its mirror image, and the periodic spectral machinery
(`Grid2d` with $2n_x \times 2n_y$ points, whose point $i$ is the cell centre $i$)
applies unchanged. The sine/cosine series are the discrete sine/cosine transforms of
type II; computing them through the doubled FFT costs about four times a DST/DCT of
the box, and reuses the tested periodic operators as they are.
"""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Complex, Float

from ._grid import Grid2d

# Parities (x, y): +1 even (cosine series), -1 odd (sine series) about the walls.
VORTICITY_PARITY = (-1, -1)
SMOKE_PARITY = (1, 1)
VX_PARITY = (-1, 1)
VY_PARITY = (1, -1)


class FreeSlipBox(eqx.Module):
    """The box `box` (its `num_points` are cell centres on `[0, Lx] x [0, Ly]`) and
    the doubled periodic grid that carries its sine and cosine series."""

    box: Grid2d
    doubled: Grid2d

    def __init__(self, box: Grid2d):
        nx, ny = box.num_points
        self.box = box
        self.doubled = Grid2d((2 * nx, 2 * ny), 2 * box.length)

    def extend(
        self, f: Float[ArrayLike, "x y"], parity: tuple[int, int]
    ) -> Float[Array, "x2 y2"]:
        """The doubled field: `f` followed by its mirror image times the parity, along
        x and then y (index $2n - 1 - i$ is the reflection of cell centre $i$)."""
        px, py = parity
        f = jnp.asarray(f, dtype=float)
        f = jnp.concatenate([f, px * f[::-1, :]], axis=0)
        return jnp.concatenate([f, py * f[:, ::-1]], axis=1)

    def restrict(self, f: Float[Array, "x2 y2"]) -> Float[Array, "x y"]:
        nx, ny = self.box.num_points
        return f[:nx, :ny]

    def project(
        self, f_hat: Complex[Array, "kx ky"], parity: tuple[int, int]
    ) -> Complex[Array, "kx ky"]:
        r"""Orthogonal projection of doubled-grid coefficients onto fields of the given
        parity, $(1 + p_x R_x)(1 + p_y R_y)/4$. For the real FFT (index $m$ of $2n$
        points) a reflection about the wall at $-\Delta x / 2$ reads
        $\widehat{R_x f}(m, l) = e^{i\pi m/n_x} \hat f(-m, l)$ and
        $\widehat{R_y f}(m, l) = e^{i\pi l/n_y}\, \overline{\hat f(-m, l)}$ (real $f$)."""
        nx, ny = self.box.num_points
        m = np.arange(2 * nx)[:, None]
        lm = np.arange(ny + 1)[None, :]
        neg = (-np.arange(2 * nx)) % (2 * nx)  # index of -m
        phase_x = jnp.asarray(np.exp(1j * np.pi * m / nx))
        phase_y = jnp.asarray(np.exp(1j * np.pi * lm / ny))
        px, py = parity
        f_hat = 0.5 * (f_hat + px * phase_x * f_hat[neg, :])
        return 0.5 * (f_hat + py * phase_y * jnp.conj(f_hat[neg, :]))

    def odd_in_y(self, f: Float[Array, "x2 y2"]) -> Float[Array, "x2 y2"]:
        r"""A field even in $y$ (a cosine series) re-expanded in sines of $y$: its box
        values are kept and extended oddly, i.e. the doubled field times
        $\operatorname{sign}(y)$. On the box this is the sine interpolant of the
        cell-centre values, the pseudo-spectral form of the $L^2(0, L_y)$ projection
        onto $\sin(n\pi y / L_y)$. The odd extension jumps at the walls where $f \ne 0$,
        so its series converges slowly there (Gibbs, coefficients $\sim 1/n$)."""
        ny = self.box.num_points[1]
        sign = jnp.concatenate([jnp.ones(ny), -jnp.ones(ny)])
        return f * sign[None, :]
